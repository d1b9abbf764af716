// Shared by the gateway's handlers: errors, headers, key-values (handler_support.h).
#include "handler_support.h"

namespace etcdlab::gateway {

GatewayError store_error(mvcc::MvccError::Code code) {
  using C = mvcc::MvccError::Code;
  GrpcCode g = (code == C::kCompacted || code == C::kFutureRevision) ? GrpcCode::kOutOfRange
                                                                      : GrpcCode::kInvalidArgument;
  return GatewayError(g, mvcc::message_of(code));
}

GatewayError lease_error(lease::LeaseError::Code code) {
  using C = lease::LeaseError::Code;
  GrpcCode g = code == C::kNotFound ? GrpcCode::kNotFound
               : code == C::kExists ? GrpcCode::kFailedPrecondition
                                    : GrpcCode::kOutOfRange;
  return GatewayError(g, lease::message_of(code));
}

void check(const server::Result& r) {
  if (r.store_error) throw store_error(*r.store_error);
  if (r.lease_error) throw lease_error(*r.lease_error);
  if (r.error == server::RequestError::kNoSpace) {
    throw GatewayError(GrpcCode::kResourceExhausted, kNoSpace);
  }
}

std::string require_key(const json::object& body) {
  std::string key = get_bytes(body, "key");
  if (key.empty()) throw store_error(mvcc::MvccError::Code::kEmptyKey);
  return key;
}

json::object header(KvService& s, int64_t revision, bool with_revision) {
  json::object h;
  put_uint(h, "cluster_id", s.cluster_id());
  put_uint(h, "member_id", s.member_id());
  if (with_revision) put_int(h, "revision", revision);
  put_uint(h, "raft_term", s.raft_term());
  return h;
}

json::object kv_json(const mvcc::KeyValue& kv) {
  json::object o;
  put_bytes(o, "key", kv.key);
  put_int(o, "create_revision", kv.create_revision);
  put_int(o, "mod_revision", kv.mod_revision);
  put_int(o, "version", kv.version);
  put_bytes(o, "value", kv.value);
  put_int(o, "lease", kv.lease);
  return o;
}

HttpResponse ok(const json::object& body) {
  HttpResponse r;
  r.body = serialize(body);
  r.grpc_ok = true;
  return r;
}

}  // namespace etcdlab::gateway
