// The gateway's /v3/watch session (server/gateway/watch_session.h) against a fake KvService over
// a real state machine and its watch hub: no sockets. The body arrives in pieces of any size,
// the answers are etcd 3.4's lines (the IDs are those of etcd-v3-json-api.md's §12 captures),
// and what etcd's gateway does with bad, odd or ignored requests. The same behaviour against a
// real etcd: python/tests/e2e/test_compat_watch.py.
#include "../gateway/watch_session.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "../node/state_machine.h"
#include "../node/txn_rules.h"

namespace etcdlab::gateway {
namespace {

constexpr uint64_t kClusterId = 324952591200643719ULL;
constexpr uint64_t kMemberId = 3319814642761637952ULL;

// Writes are applied at once, as if committed; watches go to the state machine's hub, which
// the state machine tells of every write (as on a member).
class WatchFake final : public KvService {
 public:
  boost::asio::awaitable<server::Result> write(server::Request request) override {
    co_return sm_.apply_request(request);
  }
  boost::asio::awaitable<void> read_barrier() override { co_return; }
  boost::asio::awaitable<server::Result> txn(server::TxnRequest request) override {
    co_return server::txn_without_log(sm_, request);
  }
  const mvcc::KvStore& store() const override { return sm_.store(); }
  uint64_t cluster_id() const override { return kClusterId; }
  uint64_t member_id() const override { return kMemberId; }
  uint64_t raft_term() const override { return 2; }
  std::vector<server::Member> members() const override { return {}; }
  ServerStatus status() const override { return {}; }
  bool healthy() const override { return true; }
  uint64_t max_request_bytes() const override { return 1572864; }

  uint64_t open_watch_stream(std::function<void()> wake) override {
    wakes_ = std::move(wake);
    return hub().open_stream();
  }
  void close_watch_stream(uint64_t stream) override { hub().close_stream(stream); }
  void watch(uint64_t stream, const watch::WatchRequest& request) override {
    hub().watch(stream, request, sm_.store());
    if (hub().unsynced() > 0) hub().sync(sm_.store());  // as KvNode: history at once
  }
  void cancel_watch(uint64_t stream, int64_t id) override {
    hub().cancel(stream, id, sm_.store());
  }
  void request_watch_progress(uint64_t stream) override {
    hub().request_progress(stream, sm_.store());
  }
  std::vector<watch::WatchResponse> take_watch_responses(uint64_t stream, size_t max) override {
    return hub().take(stream, max);
  }

  void put(std::string key, std::string value) {
    sm_.apply_request(server::PutRequest{std::move(key), std::move(value), 0, {}});
  }
  void del(std::string key) {
    sm_.apply_request(server::DeleteRangeRequest{{std::move(key), ""}, true});
  }
  void compact(int64_t revision) { sm_.apply_request(server::CompactionRequest{revision, false}); }
  watch::WatchHub& hub() { return sm_.watches(); }

 private:
  server::KvStateMachine sm_{mvcc::KvStore::open({}), {}};
  std::function<void()> wakes_;
};

std::string header(int64_t revision) {
  return R"({"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":")" +
         std::to_string(revision) + R"(","raft_term":"2"})";
}

std::string result(int64_t revision, const std::string& rest) {
  return R"({"result":{"header":)" + header(revision) + (rest.empty() ? "" : "," + rest) +
         "}}\n";
}

// etcd's error body, code 2 (Unknown: the gateway's own decoding failed).
std::string error_body(std::string message) {
  std::string quoted;
  for (char c : message) quoted += c == '"' ? std::string("\\\"") : std::string(1, c);
  return R"({"error":")" + quoted + R"(","message":")" + quoted + R"(","code":2})";
}

std::vector<std::string> all_lines(WatchSession& s) { return s.take_lines(1000); }

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l;
  return out;
}

// A body with every kind of request, whitespace in odd places, ids as numbers and strings.
constexpr std::string_view kMixedBody =
    "{\"create_request\":{\"key\":\"YQ==\"}}\n"
    "  {\"create_request\" : {\"key\":\"Yg==\", \"watch_id\":\"5\", \"prev_kv\":true}}"
    "{\"progress_request\":{}}\r\n\t"
    "{\"create_request\":{\"key\":\"Yw==\",\"range_end\":\"ZA==\",\"watch_id\":7,"
    "\"filters\":[\"NOPUT\"]}}\n"
    "{\"cancel_request\":{\"watch_id\":\"5\"}}\n"
    "null {} {\"bogus\":[1,2]}\n"
    "{\"create_request\":{\"key\":\"\",\"range_end\":\"AA==\",\"start_revision\":\"1\"}}";

// What kMixedBody answers, whole: the lines of one session fed `pieces` in order.
std::string run_mixed(const std::vector<std::string_view>& pieces) {
  WatchFake fake;
  fake.put("a", "1");
  WatchSession s(fake, fake.max_request_bytes(), [] {});
  for (auto p : pieces) s.received(p);
  fake.put("b", "2");
  EXPECT_TRUE(s.reading());
  EXPECT_FALSE(s.refusal());
  return joined(all_lines(s));
}

}  // namespace

// ---- framing

TEST(GatewayWatch, AnswersTheCapturedSessionLineForLineAsEtcd) {
  WatchFake fake;
  WatchSession s(fake, fake.max_request_bytes(), [] {});
  s.received(
      "{\"create_request\":{\"key\":\"YQ==\"}}\n{\"create_request\":{\"key\":\"Yg==\","
      "\"watch_id\":\"5\"}}\n{\"progress_request\":{}}\n{\"cancel_request\":{\"watch_id\":\"5\"}}");
  EXPECT_EQ(joined(all_lines(s)), result(1, R"("created":true)") +
                                      result(1, R"("watch_id":"5","created":true)") +
                                      result(1, R"("watch_id":"-1")") +
                                      result(1, R"("watch_id":"5","canceled":true)"));
}

TEST(GatewayWatch, ABodySplitAnywhereIsReadAsTheWholeBody) {
  const std::string whole = run_mixed({kMixedBody});
  ASSERT_NE(whole.find(R"("watch_id":"7","created":true)"), std::string::npos) << whole;
  ASSERT_NE(whole.find(R"("watch_id":"5","canceled":true)"), std::string::npos) << whole;
  // Every cut into two pieces, then every byte alone.
  for (size_t cut = 0; cut <= kMixedBody.size(); ++cut) {
    ASSERT_EQ(run_mixed({kMixedBody.substr(0, cut), kMixedBody.substr(cut)}), whole)
        << "cut at byte " << cut << ": \"" << kMixedBody.substr(0, cut) << "\" | ...";
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < kMixedBody.size(); ++i) bytes.push_back(kMixedBody.substr(i, 1));
  EXPECT_EQ(run_mixed(bytes), whole) << "one byte at a time";
  // Random cuts into up to 12 pieces, seeded.
  const char* env = std::getenv("ETCDLAB_SEED");
  const uint64_t seed = env ? std::strtoull(env, nullptr, 10) : 1;
  for (uint64_t round = 0; round < 200; ++round) {
    std::mt19937_64 rng(seed * 1000 + round);
    std::vector<size_t> cuts{0, kMixedBody.size()};
    for (size_t n = rng() % 12; n > 0; --n) cuts.push_back(rng() % kMixedBody.size());
    std::sort(cuts.begin(), cuts.end());
    std::vector<std::string_view> pieces;
    for (size_t i = 1; i < cuts.size(); ++i) {
      pieces.push_back(kMixedBody.substr(cuts[i - 1], cuts[i] - cuts[i - 1]));
    }
    ASSERT_EQ(run_mixed(pieces), whole)
        << "random cuts, round " << round << "; replay: ETCDLAB_SEED=" << seed
        << " build/bin/server-tests --gtest_filter=GatewayWatch.ABodySplitAnywhere*";
  }
}

TEST(GatewayWatch, WhitespaceAloneIsNothingAndKeepsTheStreamReading) {
  WatchFake fake;
  WatchSession s(fake, fake.max_request_bytes(), [] {});
  for (int i = 0; i < 50; ++i) s.received(i % 2 ? "\n" : " \t\r\n ");
  EXPECT_TRUE(all_lines(s).empty());
  EXPECT_TRUE(s.reading());
  s.received("{\"create_request\":{\"key\":\"YQ==\"}}");
  EXPECT_EQ(joined(all_lines(s)), result(1, R"("created":true)"));
}

// ---- what etcd's gateway ignores

TEST(GatewayWatch, NullEmptyAndUnknownObjectsAreIgnored) {
  WatchFake fake;
  WatchSession s(fake, fake.max_request_bytes(), [] {});
  s.received("null {} {\"bogus\":1} {\"create_request\":{\"key\":\"YQ==\",\"bogus\":[1]}}");
  EXPECT_EQ(joined(all_lines(s)), result(1, R"("created":true)"));
  EXPECT_TRUE(s.reading());
  EXPECT_FALSE(s.refusal());
}

TEST(GatewayWatch, UnknownCancelsGetNoAnswer) {
  WatchFake fake;
  WatchSession s(fake, fake.max_request_bytes(), [] {});
  s.received("{\"cancel_request\":{\"watch_id\":\"99\"}}{\"cancel_request\":{}}");
  EXPECT_TRUE(all_lines(s).empty());
  EXPECT_TRUE(s.reading());
}

// ---- bad requests

TEST(GatewayWatch, ABadFirstRequestRefusesTheStreamWithEtcdsError) {
  struct Case {
    std::string body;
    std::string message;  // Go's, as etcd 3.4's gateway words it
  };
  const std::vector<Case> cases = {
      {"[1]", "json: cannot unmarshal array into Go value of type map[string]json.RawMessage"},
      {"\"x\"", "json: cannot unmarshal string into Go value of type map[string]json.RawMessage"},
      {"true", "json: cannot unmarshal bool into Go value of type map[string]json.RawMessage"},
      {"{\"create_request\":{\"key\":5}}",
       "json: cannot unmarshal number into Go value of type []uint8"},
      {"{\"create_request\":{\"key\":\"YQ==\",\"filters\":[\"NOPE\"]}}",
       "unknown value \"NOPE\" for enum etcdserverpb.WatchCreateRequest_FilterType"},
  };
  for (const Case& c : cases) {
    WatchFake fake;
    WatchSession s(fake, fake.max_request_bytes(), [] {});
    s.received(c.body);
    ASSERT_TRUE(s.refusal()) << c.body;
    EXPECT_EQ(s.refusal()->status, 500) << c.body;
    EXPECT_EQ(s.refusal()->body, error_body(c.message))
        << c.body;
    EXPECT_FALSE(s.reading()) << c.body;
    EXPECT_TRUE(all_lines(s).empty()) << c.body;
    EXPECT_EQ(fake.hub().watchers(), 0u) << c.body;
  }
}

TEST(GatewayWatch, ANumberEndingTheBodyIsReadWhenTheBodyEnds) {
  WatchFake fake;
  WatchSession s(fake, fake.max_request_bytes(), [] {});
  s.received("5");  // a number may go on: only the end of the body ends it
  EXPECT_FALSE(s.refusal());
  s.body_ended();
  ASSERT_TRUE(s.refusal());
  EXPECT_NE(s.refusal()->body.find("cannot unmarshal number"), std::string::npos);
}

TEST(GatewayWatch, ABodyCutShortRefusesTheStreamWhenItEnds) {
  WatchFake fake;
  WatchSession s(fake, fake.max_request_bytes(), [] {});
  s.received("{\"create_request\":{");
  EXPECT_FALSE(s.refusal());
  s.body_ended();
  ASSERT_TRUE(s.refusal());
  EXPECT_EQ(s.refusal()->status, 500);
}

TEST(GatewayWatch, ABadLaterRequestStopsTheRequestsButNotTheAnswers) {
  for (std::string bad : {"{bad", "[1]", "{\"create_request\":{\"key\":5}}", "7 "}) {
    WatchFake fake;
    WatchSession s(fake, fake.max_request_bytes(), [] {});
    s.received("{\"create_request\":{\"key\":\"YQ==\"}}" + bad +
               "{\"create_request\":{\"key\":\"YQ==\"}}");
    EXPECT_FALSE(s.refusal()) << bad;
    EXPECT_FALSE(s.reading()) << bad;
    s.received("{\"progress_request\":{}}");  // not read any more
    fake.put("a", "1");                        // the watcher made first still answers
    EXPECT_EQ(joined(all_lines(s)),
              result(1, R"("created":true)") +
                  result(2, R"("events":[{"kv":{"key":"YQ==","create_revision":"2",)"
                            R"("mod_revision":"2","version":"1","value":"MQ=="}}])"))
        << bad;
  }
}

TEST(GatewayWatch, AnObjectLargerThanARequestCanBeIsRefused) {
  WatchFake fake;
  WatchSession s(fake, 1000, [] {});  // --max-request-bytes=1000: objects up to ~765 KB
  s.received("{\"create_request\":{\"key\":\"");
  std::string filler(64 * 1024, 'A');
  for (int i = 0; i < 20 && !s.refusal(); ++i) s.received(filler);
  ASSERT_TRUE(s.refusal());
  EXPECT_NE(s.refusal()->body.find("grpc: received message larger than max"), std::string::npos);
}

// ---- result lines

TEST(GatewayWatch, EventsAreEtcdsPutsLeaveTheTypeOutDeletesCarryItAndPrevKv) {
  WatchFake fake;
  WatchSession s(fake, fake.max_request_bytes(), [] {});
  s.received("{\"create_request\":{\"key\":\"Zm9v\",\"prev_kv\":true}}");
  fake.put("foo", "bar");
  fake.put("foo", "");
  fake.del("foo");
  EXPECT_EQ(joined(all_lines(s)),
            result(1, R"("created":true)") +
                result(2, R"("events":[{"kv":{"key":"Zm9v","create_revision":"2",)"
                          R"("mod_revision":"2","version":"1","value":"YmFy"}}])") +
                result(3, R"("events":[{"kv":{"key":"Zm9v","create_revision":"2",)"
                          R"("mod_revision":"3","version":"2"},"prev_kv":{"key":"Zm9v",)"
                          R"("create_revision":"2","mod_revision":"2","version":"1",)"
                          R"("value":"YmFy"}}])") +
                result(4, R"("events":[{"type":"DELETE","kv":{"key":"Zm9v","mod_revision":"4"},)"
                          R"("prev_kv":{"key":"Zm9v","create_revision":"2","mod_revision":"3",)"
                          R"("version":"2"}}])"));
}

TEST(GatewayWatch, ACompactedStartIsCancelledWithNoHeaderRevision) {
  WatchFake fake;
  for (int i = 0; i < 4; ++i) fake.put("k", std::to_string(i));
  fake.compact(4);
  WatchSession s(fake, fake.max_request_bytes(), [] {});
  s.received("{\"create_request\":{\"key\":\"aw==\",\"start_revision\":\"2\"}}");
  EXPECT_EQ(joined(all_lines(s)),
            result(5, R"("created":true)") +
                R"({"result":{"header":{"cluster_id":"324952591200643719",)"
                R"("member_id":"3319814642761637952","raft_term":"2"},"canceled":true,)"
                R"("compact_revision":"4"}})"
                "\n");
}

TEST(GatewayWatch, ADuplicateIdIsRefusedAsEtcdWordsIt) {
  WatchFake fake;
  WatchSession s(fake, fake.max_request_bytes(), [] {});
  s.received("{\"create_request\":{\"key\":\"YQ==\",\"watch_id\":3}}"
             "{\"create_request\":{\"key\":\"YQ==\",\"watch_id\":\"3\"}}");
  EXPECT_EQ(joined(all_lines(s)),
            result(1, R"("watch_id":"3","created":true)") +
                result(1, R"("watch_id":"-1","created":true,"canceled":true,)"
                          R"("cancel_reason":"mvcc: duplicate watch ID provided on the WatchStream")"));
}

TEST(GatewayWatch, TakeLinesGivesAtMostWhatItIsAskedFor) {
  WatchFake fake;
  WatchSession s(fake, fake.max_request_bytes(), [] {});
  s.received("{\"create_request\":{\"key\":\"YQ==\"}}");
  for (int i = 0; i < 5; ++i) fake.put("a", std::to_string(i));
  EXPECT_EQ(s.take_lines(2).size(), 2u);
  EXPECT_EQ(s.take_lines(10).size(), 4u);
  EXPECT_TRUE(s.take_lines(10).empty());
}

TEST(GatewayWatch, TheSessionsEndClosesItsStreamAndItsWatchers) {
  WatchFake fake;
  {
    WatchSession s(fake, fake.max_request_bytes(), [] {});
    s.received("{\"create_request\":{\"key\":\"YQ==\"}}{\"create_request\":{\"key\":\"Yg==\"}}");
    EXPECT_EQ(fake.hub().streams(), 1u);
    EXPECT_EQ(fake.hub().watchers(), 2u);
  }
  EXPECT_EQ(fake.hub().streams(), 0u);
  EXPECT_EQ(fake.hub().watchers(), 0u);
}

}  // namespace etcdlab::gateway
