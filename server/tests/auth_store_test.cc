// The auth store (server/node/auth/auth_store.h): etcd 3.4's rules and texts for users, roles,
// permissions and enable/disable, as a real etcd 3.4.23 answered them (issue 19's captures,
// gateway.jsonl scenarios 01, 09, 10 and 11: the step numbers are in the rows), and the merged
// permission intervals the checks read.
#include "../node/auth/auth_store.h"

#include <gtest/gtest.h>

#include <functional>

namespace etcdlab::server::auth {
namespace {

// The text of a refusal, "" for none (so a missing refusal fails the test instead of crashing it).
std::string said(const std::optional<ApiError>& refusal) {
  return refusal ? refusal->what() : "";
}

using namespace rpctypes;

Permission perm(PermType type, std::string key, std::string range_end = "") {
  return Permission{type, std::move(key), std::move(range_end)};
}

const std::string kAll(1, '\0');  // range_end "\0": to the end of the key space

// Scenario 01's setup before `auth enable`: root, alice (READ r/), bob (WRITE w/), carol
// (READWRITE [a, m)), erin (READWRITE k1), dave (no role).
struct Store {
  MemoryAuthTable table;
  AuthStore store{table};
  Store() {
    store.add_user("root", "$2b$04$root");
    store.add_role("root");
    store.grant_role("root", "root");
    for (const char* u : {"alice", "bob", "carol", "dave", "erin"}) {
      store.add_user(u, std::string("$2b$04$") + u);
    }
    store.add_role("reader");
    store.grant_permission("reader", perm(PermType::kRead, "r/", "r0"));
    store.add_role("writer");
    store.grant_permission("writer", perm(PermType::kWrite, "w/", "w0"));
    store.add_role("rw");
    store.grant_permission("rw", perm(PermType::kReadWrite, "a", "m"));
    store.add_role("single");
    store.grant_permission("single", perm(PermType::kReadWrite, "k1"));
    store.grant_role("alice", "reader");
    store.grant_role("bob", "writer");
    store.grant_role("carol", "rw");
    store.grant_role("erin", "single");
  }
};

// Runs `change` and expects etcd's text and code, with nothing changed.
void expect_refused(AuthStore& store, const std::function<void()>& change, const char* text,
                    GrpcCode code) {
  AuthState before = store.state();
  try {
    change();
    ADD_FAILURE() << "not refused; expected " << text;
  } catch (const ApiError& e) {
    EXPECT_STREQ(e.what(), text);
    EXPECT_EQ(e.code(), code) << text;
  }
  EXPECT_EQ(store.state(), before) << "a refused change changed the state: " << text;
}

TEST(AuthStoreTest, EnableRefusedWithoutRootUserThenWithoutRootRole) {
  MemoryAuthTable table;
  AuthStore store(table);
  expect_refused(store, [&] { store.enable(); }, kRootUserNotExist,  // step 1
                 GrpcCode::kFailedPrecondition);
  store.add_user("root", "$2b$04$x");
  expect_refused(store, [&] { store.enable(); }, kRootRoleNotExist,  // step 6
                 GrpcCode::kFailedPrecondition);
  store.grant_role("root", "root");  // the root role needs no role entry to be granted
  store.enable();
  EXPECT_TRUE(store.enabled());
}

TEST(AuthStoreTest, RevisionStartsAtOneAndMovesOncePerChangeButNotOnEnable) {
  MemoryAuthTable table;
  AuthStore store(table);
  EXPECT_EQ(store.revision(), 1u);
  store.add_user("root", "h");
  store.add_role("root");
  store.grant_role("root", "root");
  EXPECT_EQ(store.revision(), 4u);
  store.grant_role("root", "root");  // already granted: no change
  EXPECT_EQ(store.revision(), 4u);
  store.enable();
  EXPECT_EQ(store.revision(), 4u);  // etcd's AuthEnable keeps the revision
  store.disable();
  EXPECT_EQ(store.revision(), 5u);
  store.disable();  // already off: nothing (step 376)
  EXPECT_EQ(store.revision(), 5u);
}

struct RefusalRow {
  const char* rule;
  std::function<void(AuthStore&)> change;
  const char* text;
  GrpcCode code;
};

TEST(AuthStoreTest, EveryRefusalHasEtcdsTextAndCode) {
  const RefusalRow rows[] = {
      {"user add of an existing user (step 4)", [](AuthStore& s) { s.add_user("root", "x"); },
       kUserAlreadyExist, GrpcCode::kFailedPrecondition},
      {"user add with an empty name (step 5)", [](AuthStore& s) { s.add_user("", "x"); },
       kUserEmpty, GrpcCode::kInvalidArgument},
      {"role add with an empty name (step 8)", [](AuthStore& s) { s.add_role(""); }, kRoleEmpty,
       GrpcCode::kInvalidArgument},
      {"role add of an existing role", [](AuthStore& s) { s.add_role("reader"); },
       kRoleAlreadyExist, GrpcCode::kFailedPrecondition},
      {"grant-role of an unknown role (step 10)", [](AuthStore& s) { s.grant_role("root", "nope"); },
       kRoleNotFound, GrpcCode::kFailedPrecondition},
      {"grant-role to an unknown user (step 11)",
       [](AuthStore& s) { s.grant_role("nobody", "root"); }, kUserNotFound,
       GrpcCode::kFailedPrecondition},
      {"grant-permission to an unknown role (step 25)",
       [](AuthStore& s) { s.grant_permission("nope", perm(PermType::kRead, "x")); }, kRoleNotFound,
       GrpcCode::kFailedPrecondition},
      {"revoke-permission with another range_end (step 342)",
       [](AuthStore& s) { s.revoke_permission("rw", "a", "z"); }, kPermissionNotGranted,
       GrpcCode::kFailedPrecondition},
      {"revoke-permission of an unknown role",
       [](AuthStore& s) { s.revoke_permission("nope", "a", "m"); }, kRoleNotFound,
       GrpcCode::kFailedPrecondition},
      {"revoke-role not granted (step 343)", [](AuthStore& s) { s.revoke_role("carol", "reader"); },
       kRoleNotGranted, GrpcCode::kFailedPrecondition},
      {"revoke-role of an unknown user", [](AuthStore& s) { s.revoke_role("nobody", "reader"); },
       kUserNotFound, GrpcCode::kFailedPrecondition},
      {"user delete of an unknown user (step 344)", [](AuthStore& s) { s.delete_user("nobody"); },
       kUserNotFound, GrpcCode::kFailedPrecondition},
      {"role delete of an unknown role (step 345)", [](AuthStore& s) { s.delete_role("nope"); },
       kRoleNotFound, GrpcCode::kFailedPrecondition},
      {"changepw of an unknown user", [](AuthStore& s) { s.change_password("nobody", "h"); },
       kUserNotFound, GrpcCode::kFailedPrecondition},
      {"revoke root from root while enabled (step 346)",
       [](AuthStore& s) { s.enable(), s.revoke_role("root", "root"); }, kInvalidAuthMgmt,
       GrpcCode::kInvalidArgument},
      {"role delete root while enabled (step 347)",
       [](AuthStore& s) { s.enable(), s.delete_role("root"); }, kInvalidAuthMgmt,
       GrpcCode::kInvalidArgument},
      {"user delete root while enabled (step 381)",
       [](AuthStore& s) { s.enable(), s.delete_user("root"); }, kInvalidAuthMgmt,
       GrpcCode::kInvalidArgument},
  };
  for (const RefusalRow& row : rows) {
    SCOPED_TRACE(row.rule);
    Store s;
    if (std::string_view(row.text) == kInvalidAuthMgmt) s.store.enable();
    expect_refused(s.store, [&] { row.change(s.store); }, row.text, row.code);
  }
}

TEST(AuthStoreTest, RootRulesOnlyHoldWhileEnabled) {
  Store s;  // auth off: root may lose its role, the root role and root may go
  s.store.revoke_role("root", "root");
  s.store.delete_role("root");
  s.store.delete_user("root");
  EXPECT_EQ(s.store.user("root"), nullptr);
}

TEST(AuthStoreTest, RoleDeleteTakesTheRoleFromItsUsers) {
  Store s;  // step 359: carol has no roles after rw is deleted
  s.store.delete_role("rw");
  EXPECT_TRUE(s.store.user("carol")->roles.empty());
  EXPECT_FALSE(s.store.permitted("carol", "b", "", PermType::kRead));
}

TEST(AuthStoreTest, GrantPermissionOnTheSameRangeReplacesItsType) {
  Store s;
  s.store.grant_permission("reader", perm(PermType::kReadWrite, "r/", "r0"));
  ASSERT_EQ(s.store.role("reader")->perms.size(), 1u);
  EXPECT_EQ(s.store.role("reader")->perms[0].type, PermType::kReadWrite);
  s.store.grant_permission("reader", perm(PermType::kRead, "a"));
  EXPECT_EQ(s.store.role("reader")->perms[0].key, "a") << "permissions are kept sorted by key";
}

TEST(AuthStoreTest, AdminCheckNeedsRootOnlyWhileEnabled) {
  Store s;
  EXPECT_FALSE(s.store.check_admin(std::nullopt)) << "auth off: anyone";
  s.store.enable();
  auto check = [&](std::optional<AuthStamp> who) { return s.store.check_admin(who); };
  EXPECT_EQ(said(check(std::nullopt)), kUserEmpty);  // step 324
  EXPECT_EQ(said(check(AuthStamp{"nobody", 4})), kUserNotFound);
  EXPECT_EQ(said(check(AuthStamp{"alice", 4})), kPermissionDenied);  // step 334
  EXPECT_EQ(check(AuthStamp{"alice", 4}).value_or(ApiError(GrpcCode::kOk, "")).code(),
            GrpcCode::kPermissionDenied);
  EXPECT_FALSE(check(AuthStamp{"root", 4}));
}

TEST(AuthStoreTest, KeyCheckRefusesAStaleStampBeforeThePermission) {
  Store s;
  s.store.enable();
  uint64_t now = s.store.revision();
  EXPECT_FALSE(s.store.check_keys(AuthStamp{"alice", now}, "r/1", "", PermType::kRead));
  auto stale = s.store.check_keys(AuthStamp{"root", now - 1}, "r/1", "", PermType::kRead);
  ASSERT_TRUE(stale);
  EXPECT_EQ(said(stale), kAuthOldRevision);
  EXPECT_EQ(stale->code(), GrpcCode::kInvalidArgument);
  EXPECT_EQ(said(s.store.check_keys(std::nullopt, "r/1", "", PermType::kRead)), kUserEmpty);
  EXPECT_EQ(said(s.store.check_keys(AuthStamp{"alice", now}, "w/1", "", PermType::kWrite)),
               kPermissionDenied);
  EXPECT_FALSE(s.store.check_keys(node_stamp(), "w/1", "", PermType::kWrite))
      << "the node's own writes (expired leases) go as root";
}

// ---- permission intervals (etcd's unifiedRangePermissions)

TEST(PermissionIntervalsTest, PrefixPermitsItsKeysAndSubrangesOnly) {
  Store s;  // alice: READ [r/, r0), the prefix r/
  EXPECT_TRUE(s.store.permitted("alice", "r/1", "", PermType::kRead));
  EXPECT_TRUE(s.store.permitted("alice", "r/", "r0", PermType::kRead));
  EXPECT_TRUE(s.store.permitted("alice", "r/a", "r/b", PermType::kRead));
  EXPECT_FALSE(s.store.permitted("alice", "r/", "r1", PermType::kRead)) << "past the prefix";
  EXPECT_FALSE(s.store.permitted("alice", "r", "", PermType::kRead));
  EXPECT_FALSE(s.store.permitted("alice", "r/1", "", PermType::kWrite)) << "READ is not WRITE";
}

TEST(PermissionIntervalsTest, RangeAMPermitsInsideButNotAN) {
  Store s;  // carol: READWRITE [a, m)
  EXPECT_TRUE(s.store.permitted("carol", "a", "m", PermType::kWrite));
  EXPECT_TRUE(s.store.permitted("carol", "b", "", PermType::kRead));
  EXPECT_FALSE(s.store.permitted("carol", "a", "n", PermType::kRead));
  EXPECT_FALSE(s.store.permitted("carol", "m", "", PermType::kRead)) << "range_end is exclusive";
}

TEST(PermissionIntervalsTest, SingleKeyPermitsThatKeyOnly) {
  Store s;  // erin: READWRITE k1
  EXPECT_TRUE(s.store.permitted("erin", "k1", "", PermType::kWrite));
  EXPECT_TRUE(s.store.permitted("erin", "k1", std::string("k1\0", 3), PermType::kRead));
  EXPECT_FALSE(s.store.permitted("erin", "k1", "k2", PermType::kRead));
  EXPECT_FALSE(s.store.permitted("erin", "k10", "", PermType::kRead));
}

TEST(PermissionIntervalsTest, FromKeyRunsToTheEndOfTheKeySpace) {
  Store s;
  s.store.grant_permission("rw", perm(PermType::kRead, "z", kAll));
  EXPECT_TRUE(s.store.permitted("carol", "z", kAll, PermType::kRead));
  EXPECT_TRUE(s.store.permitted("carol", "zzzz\xff", "", PermType::kRead));
  EXPECT_FALSE(s.store.permitted("carol", "y", kAll, PermType::kRead));
  EXPECT_FALSE(s.store.permitted("carol", "z", kAll, PermType::kWrite));
  s.store.grant_permission("reader", perm(PermType::kRead, kAll, kAll));  // every key
  EXPECT_TRUE(s.store.permitted("alice", kAll, kAll, PermType::kRead));
  EXPECT_FALSE(s.store.permitted("alice", "", kAll, PermType::kRead)) << "\"\" is before \"\\0\"";
}

TEST(PermissionIntervalsTest, UnionsAcrossRolesMergeTouchingIntervals) {
  Store s;
  s.store.add_role("mz");
  s.store.grant_permission("mz", perm(PermType::kRead, "m", "z"));
  s.store.grant_role("carol", "mz");  // [a, m) READWRITE + [m, z) READ
  EXPECT_TRUE(s.store.permitted("carol", "c", "p", PermType::kRead)) << "neither role alone";
  EXPECT_FALSE(s.store.permitted("carol", "c", "p", PermType::kWrite));
  EXPECT_FALSE(s.store.permitted("carol", "c", "zz", PermType::kRead));
  s.store.revoke_role("carol", "mz");
  EXPECT_FALSE(s.store.permitted("carol", "c", "p", PermType::kRead)) << "a revoke is seen at once";
}

TEST(PermissionIntervalsTest, KeyIntervalsMergeOverlapsAndIgnoreEmptyRanges) {
  KeyIntervals set;
  set.add("d", "f");
  set.add("a", "c");
  set.add("b", "e");
  set.add("x", "w");  // empty
  ASSERT_EQ(set.intervals().size(), 1u);
  EXPECT_EQ(set.intervals()[0], (KeyIntervals::Interval{"a", std::string("f")}));
  set.add("g", kAll);
  set.add("h", "i");
  ASSERT_EQ(set.intervals().size(), 2u);
  EXPECT_FALSE(set.intervals()[1].end.has_value());
  EXPECT_FALSE(set.contains("e", "h"));
  EXPECT_TRUE(set.contains("g", kAll));
}

TEST(PermissionIntervalsTest, RootMayDoAnything) {
  Store s;
  EXPECT_TRUE(s.store.permitted("root", "", kAll, PermType::kWrite));
  EXPECT_FALSE(s.store.permitted("nobody", "a", "", PermType::kRead));
}

}  // namespace
}  // namespace etcdlab::server::auth
