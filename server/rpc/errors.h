#pragma once
// etcd's errors for what the node answered, shared by both doors (the JSON gateway and the
// gRPC services): a failed result becomes the ApiError etcd's server would return, and a
// request too large for the log is refused before it is proposed.

#include "../gateway/service.h"
#include "../node/api_error.h"

namespace etcdlab::rpc {

using server::ApiError;
using server::GrpcCode;

using server::kGrpcOverheadBytes;

ApiError store_error(mvcc::MvccError::Code code);
ApiError lease_error(lease::LeaseError::Code code);
// Throws the error etcd answers for a failed result (store, lessor or node).
void check(const server::Result& r);
// etcd's size limit on a request that goes into the log (measured as it goes in): throws.
void check_request_size(gateway::KvService& s, const server::Request& request);

}  // namespace etcdlab::rpc
