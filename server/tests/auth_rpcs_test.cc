// The Auth RPCs' flow (server/rpc/auth_rpcs.h) and the doors' credentials, against a fake
// KvService that records what the rpc layer asked of it: bcrypt only inside run_blocking, only
// hashes proposed, the throttle's delay waited, a stale auth revision retried, and the
// Authorization header reaching the node as the caller's token.
#include "../rpc/auth_rpcs.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "../gateway/handlers.h"
#include "../rpc/password.h"

namespace etcdlab::rpc {
namespace {

using boost::asio::awaitable;
using server::ApiError;

class FakeAuthService final : public KvService {
 public:
  // ---- what the rpc layer asks
  awaitable<server::Result> write(server::Request request) override {
    co_return co_await write(std::move(request), server::Credentials{});
  }
  awaitable<server::Result> write(server::Request request,
                                  const server::Credentials& who) override {
    EXPECT_FALSE(in_blocking) << "proposed from the worker thread's work";
    proposed.push_back(request);
    callers.push_back(who);
    server::Result r;
    if (std::holds_alternative<server::AuthenticateRequest>(request)) {
      if (stale_answers > 0) {
        --stale_answers;
        r.auth_error = server::auth_error(server::rpctypes::kAuthOldRevision);
      } else {
        const auto& a = std::get<server::AuthenticateRequest>(request);
        r.value = server::AuthResult{a.token_prefix + ".7"};
      }
    } else {
      r.value = server::AuthResult{};
    }
    co_return r;
  }
  awaitable<server::Result> txn(server::TxnRequest) override { co_return server::Result{}; }
  awaitable<void> read_barrier() override {
    ++barriers;
    co_return;
  }
  const mvcc::KvStore& store() const override { return sm_.store(); }
  uint64_t cluster_id() const override { return 1; }
  uint64_t member_id() const override { return 2; }
  uint64_t raft_term() const override { return 2; }
  std::vector<server::Member> members() const override { return {}; }
  gateway::ServerStatus status() const override { return {}; }
  bool healthy() const override { return true; }
  uint64_t max_request_bytes() const override { return 1572864; }

  server::KvNode::AuthLookup auth_lookup(const std::string& name) override {
    ++lookups;
    server::KvNode::AuthLookup l;
    l.enabled = enabled;
    l.revision = 5 + lookups;
    l.delay_ms = delay_ms;
    if (name != "alice") l.dummy_cost = dummy_cost;
    if (name == "alice") l.hash = alice_hash;
    return l;
  }
  void auth_failed(const std::string& name) override { failed.push_back(name); }
  awaitable<void> run_blocking(std::function<void()>&& work) override {
    std::function<void()> mine = std::move(work);
    ++blocking;
    failed_at_verify.push_back(failed.size());
    if (busy) throw ApiError(server::GrpcCode::kResourceExhausted, "etcdserver: too many requests");
    in_blocking = true;
    mine();
    in_blocking = false;
    co_return;
  }
  awaitable<void> pause(std::chrono::milliseconds how_long) override {
    paused.push_back(how_long.count());
    co_return;
  }
  std::string random_bytes(size_t n) override {
    std::string out;
    for (size_t i = 0; i < n; ++i) out.push_back(static_cast<char>(next_byte++));
    return out;
  }
  int bcrypt_cost() const override {
    ++cost_asked;
    return 4;
  }

  // ---- what the test sets and reads
  bool enabled = true;
  int64_t delay_ms = 0;
  int stale_answers = 0;
  std::string alice_hash = hash_password("alicepw", 4, std::string(kSaltBytes, 'a'));
  std::vector<server::Request> proposed;
  std::vector<server::Credentials> callers;
  std::vector<std::string> failed;
  std::vector<size_t> failed_at_verify;  // how many attempts the throttle had at each verify
  int dummy_cost = 0;
  mutable int cost_asked = 0;
  bool busy = false;  // run_blocking answers as a full bcrypt queue does
  std::vector<int64_t> paused;
  int lookups = 0;
  int barriers = 0;
  int blocking = 0;
  bool in_blocking = false;
  unsigned char next_byte = 0;

 private:
  server::KvStateMachine sm_{mvcc::KvStore::open({}), {}};
};

// Runs one rpc coroutine to completion; returns the ApiError it threw, if any.
template <class T>
std::optional<ApiError> run(awaitable<T> work, T* out = nullptr) {
  boost::asio::io_context io;
  std::optional<ApiError> error;
  boost::asio::co_spawn(io, std::move(work), [&](std::exception_ptr e, T value) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const ApiError& a) {
        error = a;
      }
    } else if (out != nullptr) {
      *out = std::move(value);
    }
  });
  io.run();
  return error;
}

std::optional<ApiError> run_void(awaitable<void> work) {
  boost::asio::io_context io;
  std::optional<ApiError> error;
  boost::asio::co_spawn(io, std::move(work), [&](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const ApiError& a) {
        error = a;
      }
    }
  });
  io.run();
  return error;
}

TEST(AuthRpcs, AuthenticateChecksThePasswordOffThreadThenProposesAToken) {
  FakeAuthService s;
  std::string token;
  EXPECT_FALSE(run(authenticate(s, "alice", "alicepw"), &token));
  EXPECT_TRUE(std::regex_match(token, std::regex("[A-Za-z]{16}\\.7"))) << token;
  EXPECT_EQ(s.barriers, 1);
  EXPECT_EQ(s.blocking, 1);  // the verify, on the worker
  ASSERT_EQ(s.proposed.size(), 1u);
  const auto& a = std::get<server::AuthenticateRequest>(s.proposed[0]);
  EXPECT_EQ(a.name, "alice");
  EXPECT_EQ(a.checked_revision, 6u);  // the revision the lookup answered
  EXPECT_FALSE(s.callers[0].token);   // proposed with empty credentials
}

TEST(AuthRpcs, AuthenticateWithAuthOffIsRefusedAsEtcdDoes) {
  FakeAuthService s;
  s.enabled = false;
  std::optional<ApiError> e =
      run(authenticate(s, "alice", "alicepw"), static_cast<std::string*>(nullptr));
  ASSERT_TRUE(e);
  EXPECT_STREQ(e->what(), "etcdserver: authentication is not enabled");
  EXPECT_EQ(e->code(), server::GrpcCode::kFailedPrecondition);
  EXPECT_EQ(s.blocking, 0);
}

TEST(AuthRpcs, WrongPasswordAndUnknownUserFailAlikeAndFeedTheThrottle) {
  FakeAuthService s;
  for (const char* name : {"alice", "mallory", ""}) {
    std::optional<ApiError> e =
        run(authenticate(s, name, "wrong"), static_cast<std::string*>(nullptr));
    ASSERT_TRUE(e) << name;
    EXPECT_STREQ(e->what(), "etcdserver: authentication failed, invalid user ID or password");
    EXPECT_EQ(e->code(), server::GrpcCode::kInvalidArgument);
  }
  EXPECT_EQ(s.blocking, 3);  // an unknown name pays a (dummy) verify too: no timing leak
  EXPECT_EQ(s.failed, (std::vector<std::string>{"alice", "mallory", ""}));
  EXPECT_TRUE(s.proposed.empty());
}

// Review finding 3: attempts sent together must not all see "no delay" because none has
// failed yet: each counts with the throttle before its wait and its bcrypt.
TEST(AuthRpcs, AnAttemptCountsWithTheThrottleWhenItStartsNotWhenItFails) {
  FakeAuthService s;
  EXPECT_TRUE(run(authenticate(s, "alice", "wrong"), static_cast<std::string*>(nullptr)));
  EXPECT_EQ(s.failed_at_verify, (std::vector<size_t>{1}));
  EXPECT_EQ(s.failed, (std::vector<std::string>{"alice"})) << "counted once, not again";
  std::string token;
  EXPECT_FALSE(run(authenticate(s, "alice", "alicepw"), &token));
  EXPECT_EQ(s.failed_at_verify, (std::vector<size_t>{1, 2})) << "a right one counts too";
  // (its AuthenticateRequest clears the name when it applies: kv_node_auth_test.)
}

TEST(AuthRpcs, AFullBcryptQueueAnswersEtcdsOverloadErrorAndProposesNothing) {
  FakeAuthService s;
  s.busy = true;
  std::optional<ApiError> e =
      run(authenticate(s, "alice", "alicepw"), static_cast<std::string*>(nullptr));
  ASSERT_TRUE(e);
  EXPECT_STREQ(e->what(), "etcdserver: too many requests");
  EXPECT_EQ(e->code(), server::GrpcCode::kResourceExhausted);
  EXPECT_TRUE(s.proposed.empty());
}

TEST(AuthRpcs, AnUnknownNamesDummyIsVerifiedAtTheCostTheNodeNamesElseAtTheFlags) {
  FakeAuthService s;
  s.dummy_cost = 5;
  EXPECT_TRUE(run(authenticate(s, "mallory", "x"), static_cast<std::string*>(nullptr)));
  EXPECT_EQ(s.cost_asked, 0) << "the node's cost, not --bcrypt-cost";
  s.dummy_cost = 0;  // no stored hash
  EXPECT_TRUE(run(authenticate(s, "mallory", "x"), static_cast<std::string*>(nullptr)));
  EXPECT_EQ(s.cost_asked, 1);
}

TEST(AuthRpcs, TheThrottlesDelayIsWaitedBeforeTheVerify) {
  FakeAuthService s;
  s.delay_ms = 400;
  EXPECT_TRUE(run(authenticate(s, "alice", "wrong"), static_cast<std::string*>(nullptr)));
  EXPECT_EQ(s.paused, (std::vector<int64_t>{400}));
}

TEST(AuthRpcs, AStaleAuthRevisionIsCheckedAgainThenGivenUp) {
  FakeAuthService s;
  s.stale_answers = 1;
  std::string token;
  EXPECT_FALSE(run(authenticate(s, "alice", "alicepw"), &token));
  EXPECT_EQ(s.lookups, 2);
  EXPECT_EQ(std::get<server::AuthenticateRequest>(s.proposed[1]).checked_revision, 7u);
  FakeAuthService t;
  t.stale_answers = 10;
  std::optional<ApiError> e =
      run(authenticate(t, "alice", "alicepw"), static_cast<std::string*>(nullptr));
  ASSERT_TRUE(e);
  EXPECT_STREQ(e->what(), "etcdserver: revision of auth store is old");
  EXPECT_EQ(t.lookups, 3);
}

TEST(AuthRpcs, UserAddProposesABcryptHashMadeOffThreadNeverThePassword) {
  FakeAuthService s;
  server::Credentials root{std::string("tok.1"), std::nullopt};
  EXPECT_FALSE(run_void(user_add(s, "bob", "s3cret-pw", root)));
  EXPECT_EQ(s.blocking, 1);
  ASSERT_EQ(s.proposed.size(), 1u);
  const auto& u = std::get<server::UserAddRequest>(s.proposed[0]);
  EXPECT_EQ(u.name, "bob");
  EXPECT_EQ(u.hash.substr(0, 7), "$2b$04$");
  EXPECT_EQ(u.hash.find("s3cret-pw"), std::string::npos);
  EXPECT_TRUE(verify_password("s3cret-pw", u.hash));
  EXPECT_EQ(s.callers[0].token, root.token);  // stamped with the caller at apply
  EXPECT_FALSE(run_void(user_change_password(s, "bob", "other", root)));
  EXPECT_TRUE(
      verify_password("other", std::get<server::UserChangePasswordRequest>(s.proposed[1]).hash));
}

TEST(AuthRpcs, TokenPrefixIsSixteenLetters) {
  FakeAuthService s;
  for (int i = 0; i < 20; ++i) {
    std::string p = token_prefix(s);
    EXPECT_TRUE(std::regex_match(p, std::regex("[A-Za-z]{16}"))) << p;
  }
}

TEST(AuthDoors, TheAuthorizationHeaderIsTheRawToken) {
  FakeAuthService s;
  boost::asio::io_context io;
  gateway::HttpRequest r{"POST", "/v3/auth/role/add", "{\"name\":\"x\"}", "Bearer abc.1"};
  std::optional<gateway::HttpResponse> out;
  boost::asio::co_spawn(io, gateway::handle(s, std::move(r)),
                        [&](std::exception_ptr, gateway::HttpResponse a) { out = std::move(a); });
  io.run();
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 200) << out->body;
  ASSERT_EQ(s.callers.size(), 1u);
  EXPECT_EQ(s.callers[0].token, std::optional<std::string>("Bearer abc.1"));  // not stripped
  EXPECT_EQ(std::get<server::RoleAddRequest>(s.proposed[0]).name, "x");
}

}  // namespace
}  // namespace etcdlab::rpc
