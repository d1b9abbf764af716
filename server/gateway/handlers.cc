// The v3 JSON gateway's handlers (etcd 3.4 semantics; ../shared/reference/etcd-v3-json-api.md).
#include "handlers.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <functional>
#include <map>

#include "etcdlab/crc32c.h"
#include "json_fields.h"

namespace etcdlab::gateway {
namespace {

using boost::asio::awaitable;
using server::Request;
using server::Result;

// ---- errors

GatewayError store_error(mvcc::MvccError::Code code) {
  using C = mvcc::MvccError::Code;
  GrpcCode g = (code == C::kCompacted || code == C::kFutureRevision) ? GrpcCode::kOutOfRange
                                                                      : GrpcCode::kInvalidArgument;
  return GatewayError(g, mvcc::message_of(code));
}

void check(const Result& r) {
  if (r.store_error) throw store_error(*r.store_error);
  if (r.error == server::RequestError::kLeaseNotFound) {
    throw GatewayError(GrpcCode::kNotFound, kLeaseNotFound);
  }
}

std::string require_key(const json::object& body) {
  std::string key = get_bytes(body, "key");
  if (key.empty()) throw store_error(mvcc::MvccError::Code::kEmptyKey);
  return key;
}

// ---- output

json::object header(KvService& s, int64_t revision, bool with_revision = true) {
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

// ---- KV

mvcc::KeyRange key_range(const json::object& body) {
  mvcc::KeyRange range;
  range.key = require_key(body);
  range.range_end = get_bytes(body, "range_end");
  return range;
}

awaitable<HttpResponse> range(KvService& s, const json::object& body) {
  mvcc::KeyRange r = key_range(body);
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
  if (!get_bool(body, "serializable")) co_await s.read_barrier();
  mvcc::RangeResult result;
  try {
    result = s.store().range(r, o);
  } catch (const mvcc::MvccError& e) {
    throw store_error(e.code());
  }
  json::object out;
  out["header"] = header(s, result.revision);
  if (!result.kvs.empty()) {
    json::array kvs;
    for (const auto& kv : result.kvs) kvs.push_back(kv_json(kv));
    out["kvs"] = std::move(kvs);
  }
  put_bool(out, "more", result.more);
  put_int(out, "count", result.count);
  co_return ok(out);
}

// As etcd (processInternalRaftRequestOnce): the limit is on the request as it goes into the
// log, not on its JSON (base64 makes that a third larger). Our encoding is within a few bytes
// of etcd's protobuf for the same request.
awaitable<Result> write(KvService& s, server::Request request) {
  uint64_t size = server::encode_request(0, request).size();
  uint64_t cap = s.max_request_bytes() + kGrpcOverheadBytes;
  if (size > cap) {
    throw GatewayError(GrpcCode::kResourceExhausted,
                       fmt::format("grpc: received message larger than max ({} vs. {})", size, cap));
  }
  if (size > s.max_request_bytes()) {
    throw GatewayError(GrpcCode::kInvalidArgument, kRequestTooLarge);
  }
  co_return co_await s.write(std::move(request));
}

awaitable<HttpResponse> put(KvService& s, const json::object& body) {
  server::PutRequest p;
  p.key = require_key(body);
  p.value = get_bytes(body, "value");
  p.lease = get_int(body, "lease");
  p.options.prev_kv = get_bool(body, "prev_kv");
  p.options.ignore_value = get_bool(body, "ignore_value");
  p.options.ignore_lease = get_bool(body, "ignore_lease");
  if (p.options.ignore_value && !p.value.empty()) {
    throw store_error(mvcc::MvccError::Code::kValueProvided);
  }
  if (p.options.ignore_lease && p.lease != 0) {
    throw store_error(mvcc::MvccError::Code::kLeaseProvided);
  }
  Result result = co_await write(s, std::move(p));
  check(result);
  json::object out;
  out["header"] = header(s, result.revision);
  const auto& value = std::get<mvcc::PutResult>(result.value);
  if (value.prev_kv) out["prev_kv"] = kv_json(*value.prev_kv);
  co_return ok(out);
}

awaitable<HttpResponse> delete_range(KvService& s, const json::object& body) {
  server::DeleteRangeRequest d;
  d.range = key_range(body);
  d.prev_kv = get_bool(body, "prev_kv");
  Result result = co_await write(s, std::move(d));
  check(result);
  const auto& value = std::get<mvcc::DeleteResult>(result.value);
  json::object out;
  out["header"] = header(s, result.revision);
  put_int(out, "deleted", value.deleted);
  if (!value.prev_kvs.empty()) {
    json::array kvs;
    for (const auto& kv : value.prev_kvs) kvs.push_back(kv_json(kv));
    out["prev_kvs"] = std::move(kvs);
  }
  co_return ok(out);
}

awaitable<HttpResponse> compaction(KvService& s, const json::object& body) {
  server::CompactionRequest c;
  c.revision = get_int(body, "revision");
  c.physical = get_bool(body, "physical");
  Result result = co_await write(s, c);
  check(result);
  json::object out;
  out["header"] = header(s, result.revision);
  co_return ok(out);
}

// ---- cluster and maintenance

json::object member_json(const server::Member& m) {
  json::object o;
  put_uint(o, "ID", m.id);
  if (!m.name.empty()) o["name"] = m.name;
  json::array peers, clients;
  for (const auto& u : m.peer_urls) peers.push_back(json::string(u));
  for (const auto& u : m.client_urls) clients.push_back(json::string(u));
  if (!peers.empty()) o["peerURLs"] = std::move(peers);
  if (!clients.empty()) o["clientURLs"] = std::move(clients);
  put_bool(o, "isLearner", m.learner);
  return o;
}

awaitable<HttpResponse> member_list(KvService& s, const json::object&) {
  json::object out;
  out["header"] = header(s, 0, false);
  json::array members;
  for (const auto& m : s.members()) members.push_back(member_json(m));
  out["members"] = std::move(members);
  co_return ok(out);
}

awaitable<HttpResponse> status(KvService& s, const json::object&) {
  ServerStatus st = s.status();
  json::object out;
  out["header"] = header(s, s.store().revision());
  out["version"] = st.version;
  put_int(out, "dbSize", static_cast<int64_t>(st.db_size));
  put_uint(out, "leader", st.leader);
  put_uint(out, "raftIndex", st.raft_index);
  put_uint(out, "raftTerm", st.raft_term);
  put_uint(out, "raftAppliedIndex", st.raft_applied_index);
  if (!st.errors.empty()) {
    json::array errors;
    for (const auto& e : st.errors) errors.push_back(json::string(e));
    out["errors"] = std::move(errors);
  }
  put_int(out, "dbSizeInUse", static_cast<int64_t>(st.db_size_in_use));
  put_bool(out, "isLearner", st.is_learner);
  co_return ok(out);
}

awaitable<HttpResponse> hash(KvService& s, const json::object&) {
  json::object out;
  out["header"] = header(s, s.store().revision());
  // The visible key space at the current revision, plus the revisions: members that applied
  // the same log agree; an empty store does not hash to 0 (which JSON would leave out).
  const mvcc::KvStore& store = s.store();
  std::string bytes = fmt::format("{}:{}:{}", store.hash_kv(0), store.revision(),
                                  store.compact_revision());
  uint32_t h = crc32c(bytes);
  if (h != 0) out["hash"] = h;  // a uint32 is a JSON number
  co_return ok(out);
}

// ---- plain HTTP

HttpResponse health(KvService& s) {
  HttpResponse r;
  r.content_type = "text/plain; charset=utf-8";
  if (s.healthy()) {
    r.body = "{\"health\":\"true\"}";
  } else {
    r.status = 503;
    r.body = "{\"health\":\"false\"}\n";  // (etcd 3.4 ends this one with a newline)
  }
  return r;
}

HttpResponse version() {
  HttpResponse r;
  r.body = "{\"etcdserver\":\"3.4.0\",\"etcdcluster\":\"3.4.0\"}";
  return r;
}

HttpResponse plain(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

using Handler = awaitable<HttpResponse> (*)(KvService&, const json::object&);

const std::map<std::string, Handler, std::less<>>& routes() {
  static const std::map<std::string, Handler, std::less<>> table = {
      {"/v3/kv/range", range},
      {"/v3/kv/put", put},
      {"/v3/kv/deleterange", delete_range},
      {"/v3/kv/compaction", compaction},
      {"/v3/cluster/member/list", member_list},
      {"/v3/maintenance/status", status},
      {"/v3/maintenance/hash", hash},
  };
  return table;
}

}  // namespace

awaitable<HttpResponse> handle(KvService& service, HttpRequest request) {
  std::string_view path = request.target;
  if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  if (request.method == "OPTIONS") co_return plain(200, "");
  if (path == "/health") {
    co_return request.method == "GET" ? health(service) : plain(405, "Method Not Allowed\n");
  }
  if (path == "/version") {
    co_return request.method == "GET" ? version() : plain(405, "Method Not Allowed\n");
  }
  std::string v3(path);
  if (v3.starts_with("/v3beta/")) v3 = "/v3/" + v3.substr(8);  // 3.4's alias
  if (!v3.starts_with("/v3/")) co_return plain(404, "404 page not found\n");
  auto route = routes().find(v3);
  if (route == routes().end()) co_return plain(404, "Not Found\n");
  if (request.method != "POST") co_return plain(405, "Method Not Allowed\n");
  try {
    json::object body = parse_body(request.body);
    co_return co_await route->second(service, body);
  } catch (const GatewayError& e) {
    co_return error_response(e);
  } catch (const std::exception& e) {
    spdlog::error("gateway: {} {}: {}", request.method, request.target, e.what());
    co_return error_response(GatewayError(GrpcCode::kUnknown, e.what()));
  }
}

}  // namespace etcdlab::gateway
