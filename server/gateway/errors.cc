#include "errors.h"

#include <boost/json.hpp>

namespace etcdlab::gateway {

int http_status(GrpcCode code) {
  switch (code) {
    case GrpcCode::kOk: return 200;
    case GrpcCode::kAlreadyExists:
    case GrpcCode::kAborted: return 409;
    case GrpcCode::kInvalidArgument:
    case GrpcCode::kOutOfRange: return 400;
    case GrpcCode::kNotFound: return 404;
    case GrpcCode::kFailedPrecondition: return 412;
    case GrpcCode::kResourceExhausted: return 429;
    case GrpcCode::kUnavailable: return 503;
    case GrpcCode::kPermissionDenied: return 403;
    case GrpcCode::kUnauthenticated: return 401;
    case GrpcCode::kDeadlineExceeded: return 504;
    case GrpcCode::kCanceled: return 408;
    case GrpcCode::kUnimplemented: return 501;
    case GrpcCode::kUnknown:
    case GrpcCode::kInternal:
    case GrpcCode::kDataLoss: return 500;
  }
  return 500;
}

HttpResponse error_response(const GatewayError& e) {
  boost::json::object body;
  body["error"] = e.what();
  body["message"] = e.what();
  body["code"] = static_cast<int>(e.code());
  HttpResponse r;
  r.status = http_status(e.code());
  r.body = boost::json::serialize(body);
  return r;
}

}  // namespace etcdlab::gateway
