// A member's simple tokens (auth/token_table.h) and its throttle of failed authentications
// (auth/auth_throttle.h), over ticks: no clock.
#include <gtest/gtest.h>

#include "../node/auth/auth_throttle.h"
#include "../node/auth/token_table.h"

namespace etcdlab::server::auth {
namespace {

TEST(TokenTableTest, TtlCountsFromTheLastUse) {
  TokenTable t(20);  // etcd's capture: a 2 s token used every second lived 5 s
  t.assign("tok.5", "alice", 0);
  for (int64_t now = 10; now <= 50; now += 10) EXPECT_EQ(t.lookup("tok.5", now), "alice") << now;
  EXPECT_EQ(t.lookup("tok.5", 69), "alice") << "19 ticks idle";
  EXPECT_FALSE(t.lookup("tok.5", 89)) << "20 ticks idle: gone";
  EXPECT_EQ(t.size(), 0u);
}

TEST(TokenTableTest, TheSweepDropsIdleTokensABoundedNumberAtATime) {
  TokenTable t(5);
  for (int i = 0; i < 10; ++i) t.assign("t" + std::to_string(i), "u", 0);
  t.assign("fresh", "u", 4);
  // Each call looks at 4 tokens (in name order, from where the last stopped, wrapping round).
  EXPECT_EQ(t.expire(6, 4), 3u) << "fresh, t0, t1, t2";
  EXPECT_EQ(t.expire(6, 4), 4u) << "t3 to t6";
  EXPECT_EQ(t.expire(6, 100), 3u) << "t7 to t9, then fresh again: no more than there are";
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.lookup("fresh", 6), "u");
}

TEST(TokenTableTest, PasswordChangeOrDeleteInvalidatesOnlyThatUsersTokens) {
  TokenTable t(100);
  t.assign("a.1", "alice", 0);
  t.assign("a.2", "alice", 0);
  t.assign("b.3", "bob", 0);
  t.invalidate_user("alice");
  EXPECT_FALSE(t.lookup("a.1", 1));
  EXPECT_FALSE(t.lookup("a.2", 1));
  EXPECT_EQ(t.lookup("b.3", 1), "bob");
  t.clear();  // auth disable
  EXPECT_FALSE(t.lookup("b.3", 1));
}

TEST(AuthThrottleTest, ThreeFailuresAreFreeThenTheDelayDoublesUpToTheCap) {
  AuthThrottle th(100);  // 100 ms ticks
  EXPECT_EQ(th.delay_ms("alice", 0), 0);
  for (int i = 0; i < 3; ++i) th.failed("alice", i);
  EXPECT_EQ(th.delay_ms("alice", 3), 100);
  th.failed("alice", 4);
  EXPECT_EQ(th.delay_ms("alice", 5), 200);
  for (int i = 0; i < 10; ++i) th.failed("alice", 6 + i);
  EXPECT_EQ(th.delay_ms("alice", 20), 5000) << "capped at 5 s";
  EXPECT_EQ(th.delay_ms("bob", 20), 0) << "per user name";
}

TEST(AuthThrottleTest, ASuccessOrAQuietWindowResetsTheCount) {
  AuthThrottle th(100);
  for (int i = 0; i < 5; ++i) th.failed("alice", i);
  EXPECT_GT(th.delay_ms("alice", 5), 0);
  th.succeeded("alice");
  EXPECT_EQ(th.delay_ms("alice", 6), 0);
  for (int i = 0; i < 5; ++i) th.failed("mallory", i);  // unknown names count too
  EXPECT_GT(th.delay_ms("mallory", 10), 0);
  EXPECT_EQ(th.delay_ms("mallory", 600), 0) << "60 s after the window's first failure";
  th.failed("mallory", 600);
  EXPECT_EQ(th.delay_ms("mallory", 601), 0) << "a new window starts counting from one";
}

TEST(AuthThrottleTest, RemembersAtMostMaxNamesDroppingTheOldest) {
  ThrottleConfig c;
  c.max_names = 3;
  AuthThrottle th(100, c);
  for (int i = 0; i < 4; ++i) th.failed("u" + std::to_string(i), i);
  EXPECT_EQ(th.size(), 3u);
}

}  // namespace
}  // namespace etcdlab::server::auth
