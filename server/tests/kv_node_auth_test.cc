// Auth in the node (kv_node_auth.cc, state_machine_auth.cc): how credentials resolve, that
// writes are decided at apply from the entry's stamp on every member, tokens, the auth reads,
// and that the auth state survives a restart and a snapshot. Driven by ticks, no clock.
#include <gtest/gtest.h>

#include "../node/auth/auth_table.h"
#include "etcdlab/sqlite/companion_set.h"
#include "kv_node_fixture.h"
#include "temp_dir.h"

namespace etcdlab::server {
namespace {

// The text of a refusal, "" for none (so a missing refusal fails the test instead of crashing it).
std::string said(const std::optional<ApiError>& refusal) {
  return refusal ? refusal->what() : "";
}

using namespace kvtest;
using namespace rpctypes;

Credentials token(std::string t) { return Credentials{std::move(t), std::nullopt}; }

// Runs a request with credentials to its completion (through the cluster `c` is n's).
Done write_as(TestNode& n, const Request& r, const Credentials& who, Cluster* c = nullptr) {
  uint64_t id = n.node->submit(r, who);
  if (c != nullptr) {
    c->settle();
  } else {
    n.pump();
  }
  const Done* d = n.find(id);
  if (d == nullptr) {
    ADD_FAILURE() << "request " << id << " did not complete";
    return {};
  }
  return *d;
}

// The refusal of a completion: its error, or its result's auth_error ("" if it went through).
std::string refusal(const Done& d) {
  if (d.completion.error) return d.completion.error->what();
  if (d.completion.result.auth_error) return d.completion.result.auth_error->what();
  return "";
}

GrpcCode refusal_code(const Done& d) {
  if (d.completion.error) return d.completion.error->code();
  if (d.completion.result.auth_error) return d.completion.result.auth_error->code();
  return GrpcCode::kOk;
}

// Authenticates `name` (the rpc layer's steps, minus bcrypt) and returns the token.
std::string login(TestNode& n, const std::string& name, const std::string& prefix = "PREFIX",
                  Cluster* c = nullptr) {
  AuthLookup look = n.node->auth_lookup(name);
  EXPECT_TRUE(look.enabled);
  EXPECT_TRUE(look.hash.has_value()) << name;
  Done d = write_as(n, AuthenticateRequest{name, prefix, look.revision}, {}, c);
  EXPECT_EQ(refusal(d), "");
  const auto* result = std::get_if<AuthResult>(&d.completion.result.value);
  return result ? result->token : "";
}

// Scenario 01: root, alice READ r/, bob WRITE w/, then auth enable; returns root's token.
std::string enable_auth(TestNode& n, Cluster* c = nullptr) {
  for (const Request& r : std::vector<Request>{
           UserAddRequest{"root", "$2b$04$root"}, RoleAddRequest{"root"},
           UserGrantRoleRequest{"root", "root"}, UserAddRequest{"alice", "$2b$04$alice"},
           UserAddRequest{"bob", "$2b$04$bob"}, RoleAddRequest{"reader"},
           RoleGrantPermissionRequest{"reader", {auth::PermType::kRead, "r/", "r0"}},
           RoleAddRequest{"writer"},
           RoleGrantPermissionRequest{"writer", {auth::PermType::kWrite, "w/", "w0"}},
           UserGrantRoleRequest{"alice", "reader"}, UserGrantRoleRequest{"bob", "writer"},
           AuthEnableRequest{}}) {
    Done d = write_as(n, r, {}, c);
    EXPECT_EQ(refusal(d), "") << "setup request " << r.index();
  }
  EXPECT_TRUE(n.node->auth_enabled());
  return login(n, "root", "ROOTPREFIX", c);
}

TEST(KvNodeAuth, ResolutionOrderAuthOffTokenIsInvalidNoTokenIsFine) {
  auto n = single();
  Done d = write_as(*n, put("k", "v"), token("anything"));
  EXPECT_EQ(refusal(d), kInvalidAuthToken) << "auth off + any token (captured step 373)";
  EXPECT_EQ(refusal_code(d), GrpcCode::kUnauthenticated);
  EXPECT_EQ(refusal(write_as(*n, put("k", "v"), {})), "");
  EXPECT_FALSE(n->node->authorize({}, Access::kRange, {"k", ""}));
  EXPECT_EQ(said(n->node->authorize(token("x"), Access::kRange, {"k", ""})),
               kInvalidAuthToken);
}

TEST(KvNodeAuth, ResolutionOrderAuthOnNoTokenThenBadTokenThenPermission) {
  auto n = single();
  std::string root = enable_auth(*n);
  std::string alice = login(*n, "alice");
  Done none = write_as(*n, put("r/1", "v"), {});
  EXPECT_EQ(refusal(none), kUserEmpty) << "no token (step 36)";
  EXPECT_EQ(refusal_code(none), GrpcCode::kInvalidArgument);
  EXPECT_EQ(refusal(write_as(*n, put("r/1", "v"), token("notatoken"))), kInvalidAuthToken);
  EXPECT_EQ(refusal(write_as(*n, put("r/1", "v"), token("abcdefghijklmnop.3"))),
            kInvalidAuthToken)
      << "a well-formed unknown token naming an applied index (step 38)";
  Done denied = write_as(*n, put("r/1", "v"), token(alice));
  EXPECT_EQ(refusal(denied), kPermissionDenied) << "alice may only read r/";
  EXPECT_EQ(refusal_code(denied), GrpcCode::kPermissionDenied);
  EXPECT_EQ(n->node->store().range({"r/1", ""}).kvs.size(), 0u) << "a refused put wrote nothing";
  EXPECT_EQ(refusal(write_as(*n, put("r/1", "v"), token(root))), "");
  // Reads: the same order on the serving member (steps 35, 37).
  EXPECT_EQ(said(n->node->authorize({}, Access::kRange, {"r/1", ""})), kUserEmpty);
  EXPECT_EQ(said(n->node->authorize(token("bad"), Access::kRange, {"r/1", ""})),
               kInvalidAuthToken);
  EXPECT_FALSE(n->node->authorize(token(alice), Access::kRange, {"r/", "r0"}));
  EXPECT_EQ(said(n->node->authorize(token(alice), Access::kRange, {"w/1", ""})),
               kPermissionDenied);
}

TEST(KvNodeAuth, TokensHaveEtcdsSimpleFormatPrefixDotRaftIndex) {
  auto n = single();
  enable_auth(*n);
  std::string t = login(*n, "alice", "ABCDEFGHIJKLMNOP");
  EXPECT_EQ(t, "ABCDEFGHIJKLMNOP." + std::to_string(n->node->applied_index()));
}

TEST(KvNodeAuth, AuthenticateWithAStaleCheckedRevisionIsRefusedAsOld) {
  auto n = single();
  std::string root = enable_auth(*n);
  AuthLookup look = n->node->auth_lookup("alice");
  // The password was checked against this hash; then it changed.
  write_as(*n, UserChangePasswordRequest{"alice", "$2b$04$new"}, token(root));
  Done d = write_as(*n, AuthenticateRequest{"alice", "P", look.revision}, {});
  EXPECT_EQ(refusal(d), kAuthOldRevision);
  AuthLookup off = single()->node->auth_lookup("alice");
  EXPECT_FALSE(off.enabled);
  EXPECT_FALSE(off.hash);
}

TEST(KvNodeAuth, AdminRequestsNeedRootOnceEnabledButEnableWhileOffNeedsNoOne) {
  auto n = single();
  std::string root = enable_auth(*n);  // (its AuthEnable went with no token)
  std::string alice = login(*n, "alice");
  EXPECT_EQ(refusal(write_as(*n, AuthEnableRequest{}, {})), kUserEmpty) << "step 34";
  EXPECT_EQ(refusal(write_as(*n, AuthEnableRequest{}, token(root))), "");
  EXPECT_EQ(refusal(write_as(*n, RoleAddRequest{"x"}, token(alice))), kPermissionDenied);
  EXPECT_EQ(refusal(write_as(*n, AuthDisableRequest{}, token(alice))), kPermissionDenied);
  EXPECT_EQ(refusal(write_as(*n, UserDeleteRequest{"root"}, token(root))), kInvalidAuthMgmt);
  EXPECT_EQ(refusal(write_as(*n, RoleAddRequest{"x"}, token(root))), "");
}

TEST(KvNodeAuth, PasswordChangeUserDeleteAndDisableInvalidateTokensButARevokeDoesNot) {
  auto n = single();
  std::string root = enable_auth(*n);
  std::string alice = login(*n, "alice");
  std::string bob = login(*n, "bob");
  write_as(*n, UserRevokeRoleRequest{"alice", "reader"}, token(root));
  EXPECT_EQ(said(n->node->authorize(token(alice), Access::kRange, {"r/1", ""})),
               kPermissionDenied)
      << "a revoked role leaves the token valid (step 350)";
  write_as(*n, UserGrantRoleRequest{"alice", "reader"}, token(root));
  EXPECT_FALSE(n->node->authorize(token(alice), Access::kRange, {"r/1", ""}))
      << "an auth revision change does not kill the token";
  write_as(*n, UserChangePasswordRequest{"alice", "$2b$04$alice2"}, token(root));
  EXPECT_EQ(said(n->node->authorize(token(alice), Access::kRange, {"r/1", ""})),
               kInvalidAuthToken)
      << "step 361";
  write_as(*n, UserDeleteRequest{"bob"}, token(root));
  EXPECT_EQ(said(n->node->authorize(token(bob), Access::kTokenOnly)), kInvalidAuthToken);
  write_as(*n, AuthDisableRequest{}, token(root));
  EXPECT_EQ(said(n->node->authorize(token(root), Access::kRange, {"b", ""})),
               kInvalidAuthToken)
      << "step 372";
  write_as(*n, AuthEnableRequest{}, {});
  EXPECT_EQ(said(n->node->authorize(token(root), Access::kRange, {"b", ""})),
               kInvalidAuthToken)
      << "old tokens stay dead after a re-enable (step 379)";
}

TEST(KvNodeAuth, TokenTtlCountsTicksFromLastUse) {
  auto n = single(1, 1, 0, 1000, [](NodeOptions& o) { o.auth_token_ttl_ms = 2000; });
  enable_auth(*n);
  std::string alice = login(*n, "alice");  // 2 s = 20 ticks of 100 ms
  for (int i = 0; i < 50; ++i) {
    n->node->tick();
    n->pump();
    if (i % 10 == 9) {
      ASSERT_FALSE(n->node->authorize(token(alice), Access::kTokenOnly)) << "used every 10 ticks";
    }
  }
  for (int i = 0; i < 25; ++i) {
    n->node->tick();
    n->pump();
  }
  EXPECT_EQ(said(n->node->authorize(token(alice), Access::kTokenOnly)), kInvalidAuthToken);
}

TEST(KvNodeAuth, MaintenanceAndAlarmRefusalsUseTheAuthPackagesTextsAsUnknown) {
  auto n = single();
  std::string root = enable_auth(*n);
  std::string alice = login(*n, "alice");
  auto maint = [&](const Credentials& who) { return n->node->authorize(who, Access::kMaintenance); };
  EXPECT_EQ(said(maint({})), kAuthPkgUserEmpty);
  EXPECT_EQ(said(maint(token("bad"))), kAuthPkgInvalidToken);
  EXPECT_EQ(said(maint(token(alice))), kAuthPkgPermissionDenied);
  EXPECT_EQ(maint(token(alice)).value_or(ApiError(GrpcCode::kOk, "")).code(), GrpcCode::kUnknown);
  EXPECT_FALSE(maint(token(root)));
  EXPECT_FALSE(n->node->authorize({}, Access::kAlarm)) << "alarms are not checked (3.4)";
  EXPECT_EQ(said(n->node->authorize(token("bad"), Access::kAlarm)), kAuthPkgInvalidToken);
  EXPECT_FALSE(n->node->authorize({}, Access::kTokenOnly));
  EXPECT_EQ(said(n->node->authorize(token(alice), Access::kAdmin)), kPermissionDenied);
  EXPECT_EQ(said(n->node->authorize({}, Access::kAdmin)), kUserEmpty);
}

TEST(KvNodeAuth, PutNeedsReadForPrevKvAndWriteOnTheLeasesOtherKeys) {
  auto n = single();
  std::string root = enable_auth(*n);
  std::string bob = login(*n, "bob");  // WRITE w/
  PutRequest with_prev = put("w/1", "v");
  with_prev.options.prev_kv = true;
  EXPECT_EQ(refusal(write_as(*n, with_prev, token(bob))), kPermissionDenied) << "surprise 6";
  EXPECT_EQ(refusal(write_as(*n, LeaseGrantRequest{102, 60}, token(bob))), "");
  PutRequest leased = put("w/l", "x");
  leased.lease = 102;
  EXPECT_EQ(refusal(write_as(*n, leased, token(bob))), "") << "step 215";
  leased.key = "b2";
  EXPECT_EQ(refusal(write_as(*n, leased, token(root))), "") << "step 216";
  leased.key = "w/l2";
  EXPECT_EQ(refusal(write_as(*n, leased, token(bob))), kPermissionDenied)
      << "the lease holds b2, outside bob's range (step 217)";
  EXPECT_EQ(refusal(write_as(*n, LeaseRevokeRequest{102}, token(bob))), kPermissionDenied)
      << "step 225";
  EXPECT_EQ(refusal(write_as(*n, LeaseGrantRequest{100, 60}, {})), "");
  EXPECT_EQ(refusal(write_as(*n, LeaseRevokeRequest{100}, {})), "")
      << "a lease with no key: anyone, no token (step 226)";
  EXPECT_EQ(refusal(write_as(*n, LeaseRevokeRequest{102}, token(root))), "");
}

TEST(KvNodeAuth, AnExpiredLeaseIsRevokedByTheNodeWhateverItsKeys) {
  // etcd revokes expired leases as root (WithRoot): no user's permission can keep a key alive.
  auto n = single();
  std::string root = enable_auth(*n);
  EXPECT_EQ(refusal(write_as(*n, LeaseGrantRequest{7, 2}, token(root))), "");
  PutRequest leased = put("b", "x");
  leased.lease = 7;
  EXPECT_EQ(refusal(write_as(*n, leased, token(root))), "");
  for (int i = 0; i < 200 && !n->node->store().range({"b", ""}).kvs.empty(); ++i) {
    n->node->tick();
    n->pump();
  }
  EXPECT_TRUE(n->node->store().range({"b", ""}).kvs.empty()) << "the expired lease's key is gone";
  EXPECT_TRUE(n->node->leases().empty());
}

TEST(KvNodeAuth, TxnChecksEveryCompareAndBothBranchesAndNestedTxns) {
  auto n = single();
  std::string root = enable_auth(*n);
  std::string bob = login(*n, "bob");
  write_as(*n, UserGrantRoleRequest{"bob", "reader"}, token(root));  // bob: READ r/, WRITE w/
  auto txn_as = [&](TxnRequest t) {
    uint64_t id = n->node->txn(std::move(t), token(bob));
    n->pump();
    const Done* d = n->find(id);
    return d ? refusal(*d) : std::string("(no completion)");
  };
  txn::PutOp ok_put{"w/1", "v", 0, {}};
  txn::PutOp bad_put{"b", "v", 0, {}};
  txn::Compare bad_compare;
  bad_compare.key = "b";
  EXPECT_EQ(txn_as(TxnRequest{{}, {ok_put}, {}}), "");
  EXPECT_EQ(txn_as(TxnRequest{{bad_compare}, {ok_put}, {}}), kPermissionDenied);
  EXPECT_EQ(txn_as(TxnRequest{{}, {ok_put}, {bad_put}}), kPermissionDenied)
      << "the failure branch is checked even when it would not run (surprise 7)";
  auto nested = std::make_shared<const TxnRequest>(TxnRequest{{}, {bad_put}, {}});
  EXPECT_EQ(txn_as(TxnRequest{{}, {txn::RequestOp{nested}}, {}}), kPermissionDenied)
      << "etcd 3.4's nested-txn bypass (steps 163-164) is not copied";
  EXPECT_EQ(n->node->store().range({"b", ""}).kvs.size(), 0u);
  // A read-only txn is checked on the serving member.
  txn::RangeOp read_b{{"b", ""}, {}, true};
  txn::RangeOp read_r{{"r/", "r0"}, {}, true};
  EXPECT_EQ(txn_as(TxnRequest{{}, {read_r}, {}}), "");
  EXPECT_EQ(txn_as(TxnRequest{{}, {read_b}, {}}), kPermissionDenied);
  read_b.serializable = false;  // after a read index
  EXPECT_EQ(txn_as(TxnRequest{{}, {read_b}, {}}), kPermissionDenied);
}

TEST(KvNodeAuth, StaleStampIsRefusedAsOldRevision) {
  auto n = single();
  std::string root = enable_auth(*n);
  // Both stamped at the same auth revision; the grant applies first and moves it.
  uint64_t grant = n->node->submit(RoleAddRequest{"late"}, token(root));
  uint64_t put_id = n->node->submit(put("r/x", "v"), token(root));
  n->pump();
  EXPECT_EQ(refusal(*n->find(grant)), "");
  EXPECT_EQ(refusal(*n->find(put_id)), kAuthOldRevision);
  EXPECT_EQ(refusal_code(*n->find(put_id)), GrpcCode::kInvalidArgument);
  EXPECT_EQ(refusal(write_as(*n, put("r/x", "v"), token(root))), "") << "retried: it goes";
}

TEST(KvNodeAuth, WatchRefusalIsACreatedCanceledResponseWithEtcdsReason) {
  auto n = single();
  enable_auth(*n);
  std::string alice = login(*n, "alice");
  watch::StreamId s = n->node->open_watch_stream();
  watch::WatchRequest w;
  w.range = {"w/", "w0"};
  EXPECT_EQ(n->node->watch(s, w, token(alice)), watch::kNoWatchId);
  EXPECT_EQ(n->node->watch(s, w, {}), watch::kNoWatchId);
  EXPECT_EQ(n->node->watch(s, w, token("bad")), watch::kNoWatchId);
  w.range = {"r/1", ""};
  EXPECT_NE(n->node->watch(s, w, token(alice)), watch::kNoWatchId);
  auto ready = n->node->take_watch_ready();
  EXPECT_NE(std::find(ready.begin(), ready.end(), s), ready.end());
  auto out = n->node->take_watch_responses(s, 100);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_FALSE(out[0].canceled) << "alice's watch on r/1 was created";
  const char* reasons[] = {
      "rpc error: code = PermissionDenied desc = etcdserver: permission denied",
      "rpc error: code = InvalidArgument desc = etcdserver: user name is empty",
      "rpc error: code = Unauthenticated desc = etcdserver: invalid auth token"};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(out[i + 1].watch_id, -1);
    EXPECT_TRUE(out[i + 1].created);
    EXPECT_TRUE(out[i + 1].canceled);
    EXPECT_EQ(out[i + 1].cancel_reason, reasons[i]);
  }
  EXPECT_TRUE(n->node->take_watch_responses(s, 100).empty());
}

// Review finding 5: an anonymous client that streams creates and never reads must not grow
// node memory without limit. Refusals queue up to the hub's per-stream capacity (128); one
// that reads as it goes still gets every answer.
TEST(KvNodeAuth, RefusedWatchCreatesQueueNoMoreThanAStreamsCapacity) {
  auto n = single();
  enable_auth(*n);
  const size_t capacity = watch::WatchConfig{}.stream_capacity;
  watch::StreamId s = n->node->open_watch_stream();
  watch::WatchRequest w;
  w.range = {"a", ""};
  for (size_t i = 0; i < 10 * capacity; ++i) {
    EXPECT_EQ(n->node->watch(s, w, {}), watch::kNoWatchId);
  }
  auto out = n->node->take_watch_responses(s, SIZE_MAX);
  EXPECT_EQ(out.size(), capacity);
  EXPECT_EQ(out.back().cancel_reason,
            "rpc error: code = InvalidArgument desc = etcdserver: user name is empty");

  watch::StreamId reader = n->node->open_watch_stream();
  size_t answered = 0;
  for (size_t i = 0; i < 10 * capacity; ++i) {
    n->node->watch(reader, w, {});
    answered += n->node->take_watch_responses(reader, SIZE_MAX).size();
  }
  EXPECT_EQ(answered, 10 * capacity);
}

// The throttle counts an attempt when the rpc layer starts it (auth_failed before the
// verify: auth_rpcs.cc); the success's entry clears the name, so a right password is never
// slowed by its own attempts.
TEST(KvNodeAuth, ASuccessfulAuthenticateClearsTheThrottlesCountForTheName) {
  auto n = single();
  enable_auth(*n);
  for (int i = 0; i < 6; ++i) n->node->auth_failed("alice");
  EXPECT_GT(n->node->auth_lookup("alice").delay_ms, 0);
  login(*n, "alice");
  EXPECT_EQ(n->node->auth_lookup("alice").delay_ms, 0);
}

// Review finding 7: an unknown name's dummy verify should cost what a real user's does, also
// when the hashes were made at another --bcrypt-cost than this member's: the lookup names the
// cost most stored hashes have.
TEST(KvNodeAuth, AnUnknownNamesLookupNamesTheCostMostStoredHashesHave) {
  auto n = single();
  enable_auth(*n);  // root, alice, bob: "$2b$04$..."
  EXPECT_EQ(n->node->auth_lookup("nobody").dummy_cost, 4);
  EXPECT_EQ(n->node->auth_lookup("alice").dummy_cost, 0) << "a real hash needs no dummy";
  std::string root = login(*n, "root");
  for (const char* name : {"u1", "u2", "u3", "u4"}) {
    EXPECT_EQ(refusal(write_as(*n, UserAddRequest{name, "$2b$12$xyz"}, token(root))), "");
  }
  EXPECT_EQ(n->node->auth_lookup("nobody").dummy_cost, 12);
  EXPECT_EQ(refusal(write_as(*n, UserAddRequest{"nopw", ""}, token(root))), "");
  EXPECT_EQ(n->node->auth_lookup("nopw").dummy_cost, 12) << "no password: a dummy too";
}

TEST(KvNodeAuth, AuthReadsAreRootOnlyExceptSelfUserGetAndOwnRoleGet) {
  auto n = single();
  std::string root = enable_auth(*n);
  std::string alice = login(*n, "alice");
  auto text = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const ApiError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(text([&] { n->node->user_list({}); }), kUserEmpty);               // step 315
  EXPECT_EQ(text([&] { n->node->user_list(token(alice)); }), kPermissionDenied);  // 325
  EXPECT_EQ(text([&] { n->node->role_list(token(alice)); }), kPermissionDenied);  // 326
  auto self = n->node->user_get(token(alice), "alice");                            // 327
  EXPECT_EQ(self.roles, std::vector<std::string>{"reader"});
  EXPECT_TRUE(self.hash.empty()) << "no hash leaves the node";
  EXPECT_EQ(text([&] { n->node->user_get(token(alice), "bob"); }), kPermissionDenied);  // 328
  EXPECT_EQ(n->node->role_get(token(alice), "reader").perms.size(), 1u);               // 329
  EXPECT_EQ(text([&] { n->node->role_get(token(alice), "writer"); }), kPermissionDenied);
  EXPECT_EQ(n->node->user_list(token(root)),
            (std::vector<std::string>{"alice", "bob", "root"}));
  EXPECT_EQ(text([&] { n->node->user_get(token(root), "nobody"); }), kUserNotFound);   // 338
  EXPECT_TRUE(n->node->role_get(token(root), "root").perms.empty());                   // 340
  EXPECT_EQ(text([&] { n->node->role_get(token(root), "nope"); }), kRoleNotFound);     // 341
}

TEST(KvNodeAuth, TheWalEntryOfAUserAddHoldsTheHashNeverAPassword) {
  auto n = single();
  write_as(*n, UserAddRequest{"alice", "$2b$10$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVW"},
           {});
  bool found = false;
  for (uint64_t i = n->storage->first_index(); i <= n->storage->last_index(); ++i) {
    for (const Entry& e : n->storage->entries(i, i + 1, UINT64_MAX)) {
      if (e.data.find("alice") == std::string::npos) continue;
      found = true;
      EXPECT_NE(e.data.find("$2b$10$"), std::string::npos);
      auto decoded = decode_request(e.data);
      EXPECT_TRUE(std::holds_alternative<UserAddRequest>(decoded.second));
    }
  }
  EXPECT_TRUE(found) << "the UserAdd entry is in the log";
  // The request type has no password field at all; the rpc hashes before it proposes.
  static_assert(sizeof(UserAddRequest) == 2 * sizeof(std::string));
}

// ---- every member alike

TEST(KvNodeAuth, AWriteProposedBeforeARevokeAndAppliedAfterItIsRefusedOnEveryMember) {
  Cluster c;
  NodeId lead = c.elect();
  TestNode& leader = c.at(lead);
  NodeId other = lead == 1 ? 2 : 1;
  std::string root = enable_auth(leader, &c);
  std::string bob = login(c.at(other), "bob", "BOB", &c);  // registered on every member
  // Revoke first, then bob's write, both proposed before either applied: the write's stamp
  // names the auth revision before the revoke.
  uint64_t revoke = leader.node->submit(UserRevokeRoleRequest{"bob", "writer"}, token(root));
  uint64_t write_id = c.at(other).node->submit(put("w/late", "v"), token(bob));
  c.settle();
  ASSERT_NE(leader.find(revoke), nullptr);
  EXPECT_EQ(refusal(*leader.find(revoke)), "");
  ASSERT_NE(c.at(other).find(write_id), nullptr);
  EXPECT_EQ(refusal(*c.at(other).find(write_id)), kAuthOldRevision)
      << "stamped before the revoke, applied after it";
  for (NodeId id = 1; id <= 3; ++id) {
    EXPECT_EQ(c.at(id).node->store().range({"w/late", ""}).kvs.size(), 0u) << "member " << id;
    EXPECT_EQ(c.at(id).node->auth().state(), leader.node->auth().state()) << "member " << id;
    EXPECT_FALSE(c.at(id).node->auth().has_role("bob", "writer"));
  }
  // And a write proposed after it: permission denied, on every member.
  Done again = write_as(c.at(other), put("w/late", "v"), token(bob), &c);
  EXPECT_EQ(refusal(again), kPermissionDenied);
  // bob's token was issued through another member: the leader knows it too.
  EXPECT_FALSE(leader.node->authorize(token(bob), Access::kTokenOnly));
}

TEST(KvNodeAuth, AWriteWithATokenFromAnIndexNotAppliedHereYetWaitsForIt) {
  Cluster c;
  NodeId lead = c.elect();
  TestNode& leader = c.at(lead);
  NodeId other = lead == 1 ? 2 : 1;
  std::string root = enable_auth(leader, &c);
  c.isolate(other);  // it misses the Authenticate entry for now
  std::string alice = login(leader, "alice", "ALICE", &c);
  uint64_t id = c.at(other).node->submit(put("r/1", "v"), token(alice));
  c.settle();
  EXPECT_EQ(c.at(other).find(id), nullptr) << "held: the token names an index not applied here";
  EXPECT_EQ(c.at(other).node->pending_requests(), 1u);
  c.heal();
  ASSERT_TRUE(c.tick_until([&] { return c.at(other).find(id) != nullptr; }));
  EXPECT_EQ(refusal(*c.at(other).find(id)), kPermissionDenied)
      << "resolved once the entry applied: alice, who may only read r/";
  // A made-up token naming a far index waits only until the request's deadline (etcd 3.4
  // hangs), and one naming an applied index is refused at once.
  uint64_t made_up = leader.node->submit(put("r/1", "v"), token("abcdefghijklmnop.999999"));
  EXPECT_EQ(leader.find(made_up), nullptr);
  ASSERT_TRUE(c.tick_until([&] { return leader.find(made_up) != nullptr; }, 1000));
  EXPECT_EQ(refusal(*leader.find(made_up)), kInvalidAuthToken);
  Done old = write_as(leader, put("r/1", "v"), token("abcdefghijklmnop.1"), &c);
  EXPECT_EQ(refusal(old), kInvalidAuthToken);
}

TEST(KvNodeAuth, AMemberThatInstallsASnapshotDropsItsTokens) {
  // The password change is folded into the snapshot: the member never applies its entry, so
  // it must not keep the tokens that change killed.
  Cluster c(/*snapshot_count=*/5);
  NodeId lead = c.elect();
  TestNode& leader = c.at(lead);
  NodeId other = lead == 1 ? 2 : 1;
  std::string root = enable_auth(leader, &c);
  std::string alice = login(leader, "alice", "ALICE", &c);
  ASSERT_FALSE(c.at(other).node->authorize(token(alice), Access::kTokenOnly));
  c.isolate(other);
  write_as(leader, UserChangePasswordRequest{"alice", "$2b$04$new"}, token(root), &c);
  for (int i = 0; i < 12; ++i) write_as(leader, put("r/" + std::to_string(i), "v"), token(root), &c);
  ASSERT_GT(leader.storage->first_index(), c.at(other).node->applied_index() + 1)
      << "the leader released the log the isolated member needs: it must send a snapshot";
  c.heal();
  ASSERT_TRUE(c.tick_until(
      [&] { return c.at(other).node->applied_index() == leader.node->applied_index(); }));
  EXPECT_EQ(said(c.at(other).node->authorize(token(alice), Access::kTokenOnly)),
               kInvalidAuthToken);
  EXPECT_EQ(c.at(other).node->auth().state(), leader.node->auth().state());
}

// ---- persistence

auth::AuthState sample_state(KvStateMachine& sm) {
  uint64_t index = sm.consistent_index();
  std::vector<Entry> entries;
  uint64_t id = 100;
  for (const Request& r : std::vector<Request>{
           UserAddRequest{"root", "$2b$04$r"}, UserGrantRoleRequest{"root", "root"},
           RoleAddRequest{"rw"},
           RoleGrantPermissionRequest{"rw", {auth::PermType::kReadWrite, "a", "m"}},
           UserAddRequest{"carol", "$2b$04$c"}, UserGrantRoleRequest{"carol", "rw"},
           AuthEnableRequest{}}) {
    entries.push_back(Entry{++index, 2, EntryType::kNormal, encode_request(++id, r)});
  }
  for (const auto& a : sm.apply(entries, nullptr)) EXPECT_TRUE(a.result.ok()) << a.request.index();
  return sm.auth().state();
}

TEST(KvNodeAuth, AuthStateSurvivesReopeningTheStoresDatabase) {
  testing::TempDir tmp;
  mvcc::StoreOptions o;
  o.path = tmp / "db";
  auth::AuthState before;
  {
    auto sm = KvStateMachine::open(o, {});
    before = sample_state(*sm);
    EXPECT_TRUE(before.enabled);
  }
  auto again = KvStateMachine::open(o, {});
  EXPECT_EQ(again->auth().state(), before);
  EXPECT_TRUE(again->auth().permitted("carol", "b", "", auth::PermType::kWrite));
}

TEST(KvNodeAuth, AuthStateTravelsInsideTheNodeSnapshot) {
  auto sm = KvStateMachine::open({}, {});
  auth::AuthState before = sample_state(*sm);
  std::string snap;
  sm->write_snapshot([&](std::string_view chunk) { snap.append(chunk); });
  auto other = KvStateMachine::open({}, {});
  other->apply({Entry{1, 1, EntryType::kNormal, encode_request(1, RoleAddRequest{"stale"})}},
               nullptr);
  other->restore([&](uint64_t offset, uint64_t length) {
    return offset >= snap.size() ? std::string() : snap.substr(offset, length);
  }, snap.size());
  EXPECT_EQ(other->auth().state(), before);
  EXPECT_EQ(other->auth().role("stale"), nullptr) << "the snapshot replaced the auth state";
}

TEST(KvNodeAuth, CompanionSetKeepsLeasesBesideTheAuthTables) {
  testing::TempDir tmp;
  mvcc::StoreOptions o;
  o.path = tmp / "db";
  {
    auto sm = KvStateMachine::open(o, {});
    sm->apply({Entry{1, 2, EntryType::kNormal, encode_request(1, LeaseGrantRequest{7, 60})},
               Entry{2, 2, EntryType::kNormal, encode_request(2, RoleAddRequest{"r"})}},
              nullptr);
  }
  auto again = KvStateMachine::open(o, {});
  EXPECT_TRUE(again->lessor().exists(7));
  EXPECT_NE(again->auth().role("r"), nullptr);
}

}  // namespace
}  // namespace etcdlab::server
