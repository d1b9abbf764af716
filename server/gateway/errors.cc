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

namespace {

// Go's http.StatusText for the statuses http_status() gives.
const char* status_text(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 429: return "Too Many Requests";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Internal Server Error";
  }
}

}  // namespace

std::string stream_error(const GatewayError& e) {
  int status = http_status(e.code());
  boost::json::object error;
  error["grpc_code"] = static_cast<int>(e.code());
  error["http_code"] = status;
  error["message"] = e.what();
  error["http_status"] = status_text(status);
  boost::json::object line;
  line["error"] = std::move(error);
  return boost::json::serialize(line);
}

}  // namespace etcdlab::gateway
