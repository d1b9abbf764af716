// Shared by the gateway's handlers: errors, headers, key-values (handler_support.h).
#include "handler_support.h"

#include <fmt/format.h>

namespace etcdlab::gateway {

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

HttpResponse plain(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

HttpResponse ok(const json::object& body) {
  HttpResponse r;
  r.body = serialize(body);
  r.grpc_ok = true;
  return r;
}

}  // namespace etcdlab::gateway

namespace etcdlab::gateway {

mvcc::RangeOptions range_options(const json::object& body) {
  mvcc::RangeOptions o;
  o.limit = get_int(body, "limit");
  o.revision = get_int(body, "revision");
  o.sort_order = static_cast<mvcc::SortOrder>(
      get_enum(body, "sort_order", {"NONE", "ASCEND", "DESCEND"}, "etcdserverpb.RangeRequest_SortOrder"));
  o.sort_target = static_cast<mvcc::SortTarget>(get_enum(
      body, "sort_target", {"KEY", "VERSION", "CREATE", "MOD", "VALUE"},
      "etcdserverpb.RangeRequest_SortTarget"));
  if (static_cast<int>(o.sort_order) > 2 || static_cast<int>(o.sort_order) < 0) {
    o.sort_order = mvcc::SortOrder::kNone;  // 3.4 accepts out-of-range numbers
  }
  if (static_cast<int>(o.sort_target) > 4 || static_cast<int>(o.sort_target) < 0) {
    o.sort_target = mvcc::SortTarget::kKey;
  }
  o.keys_only = get_bool(body, "keys_only");
  o.count_only = get_bool(body, "count_only");
  o.min_mod_revision = get_int(body, "min_mod_revision");
  o.max_mod_revision = get_int(body, "max_mod_revision");
  o.min_create_revision = get_int(body, "min_create_revision");
  o.max_create_revision = get_int(body, "max_create_revision");
  return o;
}

void add_range_fields(json::object& out, const mvcc::RangeResult& r) {
  if (!r.kvs.empty()) {
    json::array kvs;
    for (const auto& kv : r.kvs) kvs.push_back(kv_json(kv));
    out["kvs"] = std::move(kvs);
  }
  put_bool(out, "more", r.more);
  put_int(out, "count", r.count);
}

void add_put_fields(json::object& out, const mvcc::PutResult& r) {
  if (r.prev_kv) out["prev_kv"] = kv_json(*r.prev_kv);
}

void add_delete_fields(json::object& out, const mvcc::DeleteResult& r) {
  put_int(out, "deleted", r.deleted);
  if (!r.prev_kvs.empty()) {
    json::array kvs;
    for (const auto& kv : r.prev_kvs) kvs.push_back(kv_json(kv));
    out["prev_kvs"] = std::move(kvs);
  }
}

}  // namespace etcdlab::gateway
