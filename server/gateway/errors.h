#pragma once
// etcd's gateway errors: a gRPC code, the HTTP status the v1 gateway (etcd 3.4) maps it to, and
// the body {"error": msg, "message": msg, "code": N}.

#include <cstdint>
#include <stdexcept>
#include <string>

#include "../node/api_error.h"
#include "http_types.h"

namespace etcdlab::gateway {

// The errors are the node's (server/node/api_error.h): the gateway only maps them to HTTP.
using server::GrpcCode;
using GatewayError = server::ApiError;

// The HTTP status etcd 3.4's gateway answers for a gRPC code.
int http_status(GrpcCode code);

// The response for an error.
HttpResponse error_response(const GatewayError& e);

// The error that ends a stream once it has begun, as etcd 3.4's gateway (grpc-gateway v1)
// writes it: {"error":{"grpc_code":N,"http_code":S,"message":"...","http_status":"<Go's text
// for S>"}}, with no newline after it.
std::string stream_error(const GatewayError& e);

// The receive cap's margin over --max-request-bytes (etcd's grpcOverheadBytes).
using server::kGrpcOverheadBytes;

using server::rpctypes::kBadMemberUrls;
using server::rpctypes::kLeaseNotFound;
using server::rpctypes::kLearnerNotReady;
using server::rpctypes::kMemberNotFound;
using server::rpctypes::kNoLeader;
using server::rpctypes::kNoSpace;
using server::rpctypes::kNotEnoughStarted;
using server::rpctypes::kNotLearner;
using server::rpctypes::kPeerUrlExists;
using server::rpctypes::kRequestTimedOut;
using server::rpctypes::kRequestTooLarge;
using server::rpctypes::kTooManyLearners;
using server::rpctypes::kUnhealthy;

}  // namespace etcdlab::gateway
