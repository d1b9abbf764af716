#include "errors.h"

#include <fmt/format.h>

namespace etcdlab::rpc {

ApiError store_error(mvcc::MvccError::Code code) {
  using C = mvcc::MvccError::Code;
  GrpcCode g = (code == C::kCompacted || code == C::kFutureRevision) ? GrpcCode::kOutOfRange
                                                                      : GrpcCode::kInvalidArgument;
  return ApiError(g, mvcc::message_of(code));
}

ApiError lease_error(lease::LeaseError::Code code) {
  using C = lease::LeaseError::Code;
  GrpcCode g = code == C::kNotFound ? GrpcCode::kNotFound
               : code == C::kExists ? GrpcCode::kFailedPrecondition
                                    : GrpcCode::kOutOfRange;
  return ApiError(g, lease::message_of(code));
}

void check(const server::Result& r) {
  // An auth refusal comes first: a refused write did nothing else.
  if (r.auth_error) throw *r.auth_error;
  if (r.store_error) throw store_error(*r.store_error);
  if (r.lease_error) throw lease_error(*r.lease_error);
  if (r.error == server::RequestError::kNoSpace) {
    throw ApiError(GrpcCode::kResourceExhausted, server::rpctypes::kNoSpace);
  }
}

// As etcd (processInternalRaftRequestOnce): the limit is on the request as it goes into the
// log, not on its wire form (the JSON door's base64 makes that a third larger). Our encoding
// is within a few bytes of etcd's protobuf for the same request.
void check_request_size(gateway::KvService& s, const server::Request& request) {
  uint64_t size = server::encode_request(0, request).size();
  uint64_t cap = s.max_request_bytes() + kGrpcOverheadBytes;
  if (size > cap) {
    throw ApiError(GrpcCode::kResourceExhausted,
                   fmt::format("grpc: received message larger than max ({} vs. {})", size, cap));
  }
  if (size > s.max_request_bytes()) {
    throw ApiError(GrpcCode::kInvalidArgument, server::rpctypes::kRequestTooLarge);
  }
}

}  // namespace etcdlab::rpc
