// The v3 JSON gateway's handlers (etcd 3.4 semantics; ../shared/reference/etcd-v3-json-api.md).
#include "handlers.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <functional>
#include <map>

#include "../rpc/rpcs.h"
#include "answering.h"
#include "auth_handlers.h"
#include "election_handlers.h"
#include "failpoint_handlers.h"
#include "handler_support.h"
#include "json_fields.h"
#include "lease_handlers.h"
#include "lock_handlers.h"
#include "txn_handlers.h"
#include "view_handlers.h"

namespace etcdlab::gateway {
namespace {

using boost::asio::awaitable;
using server::Request;
using server::Result;

// ---- KV

mvcc::KeyRange key_range(const json::object& body) {
  mvcc::KeyRange range;
  range.key = require_key(body);
  range.range_end = get_bytes(body, "range_end");
  return range;
}

awaitable<HttpResponse> range(KvService& s, const json::object& body, const Credentials& who) {
  mvcc::KeyRange r = key_range(body);
  mvcc::RangeOptions o = range_options(body);
  mvcc::RangeResult result = co_await rpc::range(s, r, o, get_bool(body, "serializable"), who);
  json::object out;
  out["header"] = header(s, result.revision);
  add_range_fields(out, result);
  co_return ok(out);
}

awaitable<HttpResponse> put(KvService& s, const json::object& body, const Credentials& who) {
  server::PutRequest p;
  p.key = require_key(body);
  p.value = get_bytes(body, "value");
  p.lease = get_int(body, "lease");
  p.options.prev_kv = get_bool(body, "prev_kv");
  p.options.ignore_value = get_bool(body, "ignore_value");
  p.options.ignore_lease = get_bool(body, "ignore_lease");
  Result result = co_await rpc::put(s, std::move(p), who);
  json::object out;
  out["header"] = header(s, result.revision);
  add_put_fields(out, std::get<mvcc::PutResult>(result.value));
  co_return ok(out);
}

awaitable<HttpResponse> delete_range(KvService& s, const json::object& body,
                                     const Credentials& who) {
  server::DeleteRangeRequest d;
  d.range = key_range(body);
  d.prev_kv = get_bool(body, "prev_kv");
  Result result = co_await rpc::delete_range(s, std::move(d), who);
  json::object out;
  out["header"] = header(s, result.revision);
  add_delete_fields(out, std::get<mvcc::DeleteResult>(result.value));
  co_return ok(out);
}

awaitable<HttpResponse> compaction(KvService& s, const json::object& body, const Credentials& who) {
  server::CompactionRequest c;
  c.revision = get_int(body, "revision");
  c.physical = get_bool(body, "physical");
  Result result = co_await rpc::compact(s, c, who);
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

awaitable<HttpResponse> member_list(KvService& s, const json::object& /*body*/,
                                    const Credentials& /*who*/) {
  json::object out;
  out["header"] = header(s, 0, false);
  json::array members;
  for (const auto& m : rpc::member_list(s)) members.push_back(member_json(m));
  out["members"] = std::move(members);
  co_return ok(out);
}

std::vector<std::string> get_strings(const json::object& body, std::string_view name) {
  std::vector<std::string> out;
  if (const json::array* a = get_array(body, name)) {
    for (const auto& v : *a) {
      if (!v.is_string()) {
        throw GatewayError(GrpcCode::kInvalidArgument,
                           "json: cannot unmarshal " +
                               std::string(v.is_number() ? "number" : "value") +
                               " into Go value of type string");
      }
      out.emplace_back(v.as_string());
    }
  }
  return out;
}

json::array members_json(KvService& s) {
  json::array members;
  for (const auto& m : rpc::member_list(s)) members.push_back(member_json(m));
  return members;
}

// member/add, remove, update, promote: the leader applies them (handle() forwards).
awaitable<HttpResponse> member_change(KvService& s, const json::object& body,
                                      MemberRequest::Kind kind, const Credentials& who) {
  MemberRequest r;
  r.kind = kind;
  r.id = get_uint(body, "ID");
  r.peer_urls = get_strings(body, "peerURLs");
  r.learner = get_bool(body, "isLearner");
  server::Member m = co_await rpc::member_change(s, r, who);
  json::object out;
  out["header"] = header(s, 0, false);
  if (kind == MemberRequest::Kind::kAdd) {
    json::object added;
    put_uint(added, "ID", m.id);
    json::array peers;
    for (const auto& u : m.peer_urls) peers.push_back(json::string(u));
    added["peerURLs"] = std::move(peers);
    put_bool(added, "isLearner", m.learner);
    out["member"] = std::move(added);
  }
  out["members"] = members_json(s);
  co_return ok(out);
}

awaitable<HttpResponse> member_add(KvService& s, const json::object& body, const Credentials& who) {
  co_return co_await member_change(s, body, MemberRequest::Kind::kAdd, who);
}
awaitable<HttpResponse> member_remove(KvService& s, const json::object& body,
                                      const Credentials& who) {
  co_return co_await member_change(s, body, MemberRequest::Kind::kRemove, who);
}
awaitable<HttpResponse> member_update(KvService& s, const json::object& body,
                                      const Credentials& who) {
  co_return co_await member_change(s, body, MemberRequest::Kind::kUpdate, who);
}
awaitable<HttpResponse> member_promote(KvService& s, const json::object& body,
                                       const Credentials& who) {
  co_return co_await member_change(s, body, MemberRequest::Kind::kPromote, who);
}

json::object alarms_json(const std::vector<server::Alarm>& alarms) {
  json::object out;  // etcd 3.4's gateway: no header; {} when there is no alarm
  if (alarms.empty()) return out;
  json::array list;
  for (const auto& a : alarms) {
    json::object o;
    put_uint(o, "memberID", a.member);
    o["alarm"] = server::to_string(a.type);
    list.push_back(std::move(o));
  }
  out["alarms"] = std::move(list);
  return out;
}

awaitable<HttpResponse> alarm(KvService& s, const json::object& body, const Credentials& who) {
  int action = get_enum(body, "action", {"GET", "ACTIVATE", "DEACTIVATE"},
                        "etcdserverpb.AlarmRequest_AlarmAction");
  uint64_t member = get_uint(body, "memberID");
  int type = get_enum(body, "alarm", {"NONE", "NOSPACE", "CORRUPT"}, "etcdserverpb.AlarmType");
  co_return ok(alarms_json(co_await rpc::alarm(s, action, member, type, who)));
}

// maintenance/snapshot: the database in 32 KiB pieces, then its SHA-256, each as one line of
// the 3.4 gateway's stream: {"result":{"remaining_bytes":"N","blob":"<base64>"}}.
awaitable<std::optional<std::string>> next_snapshot_piece(
    std::shared_ptr<rpc::SnapshotReader> reader) {
  std::optional<rpc::SnapshotReader::Piece> piece = reader->next(32 * 1024);
  if (!piece) co_return std::nullopt;
  json::object result;
  put_uint(result, "remaining_bytes", piece->remaining_bytes);  // (0 is left out)
  put_bytes(result, "blob", piece->blob);
  json::object line;
  line["result"] = std::move(result);
  co_return serialize(line) + "\n";
}

// A stream of one piece (then its end).
awaitable<std::optional<std::string>> take_once(std::shared_ptr<std::optional<std::string>> piece) {
  std::optional<std::string> out = std::move(*piece);
  piece->reset();
  co_return out;
}

awaitable<HttpResponse> snapshot(KvService& s, const json::object& /*body*/,
                                 const Credentials& who) {
  std::shared_ptr<rpc::SnapshotReader> reader;
  try {
    reader = co_await rpc::snapshot(s, who);
  } catch (const server::ApiError& e) {
    // A refused snapshot is answered as etcd 3.4's gateway does (captured): a chunked stream
    // with the code's status and one piece in the stream's error shape, not the unary body.
    HttpResponse refused;
    refused.status = http_status(e.code());
    auto line = std::make_shared<std::optional<std::string>>(stream_error(e));
    refused.stream = [line] { return take_once(line); };
    co_return refused;
  }
  HttpResponse r;
  r.grpc_ok = true;
  r.stream = [reader] { return next_snapshot_piece(reader); };
  co_return r;
}

awaitable<HttpResponse> defragment(KvService& s, const json::object& /*body*/,
                                   const Credentials& who) {
  co_await rpc::defragment(s, who);
  co_return ok(json::object{});  // etcd 3.4 answers {} (no header)
}

// etcd 3.4's gateway path for MoveLeader; {} (no header), as etcd answers.
awaitable<HttpResponse> transfer_leadership(KvService& s, const json::object& body,
                                            const Credentials& /*who*/) {
  co_await rpc::move_leader(s, get_uint(body, "targetID"));
  co_return ok(json::object{});
}

awaitable<HttpResponse> status(KvService& s, const json::object& /*body*/,
                               const Credentials& /*who*/) {
  ServerStatus st = rpc::status(s);
  json::object out;
  out["header"] = header(s, rpc::current_revision(s));
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

awaitable<HttpResponse> hash(KvService& s, const json::object& /*body*/, const Credentials& who) {
  json::object out;
  out["header"] = header(s, rpc::current_revision(s));
  uint32_t h = rpc::hash(s, who);
  if (h != 0) out["hash"] = h;  // a uint32 is a JSON number
  co_return ok(out);
}

// ---- plain HTTP

HttpResponse health(KvService& s) {
  HttpResponse r;
  r.content_type = "text/plain; charset=utf-8";
  bool healthy = s.healthy();
  s.count_health(healthy);
  if (healthy) {
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

HttpResponse metrics(KvService& s) {
  std::string text = s.metrics_text();
  if (text.empty()) return plain(404, "404 page not found\n");
  HttpResponse r = plain(200, std::move(text));
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return r;
}

const std::map<std::string, Handler, std::less<>>& routes() {
  static const std::map<std::string, Handler, std::less<>> table = {
      {"/v3/kv/range", range},
      {"/v3/kv/put", put},
      {"/v3/kv/deleterange", delete_range},
      {"/v3/kv/compaction", compaction},
      {"/v3/kv/txn", txn},
      {"/v3/lock/lock", lock},
      {"/v3/lock/unlock", unlock},
      {"/v3/election/campaign", campaign},
      {"/v3/election/proclaim", proclaim},
      {"/v3/election/leader", leader},
      {"/v3/election/resign", resign},
      {"/v3/election/observe", observe},
      {"/v3/cluster/member/list", member_list},
      {"/v3/cluster/member/add", member_add},
      {"/v3/cluster/member/remove", member_remove},
      {"/v3/cluster/member/update", member_update},
      {"/v3/cluster/member/promote", member_promote},
      {"/v3/maintenance/alarm", alarm},
      {"/v3/maintenance/defragment", defragment},
      {"/v3/maintenance/snapshot", snapshot},
      {"/v3/maintenance/status", status},
      {"/v3/maintenance/hash", hash},
      {"/v3/maintenance/transfer-leadership", transfer_leadership},
      {"/v3/lease/grant", lease_grant},
      {"/v3/lease/revoke", lease_revoke},
      {"/v3/kv/lease/revoke", lease_revoke},
      {"/v3/lease/timetolive", lease_time_to_live},
      {"/v3/kv/lease/timetolive", lease_time_to_live},
      {"/v3/lease/leases", lease_leases},
      {"/v3/kv/lease/leases", lease_leases},
  };
  return table;
}

}  // namespace

// A plain function, not a coroutine: it picks the coroutine that answers (answering.h says why).
awaitable<HttpResponse> handle(KvService& service, HttpRequest request) {
  std::string_view path = request.target;
  if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  if (request.method == "OPTIONS") return answer_now(plain(200, ""));
  if (path == "/health") {
    return answer_now(request.method == "GET" ? health(service)
                                              : plain(405, "Method Not Allowed\n"));
  }
  if (path == "/metrics") {
    return answer_now(request.method == "GET" ? metrics(service)
                                              : plain(405, "Method Not Allowed\n"));
  }
  if (path == "/version") {
    return answer_now(request.method == "GET" ? version() : plain(405, "Method Not Allowed\n"));
  }
  if (is_view_path(path) && service.view_streams())
    return answer_now(handle_view(service, request));
  if ((path == "/etcdlab/failpoints" || path == "/etcdlab/failpoints/disk") &&
      service.failpoints_enabled()) {
    bool disk = path.ends_with("/disk");
    return answer_failpoint(service, std::move(request), disk);
  }
  std::string v3(path);
  if (v3.starts_with("/v3beta/")) v3 = "/v3/" + v3.substr(8);  // 3.4's alias
  if (!v3.starts_with("/v3/")) return answer_now(plain(404, "404 page not found\n"));
  auto route = routes().find(v3);
  if (route == routes().end()) {
    route = auth_routes().find(v3);
    if (route == auth_routes().end() && v3 != "/v3/lease/keepalive") {
      return answer_now(plain(404, "Not Found\n"));
    }
  }
  if (request.method != "POST") return answer_now(plain(405, "Method Not Allowed\n"));
  if (v3.starts_with("/v3/cluster/member/") && v3 != "/v3/cluster/member/list" &&
      !service.is_leader()) {
    return answer_forwarded(service, std::move(request));
  }
  if (v3 == "/v3/lease/keepalive") return answer_keep_alive(service, std::move(request));
  return answer_json(service, route->second, std::move(request));
}

}  // namespace etcdlab::gateway
