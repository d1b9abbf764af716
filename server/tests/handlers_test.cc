// The gateway's handlers (server/gateway/handlers.h) against a fake KvService: bodies in etcd
// 3.4's JSON (../../shared/reference/etcd-v3-json-api.md; the IDs are those of its §12
// captures), errors with etcd's status, body and code, routing. No sockets and no Beast: each
// request is one coroutine run to completion on a private io_context.
#include "../gateway/handlers.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "../gateway/json_fields.h"
#include "../node/txn_rules.h"

namespace etcdlab::gateway {
namespace {

using boost::asio::awaitable;

constexpr uint64_t kClusterId = 324952591200643719ULL;
constexpr uint64_t kMemberId = 3319814642761637952ULL;

// A KvService over a real in-memory store: writes are applied at once, as if committed.
class FakeService final : public KvService {
 public:
  awaitable<server::Result> write(server::Request request) override {
    ++writes;
    if (write_error) throw *write_error;
    co_return sm_.apply_request(request);
  }
  awaitable<server::Result> txn(server::TxnRequest request) override {
    ++txns;
    if (write_error) throw *write_error;
    co_return server::txn_without_log(sm_, request);
  }
  awaitable<void> read_barrier() override {
    ++barriers;
    if (barrier_error) throw *barrier_error;
    co_return;
  }
  const mvcc::KvStore& store() const override { return sm_.store(); }
  uint64_t cluster_id() const override { return kClusterId; }
  uint64_t member_id() const override { return kMemberId; }
  uint64_t raft_term() const override { return 2; }
  std::vector<server::Member> members() const override { return member_list; }
  ServerStatus status() const override { return server_status; }
  bool healthy() const override { return is_healthy; }
  uint64_t max_request_bytes() const override { return max_bytes; }
  // Leases 1000 and -7 exist (TTL 60); from the `keep_alive_fails_from`-th call on, throws
  // keep_alive_error.
  awaitable<server::LeaseKeepAliveResult> lease_keep_alive(int64_t id) override {
    if (keep_alives++ >= keep_alive_fails_from) throw keep_alive_error;
    co_return server::LeaseKeepAliveResult{id, id == 1000 || id == -7 ? 60 : 0};
  }

  mvcc::KvStore& kv() { return sm_.store(); }

  std::optional<GatewayError> write_error;    // write() throws it (no leader, timeout...)
  std::optional<GatewayError> barrier_error;  // read_barrier() throws it
  int writes = 0;
  int txns = 0;
  int barriers = 0;
  std::vector<server::Member> member_list;
  ServerStatus server_status;
  bool is_healthy = true;
  uint64_t max_bytes = 1572864;
  int keep_alives = 0;
  int keep_alive_fails_from = 1 << 30;
  GatewayError keep_alive_error{GrpcCode::kUnavailable, kNoLeader};

 private:
  server::KvStateMachine sm_{mvcc::KvStore::open({}), {}};
};

// Runs handle() to completion. handle() never throws; if it did, the test fails here.
HttpResponse call(KvService& service, std::string method, std::string target,
                  std::string body = "{}") {
  boost::asio::io_context io;
  std::optional<HttpResponse> out;
  boost::asio::co_spawn(io, handle(service, HttpRequest{method, target, body, {}}),
                        [&](std::exception_ptr e, HttpResponse r) {
                          if (e) {
                            ADD_FAILURE() << "handle() threw for " << method << " " << target;
                          } else {
                            out = std::move(r);
                          }
                        });
  io.run();
  HttpResponse none;
  none.status = 0;
  none.body = "(no response)";
  return out.value_or(none);
}

HttpResponse post(KvService& service, std::string target, std::string body = "{}") {
  return call(service, "POST", std::move(target), std::move(body));
}

// The response header as etcd writes it (int64s as strings).
std::string header(int64_t revision) {
  return R"({"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":")" +
         std::to_string(revision) + R"(","raft_term":"2"})";
}

std::string error_body(const std::string& message, int code) {
  return R"({"error":")" + message + R"(","message":")" + message + R"(","code":)" +
         std::to_string(code) + "}";
}

// Asserts an error response: status, and etcd 3.4's {"error","message","code"} body.
void expect_error(const HttpResponse& r, int status, const std::string& message, int code) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.body, error_body(message, code));
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_FALSE(r.grpc_ok);
}

// A streamed answer's pieces, in order, until it ends.
std::vector<std::string> drain(HttpResponse& r) {
  std::vector<std::string> pieces;
  if (!r.stream) return pieces;
  for (;;) {
    boost::asio::io_context io;
    std::optional<std::string> piece;
    boost::asio::co_spawn(io, r.stream(), [&](std::exception_ptr e, std::optional<std::string> p) {
      if (e) ADD_FAILURE() << "a stream's producer threw";
      piece = std::move(p);
    });
    io.run();
    if (!piece) return pieces;
    pieces.push_back(std::move(*piece));
  }
}

// A keep-alive answer line for `id` with `ttl` (0: none), as etcd's gateway writes it.
std::string keep_alive_line(const std::string& id, int ttl) {
  std::string ttl_field = ttl ? R"(,"TTL":")" + std::to_string(ttl) + R"(")" : "";
  std::string id_field = id == "0" ? "" : R"(,"ID":")" + id + R"(")";
  return R"({"result":{"header":)" + header(1) + id_field + ttl_field + "}}\n";
}

constexpr const char* kEmptyKey = "etcdserver: key is not provided";
constexpr const char* kCompacted = "etcdserver: mvcc: required revision has been compacted";
constexpr const char* kFuture = "etcdserver: mvcc: required revision is a future revision";

}  // namespace

// ---- KV bodies

TEST(GatewayKv, PutAnswersTheHeaderAndPrevKvAsEtcdDoes) {
  FakeService s;
  HttpResponse r = post(s, "/v3/kv/put", R"({"key":"Zm9v","value":"YmFy"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_TRUE(r.grpc_ok) << "success carries Grpc-Metadata-Content-Type";
  EXPECT_EQ(r.body, R"({"header":)" + header(2) + "}");

  // §12's capture: put with prev_kv.
  r = post(s, "/v3/kv/put", R"({"key":"Zm9v","value":"YmFyMg==","prev_kv":true})");
  EXPECT_EQ(r.body, R"({"header":)" + header(3) +
                        R"(,"prev_kv":{"key":"Zm9v","create_revision":"2","mod_revision":"2",)"
                        R"("version":"1","value":"YmFy"}})");
  EXPECT_EQ(s.writes, 2);
}

TEST(GatewayKv, RangeAnswersKvsMoreAndCountWithZeroFieldsLeftOut) {
  FakeService s;
  s.kv().put("p/1", "v1");
  s.kv().put("p/2", "v2");
  s.kv().put("p/3", "");  // an empty value is left out

  // §12's capture: a prefix with limit 2.
  HttpResponse r = post(s, "/v3/kv/range", R"({"key":"cC8=","range_end":"cDA=","limit":2})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"header":)" + header(4) +
                        R"(,"kvs":[{"key":"cC8x","create_revision":"2","mod_revision":"2",)"
                        R"("version":"1","value":"djE="},{"key":"cC8y","create_revision":"3",)"
                        R"("mod_revision":"3","version":"1","value":"djI="}],"more":true,)"
                        R"("count":"3"})");

  r = post(s, "/v3/kv/range", R"({"key":"cC8z"})");
  EXPECT_EQ(r.body, R"({"header":)" + header(4) +
                        R"(,"kvs":[{"key":"cC8z","create_revision":"4","mod_revision":"4",)"
                        R"("version":"1"}],"count":"1"})")
      << "no value, no lease, no more";

  r = post(s, "/v3/kv/range", R"({"key":"bm9rZXk="})");
  EXPECT_EQ(r.body, R"({"header":)" + header(4) + "}") << "a missing key: the header only";

  r = post(s, "/v3/kv/range", R"({"key":"cC8=","rangeEnd":"cDA=","countOnly":true})");
  EXPECT_EQ(r.body, R"({"header":)" + header(4) + R"(,"count":"3"})")
      << "count_only, with lowerCamel names";

  r = post(s, "/v3/kv/range",
           R"({"key":"cC8=","range_end":"cDA=","keys_only":true,"sort_order":"DESCEND",)"
           R"("limit":"1","unknown_field":1})");
  EXPECT_EQ(r.body, R"({"header":)" + header(4) +
                        R"(,"kvs":[{"key":"cC8z","create_revision":"4","mod_revision":"4",)"
                        R"("version":"1"}],"more":true,"count":"3"})")
      << "DESCEND before limit; keys_only; unknown fields ignored";
}

TEST(GatewayKv, HistoricalRangeReadsThePastAndHeaderHasTheCurrentRevision) {
  FakeService s;
  s.kv().put("foo", "bar");   // 2
  s.kv().put("foo", "bar2");  // 3
  HttpResponse r = post(s, "/v3/kv/range", R"({"key":"Zm9v","revision":"2"})");
  EXPECT_EQ(r.body, R"({"header":)" + header(3) +
                        R"(,"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"2",)"
                        R"("version":"1","value":"YmFy"}],"count":"1"})");
}

TEST(GatewayKv, DeleteRangeAnswersDeletedAndPrevKvs) {
  FakeService s;
  s.kv().put("p/1", "v1");
  s.kv().put("p/2", "v2");
  HttpResponse r = post(s, "/v3/kv/deleterange", R"({"key":"cC8=","range_end":"cDA=","prev_kv":true})");
  EXPECT_EQ(r.body, R"({"header":)" + header(4) +
                        R"(,"deleted":"2","prev_kvs":[{"key":"cC8x","create_revision":"2",)"
                        R"("mod_revision":"2","version":"1","value":"djE="},{"key":"cC8y",)"
                        R"("create_revision":"3","mod_revision":"3","version":"1","value":"djI="}]})");

  r = post(s, "/v3/kv/deleterange", R"({"key":"cC8x"})");
  EXPECT_EQ(r.body, R"({"header":)" + header(4) + "}")
      << "nothing deleted: header only, revision unchanged";
}

TEST(GatewayKv, CompactionAnswersTheHeaderAndRefusesAgainOrAhead) {
  FakeService s;
  s.kv().put("a", "1");
  s.kv().put("a", "2");
  HttpResponse r = post(s, "/v3/kv/compaction", R"({"revision":"2","physical":true})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"header":)" + header(3) + "}");
  expect_error(post(s, "/v3/kv/compaction", R"({"revision":2})"), 400, kCompacted, 11);
  expect_error(post(s, "/v3/kv/compaction", R"({"revision":9})"), 400, kFuture, 11);
}

// ---- errors (§8)

TEST(GatewayErrors, EmptyKeyIs400Code3) {
  FakeService s;
  expect_error(post(s, "/v3/kv/range", "{}"), 400, kEmptyKey, 3);
  expect_error(post(s, "/v3/kv/put", R"({"value":"YmFy"})"), 400, kEmptyKey, 3);
  expect_error(post(s, "/v3/kv/deleterange", R"({"key":""})"), 400, kEmptyKey, 3);
  EXPECT_EQ(s.writes, 0) << "refused before going through Raft";
}

TEST(GatewayErrors, CompactedAndFutureRevisionsAre400Code11) {
  FakeService s;
  s.kv().put("foo", "1");
  s.kv().put("foo", "2");
  s.kv().put("foo", "3");
  s.kv().compact(3);
  expect_error(post(s, "/v3/kv/range", R"({"key":"Zm9v","revision":2})"), 400, kCompacted, 11);
  EXPECT_EQ(post(s, "/v3/kv/range", R"({"key":"Zm9v","revision":3})").status, 200)
      << "the compact revision itself stays readable";
  expect_error(post(s, "/v3/kv/range", R"({"key":"Zm9v","revision":1000})"), 400, kFuture, 11);
}

TEST(GatewayErrors, LeaseNotFoundIs404Code5) {
  FakeService s;
  expect_error(post(s, "/v3/kv/put", R"({"key":"Zm9v","value":"YmFy","lease":"5"})"), 404,
               "etcdserver: requested lease not found", 5);
}

TEST(GatewayErrors, PutOptionsAreCheckedAsEtcdDoes) {
  FakeService s;
  expect_error(post(s, "/v3/kv/put", R"({"key":"Zm9v","ignore_value":true})"), 400,
               "etcdserver: key not found", 3);
  expect_error(post(s, "/v3/kv/put", R"({"key":"Zm9v","value":"YmFy","ignore_value":true})"),
               400, "etcdserver: value is provided", 3);
  expect_error(post(s, "/v3/kv/put", R"({"key":"Zm9v","lease":"1","ignore_lease":true})"), 400,
               "etcdserver: lease is provided", 3);
}

TEST(GatewayErrors, NoLeaderIs503Code14) {
  FakeService s;
  s.write_error = GatewayError(GrpcCode::kUnavailable, kNoLeader);
  expect_error(post(s, "/v3/kv/put", R"({"key":"Zm9v"})"), 503, "etcdserver: no leader", 14);
  s.barrier_error = GatewayError(GrpcCode::kUnavailable, kNoLeader);
  expect_error(post(s, "/v3/kv/range", R"({"key":"Zm9v"})"), 503, "etcdserver: no leader", 14);
}

TEST(GatewayErrors, MalformedBodiesAre400Code3) {
  FakeService s;
  HttpResponse r = post(s, "/v3/kv/range", R"({"key":)");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"("code":3)"), std::string::npos) << r.body;
  expect_error(post(s, "/v3/kv/put", R"({"key":"Zm9v!"})"), 400,
               "illegal base64 data at input byte 4", 3);
  expect_error(post(s, "/v3/kv/range", R"({"key":"Zm9v","sort_order":"BOGUS"})"), 400,
               R"(unknown value \"BOGUS\" for enum etcdserverpb.RangeRequest_SortOrder)", 3);
}

TEST(GatewayErrors, AnAlarmOfAnUnknownTypeOrActionIsRefusedBeforeTheLog) {
  FakeService s;  // its change_alarm is the 501 default: a request that got past would show
  expect_error(post(s, "/v3/maintenance/alarm", R"({"action":"ACTIVATE","alarm":7})"), 400,
               "etcdserver: unknown alarm type", 3);
  expect_error(post(s, "/v3/maintenance/alarm", R"({"action":"ACTIVATE","alarm":-1})"), 400,
               "etcdserver: unknown alarm type", 3);
  expect_error(post(s, "/v3/maintenance/alarm", R"({"action":9,"alarm":"NOSPACE"})"), 400,
               "etcdserver: unknown alarm action", 3);
  expect_error(post(s, "/v3/maintenance/alarm", R"({"action":"ACTIVATE","alarm":"BOGUS"})"), 400,
               R"(unknown value \"BOGUS\" for enum etcdserverpb.AlarmType)", 3);
}

TEST(GatewayErrors, ARequestOverMaxRequestBytesIsTooLarge) {
  // The limit is on the request as it enters the log (etcd: the marshalled raft request), so
  // base64 and JSON padding do not count: a value just under the limit fits, one over it not.
  FakeService s;
  s.max_bytes = 1000;
  auto put_of = [](size_t value_bytes) {
    return R"({"key":"Zm9v","value":")" + base64_encode(std::string(value_bytes, 'v')) +
           R"("})";
  };
  std::string padded = put_of(900);
  padded.resize(padded.size() + 2000, ' ');  // JSON whitespace is not the request
  EXPECT_EQ(post(s, "/v3/kv/put", padded).status, 200) << "a 900-byte value fits in 1000";
  expect_error(post(s, "/v3/kv/put", put_of(1000)), 400, "etcdserver: request is too large", 3);
  EXPECT_EQ(s.writes, 1);
}

// ---- reads and the read barrier

TEST(GatewayReads, SerializableRangeSkipsTheReadBarrierLinearizableCallsIt) {
  FakeService s;
  s.kv().put("foo", "bar");
  EXPECT_EQ(post(s, "/v3/kv/range", R"({"key":"Zm9v"})").status, 200);
  EXPECT_EQ(s.barriers, 1) << "a linearizable read waits for ReadIndex";
  EXPECT_EQ(post(s, "/v3/kv/range", R"({"key":"Zm9v","serializable":true})").status, 200);
  EXPECT_EQ(s.barriers, 1) << "a serializable read is local";

  s.barrier_error = GatewayError(GrpcCode::kUnavailable, kNoLeader);
  HttpResponse r = post(s, "/v3/kv/range", R"({"key":"Zm9v","serializable":true})");
  EXPECT_EQ(r.status, 200) << "a serializable read works without a leader";
  EXPECT_NE(r.body.find(R"("value":"YmFy")"), std::string::npos) << r.body;
}

// ---- routing

TEST(GatewayRouting, MethodsAndPathsAsEtcd34) {
  FakeService s;
  HttpResponse r = call(s, "GET", "/v3/kv/range", "");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body, "Method Not Allowed\n");
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  r = post(s, "/v3/kv/nothing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "Not Found\n");
  r = post(s, "/v3alpha/kv/range");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "404 page not found\n");
  r = call(s, "OPTIONS", "/v3/kv/put", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");

  EXPECT_EQ(post(s, "/v3beta/kv/put", R"({"key":"Zm9v"})").body, R"({"header":)" + header(2) + "}")
      << "3.4's /v3beta alias";
  EXPECT_EQ(post(s, "/v3/kv/range?ignored=1", R"({"key":"Zm9v","serializable":true})").status, 200)
      << "the query string is not part of the path";
  EXPECT_EQ(post(s, "/v3/kv/range", "").status, 400) << "an empty body is {}: no key";
}

TEST(GatewayRouting, HealthAndVersionArePlainGets) {
  FakeService s;
  HttpResponse r = call(s, "GET", "/health", "");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"health":"true"})");
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  s.is_healthy = false;
  r = call(s, "GET", "/health", "");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "{\"health\":\"false\"}\n");
  EXPECT_EQ(post(s, "/health").status, 405);

  r = call(s, "GET", "/version", "");
  EXPECT_EQ(r.status, 200);
  json::object v = parse_body(r.body);
  EXPECT_TRUE(v.contains("etcdserver")) << r.body;
  EXPECT_EQ(v.at("etcdcluster"), "3.4.0");
  EXPECT_EQ(post(s, "/version").status, 405);
}

// ---- cluster and maintenance (§7, §12)

TEST(GatewayCluster, MemberListHasNoRevisionAndLeavesOutWhatAMemberHasNot) {
  FakeService s;
  s.member_list = {
      {kMemberId, "spec1", {"http://127.0.0.1:23800"}, {"http://127.0.0.1:23790"}, false},
      {42, "", {"http://127.0.0.1:23801"}, {}, true}};  // not started yet; a learner
  HttpResponse r = post(s, "/v3/cluster/member/list");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952",)"
            R"("raft_term":"2"},"members":[{"ID":"3319814642761637952","name":"spec1",)"
            R"("peerURLs":["http://127.0.0.1:23800"],"clientURLs":["http://127.0.0.1:23790"]},)"
            R"({"ID":"42","peerURLs":["http://127.0.0.1:23801"],"isLearner":true}]})");
}

TEST(GatewayCluster, StatusHasEtcdsFieldsInEtcdsOrder) {
  FakeService s;
  s.server_status.version = "3.4.23";
  s.server_status.db_size = 3186688;
  s.server_status.db_size_in_use = 1605632;
  s.server_status.leader = kMemberId;
  s.server_status.raft_index = 54;
  s.server_status.raft_term = 2;
  s.server_status.raft_applied_index = 54;
  HttpResponse r = post(s, "/v3/maintenance/status");
  EXPECT_EQ(r.body, R"({"header":)" + header(1) +
                        R"(,"version":"3.4.23","dbSize":"3186688","leader":"3319814642761637952",)"
                        R"("raftIndex":"54","raftTerm":"2","raftAppliedIndex":"54",)"
                        R"("dbSizeInUse":"1605632"})");

  s.server_status.errors = {"memberID:3319814642761637952 alarm:NOSPACE "};
  s.server_status.is_learner = true;
  json::object o = parse_body(post(s, "/v3/maintenance/status").body);
  EXPECT_EQ(o.at("errors").as_array().size(), 1u);
  EXPECT_EQ(o.at("isLearner"), true);
}

TEST(GatewayCluster, HashIsAUint32Number) {
  FakeService s;
  s.kv().put("foo", "bar");
  json::object o = parse_body(post(s, "/v3/maintenance/hash").body);
  ASSERT_TRUE(o.at("hash").is_number()) << "a uint32 is a JSON number, not a string";
  uint32_t first = o.at("hash").to_number<uint32_t>();
  EXPECT_EQ(gateway::serialize(o.at("header")), header(2));
  o = parse_body(post(s, "/v3/maintenance/hash").body);
  EXPECT_EQ(o.at("hash").to_number<uint32_t>(), first) << "the same state hashes the same";
  s.kv().put("foo", "baz");
  o = parse_body(post(s, "/v3/maintenance/hash").body);
  EXPECT_NE(o.at("hash").to_number<uint32_t>(), first) << "a write changes the hash";
}

TEST(GatewayCluster, AnEmptyStoreStillHasAHash) {
  FakeService s;
  json::object o = parse_body(post(s, "/v3/maintenance/hash").body);
  EXPECT_TRUE(o.contains("hash")) << "0 would be left out of the JSON";
}


// ---- the lease keep-alive stream (etcd 3.4's gateway: grpc-gateway v1 over a bidi stream)

TEST(GatewayLease, KeepAliveAnswersEachRequestOfTheBodyOnItsOwnLine) {
  FakeService s;
  HttpResponse r =
      post(s, "/v3/lease/keepalive", "{\"ID\":1000}\n{\"ID\":\"999\"} null{\"ID\":-7}");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.grpc_ok);
  EXPECT_EQ(drain(r), (std::vector<std::string>{keep_alive_line("1000", 60),
                                                keep_alive_line("999", 0),  // unknown: no TTL
                                                keep_alive_line("0", 0),    // null is {}
                                                keep_alive_line("-7", 60)}));
}

TEST(GatewayLease, AMalformedFirstRequestFailsTheCallWith500Code2) {
  FakeService s;
  expect_error(post(s, "/v3/lease/keepalive", "[1]"), 500,
               "json: cannot unmarshal array into Go value of type map[string]json.RawMessage", 2);
  expect_error(post(s, "/v3/lease/keepalive", R"({"ID":true})"), 500,
               "json: cannot unmarshal bool into Go value of type int64", 2);
  HttpResponse r = post(s, "/v3/lease/keepalive", "{bad");
  EXPECT_EQ(r.status, 500);
  EXPECT_FALSE(r.stream) << "no stream starts";
  EXPECT_NE(r.body.find(R"("code":2)"), std::string::npos) << r.body;
  EXPECT_EQ(s.keep_alives, 0);
}

TEST(GatewayLease, AMalformedLaterRequestEndsTheStreamQuietly) {
  FakeService s;
  for (const char* body :
       {"{\"ID\":1000}\n[1]\n{\"ID\":1000}", "{\"ID\":1000} {bad", "{\"ID\":1000} x"}) {
    HttpResponse r = post(s, "/v3/lease/keepalive", body);
    EXPECT_EQ(r.status, 200) << body;
    EXPECT_EQ(drain(r), std::vector<std::string>{keep_alive_line("1000", 60)}) << body;
  }
}

TEST(GatewayLease, AnEmptyBodyIsAnEmptyStreamWithoutGrpcHeaders) {
  FakeService s;
  for (const char* body : {"", "  \n "}) {
    HttpResponse r = post(s, "/v3/lease/keepalive", body);
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.grpc_ok) << "the server sent no headers";
    EXPECT_TRUE(r.stream);
    EXPECT_TRUE(drain(r).empty());
  }
}

TEST(GatewayLease, AFailedKeepAliveEndsTheStreamWithTheStreamError) {
  constexpr const char* kError =
      R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader",)"
      R"("http_status":"Service Unavailable"}})";  // no newline after it, as etcd
  FakeService s;
  s.keep_alive_fails_from = 0;  // the first fails: its status is the answer's
  HttpResponse r = post(s, "/v3/lease/keepalive", "{\"ID\":1000}\n{\"ID\":1000}");
  EXPECT_EQ(r.status, 503);
  EXPECT_FALSE(r.grpc_ok);
  EXPECT_EQ(drain(r), std::vector<std::string>{kError});
  EXPECT_EQ(s.keep_alives, 1) << "nothing is asked after the failure";

  FakeService later;
  later.keep_alive_fails_from = 1;  // after one answer: 200, the answer, then the error
  r = post(later, "/v3/lease/keepalive", "{\"ID\":1000}\n{\"ID\":1000}\n{\"ID\":1000}");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.grpc_ok);
  EXPECT_EQ(drain(r), (std::vector<std::string>{keep_alive_line("1000", 60), kError}));
  EXPECT_EQ(later.keep_alives, 2);
}

}  // namespace etcdlab::gateway

