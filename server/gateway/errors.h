#pragma once
// etcd's gateway errors: a gRPC code, the HTTP status the v1 gateway (etcd 3.4) maps it to, and
// the body {"error": msg, "message": msg, "code": N}.

#include <cstdint>
#include <stdexcept>
#include <string>

#include "http_types.h"

namespace etcdlab::gateway {

enum class GrpcCode {
  kCanceled = 1, kUnknown = 2, kInvalidArgument = 3, kDeadlineExceeded = 4, kNotFound = 5,
  kPermissionDenied = 7, kResourceExhausted = 8, kFailedPrecondition = 9, kOutOfRange = 11,
  kUnimplemented = 12, kInternal = 13, kUnavailable = 14, kDataLoss = 15, kUnauthenticated = 16,
};

// The HTTP status etcd 3.4's gateway answers for a gRPC code.
int http_status(GrpcCode code);

class GatewayError : public std::runtime_error {
 public:
  GatewayError(GrpcCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  GrpcCode code() const { return code_; }

 private:
  GrpcCode code_;
};

// The response for an error.
HttpResponse error_response(const GatewayError& e);

// etcd's gRPC server takes messages up to --max-request-bytes plus this much (its
// grpcOverheadBytes); a larger request is ResourceExhausted (HTTP 429), a smaller one over
// the limit is "request is too large" (400).
inline constexpr uint64_t kGrpcOverheadBytes = 512 * 1024;

// etcd's messages for the errors the server itself raises.
inline constexpr const char* kNoLeader = "etcdserver: no leader";
inline constexpr const char* kRequestTimedOut = "etcdserver: request timed out";
inline constexpr const char* kRequestTooLarge = "etcdserver: request is too large";
inline constexpr const char* kLeaseNotFound = "etcdserver: requested lease not found";
inline constexpr const char* kNoSpace = "etcdserver: mvcc: database space exceeded";
inline constexpr const char* kMemberNotFound = "etcdserver: member not found";
inline constexpr const char* kPeerUrlExists = "etcdserver: Peer URLs already exists";
inline constexpr const char* kBadMemberUrls = "etcdserver: given member URLs are invalid";
inline constexpr const char* kNotEnoughStarted =
    "etcdserver: re-configuration failed due to not enough started members";
inline constexpr const char* kUnhealthy = "etcdserver: unhealthy cluster";
inline constexpr const char* kTooManyLearners = "etcdserver: too many learner members in cluster";
inline constexpr const char* kNotLearner = "etcdserver: can only promote a learner member";
inline constexpr const char* kLearnerNotReady =
    "etcdserver: can only promote a learner member which is in sync with leader";

}  // namespace etcdlab::gateway
