// Lab 4, part A: the clock. Only the leader (the primary) counts time for leases: it renews them
// on keep-alive and finds the expired ones, whose revokes the node proposes through the log. A
// lease expires once its TTL, in ticks rounded up, has passed since its grant, its last renew
// or the promote. expired() returns at most max_revokes_per_tick leases, soonest expiry first,
// and does not return a lease again for expired_retry_ticks. A member that is not the primary
// never expires anything and reports the granted TTL as what remains.
#include <gtest/gtest.h>

#include "lease_test_util.h"

namespace etcdlab::lab4 {

TEST(LeaseClock, OnlyThePrimaryExpiresLeases) {
  Member m;  // not primary: a follower's lessor
  EXPECT_FALSE(m.lessor->primary());
  m.lessor->grant(1, 2);
  for (int t = 0; t < 500; ++t) {
    m.tick();
    ASSERT_TRUE(m.lessor->expired().empty())
        << "tick " << t + 1 << ": a follower returned an expired lease. Only the leader may "
        << "decide that a lease expired: followers' clocks do not count";
  }
  EXPECT_EQ(m.info(1), "id=1 granted=2 remaining=2 keys=[]")
      << "a follower reports the granted TTL as what remains";
}

TEST(LeaseClock, ALeaseExpiresWhenItsTtlHasPassedOnThePrimaryNotBefore) {
  Member m;  // 100 ms ticks: 2 s is 20 ticks
  m.lessor->promote(0);
  EXPECT_TRUE(m.lessor->primary());
  m.lessor->grant(1, 2);
  EXPECT_EQ(ticks_until_expired(*m.lessor, 1, 100), 21)
      << "granted on the primary, a 2 s lease expires 20 ticks of 100 ms after the tick under "
         "way (which is partly gone): never before, and not later either";
}

TEST(LeaseClock, ATtlThatIsNotAWholeNumberOfTicksIsRoundedUp) {
  Member m(config(300));  // 2 s is 6.67 ticks of 300 ms: 7 ticks, since 6 would be 1.8 s
  m.lessor->promote(0);
  m.lessor->grant(1, 2);
  EXPECT_EQ(ticks_until_expired(*m.lessor, 1, 100), 7 + 1)
      << "6 ticks of 300 ms is 1.8 s: a lease must never live shorter than its TTL";
}

TEST(LeaseClock, PromoteGivesEveryLeaseItsFullTtlPlusTheExtension) {
  Member m;
  m.lessor->grant(1, 10);  // 100 ticks
  m.lessor->grant(2, 3);   // 30 ticks
  m.tick(250);             // long past both TTLs, on a follower: nothing counted
  m.lessor->promote(15);
  EXPECT_TRUE(m.lessor->expired().empty()) << "right after the promote nothing is expired";
  EXPECT_EQ(ticks_until_expired(*m.lessor, 2, 500), 30 + 15 + 1)
      << "a new leader does not know how long a lease had left: it gives the whole TTL again, "
         "plus the extension (an election timeout), counted from the promote";
  EXPECT_EQ(ticks_until_expired(*m.lessor, 1, 500), 100 - 46 + 15 + 1);
}

TEST(LeaseClock, PromoteAgainRestartsEveryLeasesTime) {
  Member m;
  m.lessor->promote(0);
  m.lessor->grant(1, 3);  // 30 ticks
  m.tick(25);
  m.lessor->demote();
  m.tick(100);
  EXPECT_TRUE(m.lessor->expired().empty()) << "a demoted lessor expires nothing";
  m.lessor->promote(5);
  EXPECT_EQ(ticks_until_expired(*m.lessor, 1, 500), 36);
}

TEST(LeaseClock, RenewRestartsTheTtlFromNow) {
  Member m;
  m.lessor->promote(0);
  m.lessor->grant(1, 2);  // 20 ticks
  m.tick(15);
  EXPECT_TRUE(m.lessor->expired().empty());
  EXPECT_EQ(m.lessor->renew(1), 2) << "renew answers the granted TTL";
  EXPECT_EQ(ticks_until_expired(*m.lessor, 1, 100), 21)
      << "a keep-alive gives the lease its whole TTL again, counted from the keep-alive's tick";
}

TEST(LeaseClock, KeepingALeaseAliveKeepsItForever) {
  Member m;
  m.lessor->promote(0);
  m.lessor->grant(1, 2);
  for (int round = 0; round < 50; ++round) {
    m.tick(19);
    ASSERT_TRUE(m.lessor->expired().empty()) << "round " << round;
    m.lessor->renew(1);
  }
  EXPECT_TRUE(m.lessor->exists(1));
}

TEST(LeaseClock, RenewOfAnExpiredOrUnknownLeaseIsNotFound) {
  Member m;
  m.lessor->promote(0);
  m.lessor->grant(1, 2);
  EXPECT_LEASE_ERROR(LeaseError::Code::kNotFound, kNotFoundMessage, m.lessor->renew(2));
  m.tick(21);
  EXPECT_LEASE_ERROR(LeaseError::Code::kNotFound, kNotFoundMessage, m.lessor->renew(1))
      << "its time is up (its revoke is on its way), even before expired() was asked: a "
         "keep-alive may not bring it back";
  EXPECT_EQ(describe(m.lessor->expired()), "[1]") << "and it is still expired";
}

TEST(LeaseClock, ExpiredIsBoundedPerCallAndSoonestFirst) {
  LessorConfig c = config();
  c.max_revokes_per_tick = 3;
  Member m(c);
  m.lessor->promote(0);
  m.lessor->grant(1, 6);  // expires at tick 60
  m.lessor->grant(2, 3);  // 30
  m.lessor->grant(3, 5);  // 50
  m.lessor->grant(4, 2);  // 20
  m.lessor->grant(5, 4);  // 40
  m.tick(100);
  EXPECT_EQ(describe(m.lessor->expired()), "[4 2 5]")
      << "at most 3 per call, those that expired first first (etcd revokes at most 1000/s)";
  EXPECT_EQ(describe(m.lessor->expired()), "[3 1]") << "the next call returns the rest";
  EXPECT_EQ(describe(m.lessor->expired()), "[]") << "each was returned once";
}

TEST(LeaseClock, AnExpiredLeaseIsNotReturnedAgainWithinTheRetryInterval) {
  Member m;  // retry after 30 ticks
  m.lessor->promote(0);
  m.lessor->grant(1, 2);
  m.tick(21);
  EXPECT_EQ(describe(m.lessor->expired()), "[1]");
  for (int t = 1; t < 30; ++t) {
    m.tick();
    ASSERT_EQ(describe(m.lessor->expired()), "[]")
        << t << " ticks after it was returned: its revoke is on its way; returning it every "
        << "tick would propose a revoke per tick";
  }
  m.tick();
  EXPECT_EQ(describe(m.lessor->expired()), "[1]")
      << "30 ticks later the revoke did not come (lost in a leader change?): ask again";
}

TEST(LeaseClock, TimeToLiveIsTheWholeSecondsLeftRoundedDown) {
  Member m;
  m.lessor->promote(0);
  m.lessor->grant(1, 10);  // 100 ticks after this one: 101 ticks left
  EXPECT_EQ(m.info(1, false), "id=1 granted=10 remaining=10 keys=[]") << "10.1 s left";
  m.tick(2);
  EXPECT_EQ(m.info(1, false), "id=1 granted=10 remaining=9 keys=[]") << "9.9 s left";
  m.tick(38);
  EXPECT_EQ(m.info(1, false), "id=1 granted=10 remaining=6 keys=[]") << "6.1 s left";
  m.tick(56);
  EXPECT_EQ(m.info(1, false), "id=1 granted=10 remaining=0 keys=[]") << "0.5 s left";
  m.tick(20);
  EXPECT_EQ(m.info(1, false), "id=1 granted=10 remaining=0 keys=[]")
      << "past its expiry, until the revoke: 0, never negative";
}

TEST(LeaseClock, AFollowerReportsTheGrantedTtl) {
  Member m;
  m.lessor->grant(1, 10);
  m.tick(42);
  EXPECT_EQ(m.info(1, false), "id=1 granted=10 remaining=10 keys=[]");
  m.lessor->promote(0);
  m.tick(42);
  EXPECT_EQ(m.info(1, false), "id=1 granted=10 remaining=5 keys=[]");
  m.lessor->demote();
  EXPECT_FALSE(m.lessor->primary());
  EXPECT_EQ(m.info(1, false), "id=1 granted=10 remaining=10 keys=[]")
      << "after a demote this member's clock no longer counts";
}

TEST(LeaseClock, AReopenedLessorIsNotPrimaryAndExpiresNothing) {
  Member m;
  m.lessor->promote(0);
  m.lessor->grant(1, 2);
  m.tick(10);
  m.reopen();
  EXPECT_FALSE(m.lessor->primary()) << "the clock is not stored: a restart starts as a follower";
  m.tick(100);
  EXPECT_TRUE(m.lessor->expired().empty());
  m.lessor->promote(0);
  EXPECT_EQ(ticks_until_expired(*m.lessor, 1, 100), 21);
}

}  // namespace etcdlab::lab4
