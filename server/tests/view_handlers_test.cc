// The live view's paths (server/gateway/view_handlers.h) over a real KvNode: the state's JSON
// (members numbered by id, roles, the requests ring, no values), the event stream's first
// event and its end when the server stops, the bound on open streams, the page's routing, the
// root-only rule with auth on, and 404 with the view off. No sockets and no Beast: each request
// runs handle() to completion on a private io_context; no timer is ever waited on.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <optional>

#include "../gateway/handlers.h"
#include "../gateway/view_streams.h"
#include "kv_node_fixture.h"

namespace etcdlab::gateway {
namespace {

using boost::asio::awaitable;
using server::kvtest::TestNode;
namespace json = boost::json;

// The gateway's service over one real node, as the runtime's NodeService is (a write is
// proposed and the node's Ready loop run until it completes).
class NodeBacked final : public KvService {
 public:
  NodeBacked(TestNode& n, size_t max_streams) : n_(n), streams_(max_streams) {}
  awaitable<server::Result> write(server::Request request) override {
    co_return finish(n_.node->submit(std::move(request)));
  }
  awaitable<server::Result> txn(server::TxnRequest request) override {
    co_return finish(n_.node->txn(std::move(request)));
  }
  awaitable<void> read_barrier() override { co_return; }
  const mvcc::KvStore& store() const override { return n_.node->store(); }
  uint64_t cluster_id() const override { return 0xc1u; }
  uint64_t member_id() const override { return n_.node->id(); }
  uint64_t raft_term() const override { return n_.node->term(); }
  std::vector<server::Member> members() const override { return n_.node->members(); }
  ServerStatus status() const override { return {}; }
  bool healthy() const override { return n_.node->healthy(); }
  uint64_t max_request_bytes() const override { return 1 << 20; }
  std::optional<server::ApiError> authorize(const server::Credentials& who,
                                            server::KvNode::Access access,
                                            const mvcc::KeyRange& keys) override {
    return n_.node->authorize(who, access, keys);
  }
  ViewStreams* view_streams() override { return view_on ? &streams_ : nullptr; }
  server::NodeView view_state() const override { return n_.node->view_state(); }
  std::vector<server::RequestRecord> recent_requests() const override {
    return n_.node->recent_requests();
  }

  bool view_on = true;
  ViewStreams& streams() { return streams_; }

 private:
  server::Result finish(uint64_t id) {
    n_.pump();
    const auto* d = n_.find(id);
    if (d == nullptr || d->completion.error) throw std::runtime_error("the write failed");
    return d->completion.result;
  }
  TestNode& n_;
  ViewStreams streams_;
};

// Runs a coroutine to completion on a private io_context.
template <class T>
std::optional<T> run(awaitable<T> a) {
  boost::asio::io_context io;
  std::optional<T> out;
  boost::asio::co_spawn(io, std::move(a), [&](std::exception_ptr e, T r) {
    if (e) {
      ADD_FAILURE() << "the coroutine threw";
    } else {
      out = std::move(r);
    }
  });
  io.run();
  return out;
}

HttpResponse get(KvService& s, std::string target, std::string authorization = "") {
  auto r = run(handle(s, HttpRequest{"GET", std::move(target), "", std::move(authorization)}));
  if (r) return std::move(*r);
  HttpResponse none;
  none.status = 0;
  return none;
}

std::optional<std::string> next_piece(HttpResponse& r) {
  auto piece = run(r.stream());
  return piece ? *piece : std::nullopt;
}

std::string header(const HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

// A member whose configuration is three voters, 100, 200 and 300, itself the 200: it cannot
// win an election alone, which is all this needs (its view of itself and the members).
std::unique_ptr<TestNode> member_200_of_three() {
  auto n = std::make_unique<TestNode>();
  n->id = 200;
  server::kvtest::bootstrap(*n->storage, {300, 100, 200});
  n->open({300, 100, 200}, 1, 0);
  n->node->tick();
  n->pump();
  return n;
}

TEST(ViewHandlers, StateNumbersTheMembersByIdAndShowsThisOnesRaftState) {
  auto n = member_200_of_three();
  NodeBacked s(*n, 4);
  HttpResponse r = get(s, "/etcdlab/state");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  json::object state = json::parse(r.body).as_object();
  const json::object& node = state.at("node").as_object();
  EXPECT_EQ(node.at("id"), 2) << "200 is the second of 100, 200, 300";
  EXPECT_EQ(node.at("member_id"), "c8");
  EXPECT_EQ(node.at("name"), "n200");
  EXPECT_EQ(node.at("role"), "follower");
  EXPECT_TRUE(node.at("leader").is_null()) << "no leader";
  EXPECT_EQ(node.at("voters"), (json::array{1, 2, 3}));
  EXPECT_EQ(node.at("log_terms"), (json::array{1, 1, 1})) << "the three bootstrap entries";
  EXPECT_EQ(node.at("log_from"), 1);
  EXPECT_EQ(node.at("up"), true);
  EXPECT_EQ(node.at("member"), true);
  const json::array& members = state.at("members").as_array();
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[0].at("member_id"), "64");
  EXPECT_EQ(members[1].at("member_id"), "c8");
  EXPECT_EQ(members[2].at("member_id"), "12c");
  EXPECT_EQ(members[2].at("name"), "n300");
  EXPECT_EQ(state.at("cluster_id"), "c1");
  EXPECT_TRUE(state.at("clients").as_array().empty());
  EXPECT_TRUE(state.contains("t_ms"));
  EXPECT_EQ(header(r, "Cache-Control"), "no-cache");
}

TEST(ViewHandlers, StateListsTheCompletedRequestsButNeverAValue) {
  auto n = server::kvtest::single(5);
  NodeBacked s(*n, 4);
  server::kvtest::write(*n, server::kvtest::put("the-key", "the-secret-value"));
  HttpResponse r = get(s, "/etcdlab/state");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find("the-secret-value"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("the-key"), std::string::npos) << r.body;
  json::object state = json::parse(r.body).as_object();
  EXPECT_EQ(state.at("node").at("role"), "leader");
  EXPECT_EQ(state.at("node").at("leader"), 1) << "itself, the only member";
  const json::array& clients = state.at("clients").as_array();
  ASSERT_EQ(clients.size(), 1u);
  EXPECT_EQ(clients[0].at("kind"), "put");
  EXPECT_EQ(clients[0].at("outcome"), "ok");
  EXPECT_EQ(clients[0].at("via"), 1);
  EXPECT_EQ(clients[0].at("revision"), state.at("revision"));
  EXPECT_EQ(clients[0].at("text"), "put, key 7 B");
}

TEST(ViewHandlers, EventsSendTheStateAtOnceAndEndWhenTheServerStops) {
  auto n = server::kvtest::single();
  NodeBacked s(*n, 4);
  HttpResponse r = get(s, "/etcdlab/events");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/event-stream");
  ASSERT_TRUE(r.stream);
  std::optional<std::string> first = next_piece(r);
  ASSERT_TRUE(first);
  const std::string head = "retry: 1000\ndata: ";
  ASSERT_TRUE(first->starts_with(head)) << *first;
  ASSERT_TRUE(first->ends_with("\n\n"));
  json::value event = json::parse(first->substr(head.size(), first->size() - head.size() - 2));
  EXPECT_EQ(event.at("node").at("role"), "leader");
  EXPECT_EQ(s.streams().open_count(), 1u);
  s.streams().stop();
  EXPECT_EQ(next_piece(r), std::nullopt) << "no wait for the next tick or heartbeat";
  r = HttpResponse{};  // (the session ends: its place is given back)
  EXPECT_EQ(s.streams().open_count(), 0u);
  EXPECT_EQ(
      get(s, "/etcdlab/events").body,
      R"({"error":"etcdserver: server stopped","message":"etcdserver: server stopped","code":14})")
      << "none opens once stopping";
}

TEST(ViewHandlers, StreamsPastTheLimitAre429UntilOneCloses) {
  auto n = server::kvtest::single();
  NodeBacked s(*n, 2);
  HttpResponse a = get(s, "/etcdlab/events");
  HttpResponse b = get(s, "/etcdlab/events");
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(b.status, 200);
  HttpResponse c = get(s, "/etcdlab/events");
  EXPECT_EQ(c.status, 429);
  json::object error = json::parse(c.body).as_object();
  EXPECT_EQ(error.at("code"), 8);
  EXPECT_NE(error.at("error").as_string().find("--view-max-streams"), json::string::npos);
  EXPECT_EQ(get(s, "/etcdlab/state").status, 200) << "state is not a stream";
  a = HttpResponse{};
  EXPECT_EQ(get(s, "/etcdlab/events").status, 200);
}

TEST(ViewHandlers, WithTheViewOffItsPathsAre404) {
  auto n = server::kvtest::single();
  NodeBacked s(*n, 4);
  s.view_on = false;
  for (const char* path :
       {"/etcdlab/state", "/etcdlab/events", "/etcdlab/view/", "/etcdlab/view"}) {
    EXPECT_EQ(get(s, path).status, 404) << path;
  }
}

TEST(ViewHandlers, ThePagesPathsRedirectAnswerAFileOr404AndRefuseOtherMethods) {
  auto n = server::kvtest::single();
  NodeBacked s(*n, 4);
  HttpResponse r = get(s, "/etcdlab/view?members=a");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(header(r, "Location"), "/etcdlab/view/?members=a");
  EXPECT_EQ(get(s, "/etcdlab/view/no-such-file.js").status, 404);
  EXPECT_EQ(get(s, "/etcdlab/view/../../etc/passwd").status, 404);
  auto posted = run(handle(s, HttpRequest{"POST", "/etcdlab/state", "{}", ""}));
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, 405);
}

TEST(ViewHandlers, WithAuthOnOnlyARootTokenSeesStateAndEvents) {
  auto n = server::kvtest::single();
  NodeBacked s(*n, 4);
  using namespace server;
  for (const Request& req :
       std::vector<Request>{UserAddRequest{"root", "$2b$04$root"}, RoleAddRequest{"root"},
                            UserGrantRoleRequest{"root", "root"},
                            UserAddRequest{"alice", "$2b$04$alice"}, AuthEnableRequest{}}) {
    kvtest::write(*n, req);
  }
  auto login = [&](const std::string& name) {
    uint64_t revision = n->node->auth_lookup(name).revision;
    Result r =
        kvtest::write(*n, AuthenticateRequest{name, name + "prefix", revision}).completion.result;
    return std::get<AuthResult>(r.value).token;
  };
  std::string root = login("root");
  std::string alice = login("alice");
  for (const char* path : {"/etcdlab/state", "/etcdlab/events"}) {
    for (const std::string& token : {std::string(), alice, std::string("nope.1")}) {
      HttpResponse r = get(s, path, token);
      EXPECT_EQ(r.status, 401) << path << " with '" << token << "'";
      json::object error = json::parse(r.body).as_object();
      EXPECT_EQ(error.size(), 3u) << r.body;
      EXPECT_TRUE(error.contains("error") && error.contains("message") && error.contains("code"));
    }
    EXPECT_EQ(get(s, std::string(path) + "?token=" + alice).status, 401) << path;
    EXPECT_EQ(get(s, path, root).status, 200) << path;
    EXPECT_EQ(get(s, std::string(path) + "?token=" + root).status, 200) << path;
  }
  EXPECT_EQ(
      get(s, "/etcdlab/state", alice).body,
      R"({"error":"etcdserver: permission denied","message":"etcdserver: permission denied","code":7})");
}

}  // namespace
}  // namespace etcdlab::gateway
