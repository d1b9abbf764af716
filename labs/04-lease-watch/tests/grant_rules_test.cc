// Lab 4, part A: grant (etcd-v3-json-api.md §6). The node picks the id; the lessor takes any id
// but kNoLease, negative ones included. A TTL below the minimum (0 and negative included) is
// raised to it, one above 9,000,000,000 s is refused, an id that exists is refused, and a grant
// is written to the lease table. Grant never touches the store.
#include <gtest/gtest.h>

#include "lease_test_util.h"

namespace etcdlab::lab4 {

TEST(LeaseGrant, GrantedLeasesAreListedInIdOrderNegativeIdsIncluded) {
  Member m;
  EXPECT_TRUE(m.lessor->leases().empty());
  m.lessor->grant(30, 10);
  m.lessor->grant(-7, 10);  // etcd accepts any client id but 0
  m.lessor->grant(2324035617479978037, 10);
  m.lessor->grant(5, 10);
  EXPECT_EQ(describe(m.lessor->leases()), "[-7 5 30 2324035617479978037]");
  EXPECT_TRUE(m.lessor->exists(-7));
  EXPECT_TRUE(m.lessor->exists(2324035617479978037));
  EXPECT_FALSE(m.lessor->exists(6));
}

TEST(LeaseGrant, GrantAnswersTheIdAndTheTtlAsGranted) {
  Member m;
  LeaseInfo g = m.lessor->grant(1000, 60);
  EXPECT_EQ(describe(g), "id=1000 granted=60 remaining=60 keys=[]");
  EXPECT_EQ(m.info(1000), "id=1000 granted=60 remaining=60 keys=[]")
      << "a member that is not the leader reports the granted TTL as what remains";
}

TEST(LeaseGrant, ATtlBelowTheMinimumIsRaisedToIt) {
  Member m;  // minimum 2 s
  EXPECT_EQ(m.lessor->grant(1, 1).granted_ttl, 2);
  EXPECT_EQ(m.lessor->grant(2, 0).granted_ttl, 2) << "0 is raised too (etcd: 0 became 2)";
  EXPECT_EQ(m.lessor->grant(3, -5).granted_ttl, 2) << "a negative TTL is raised too";
  EXPECT_EQ(m.lessor->grant(4, 2).granted_ttl, 2);
  EXPECT_EQ(m.lessor->grant(5, 3).granted_ttl, 3) << "a TTL above the minimum stays";
  EXPECT_EQ(m.info(1, false), "id=1 granted=2 remaining=2 keys=[]");
  EXPECT_EQ(m.info(3, false), "id=3 granted=2 remaining=2 keys=[]");

  LessorConfig c = config();
  c.min_ttl_seconds = 5;  // the minimum is the configuration's, not a constant
  Member n(c);
  EXPECT_EQ(n.lessor->grant(1, 3).granted_ttl, 5);
  EXPECT_EQ(n.lessor->grant(2, 7).granted_ttl, 7);
}

TEST(LeaseGrant, ATtlAboveTheMaximumIsTooLargeAndGrantsNothing) {
  Member m;
  EXPECT_LEASE_ERROR(LeaseError::Code::kTtlTooLarge, kTooLargeMessage,
                     m.lessor->grant(1, kMaxTtlSeconds + 1));
  EXPECT_FALSE(m.lessor->exists(1));
  EXPECT_TRUE(m.table.load().empty()) << "a refused grant writes nothing";
  EXPECT_EQ(m.lessor->grant(1, kMaxTtlSeconds).granted_ttl, kMaxTtlSeconds)
      << "9,000,000,000 s itself is allowed";
  EXPECT_EQ(m.info(1, false), "id=1 granted=9000000000 remaining=9000000000 keys=[]");
}

TEST(LeaseGrant, AnExistingIdIsRefusedAndKeepsItsTtl) {
  Member m;
  m.lessor->grant(7, 10);
  m.put("k", 7);
  EXPECT_LEASE_ERROR(LeaseError::Code::kExists, kExistsMessage, m.lessor->grant(7, 30));
  EXPECT_EQ(m.info(7), "id=7 granted=10 remaining=10 keys=[k]")
      << "the refused grant changes neither the TTL nor the keys";
  EXPECT_EQ(m.table.load(), (std::vector<LeaseRow>{{7, 10}}));
}

TEST(LeaseGrant, GrantWritesTheLeaseToTheTableWithTheRaisedTtl) {
  Member m;
  m.lessor->grant(9, 1);
  m.lessor->grant(-3, 40);
  EXPECT_EQ(m.table.load(), (std::vector<LeaseRow>{{-3, 40}, {9, 2}}))
      << "the table holds what a restart needs: every lease with its granted TTL";
}

TEST(LeaseGrant, GrantDoesNotTouchTheStore) {
  Member m;
  m.put("a");
  int64_t before = m.store->revision();
  m.lessor->grant(1, 10);
  m.lessor->grant(2, 10);
  EXPECT_EQ(m.store->revision(), before) << "grant is not a write of the store (etcd: no revision)";
}

TEST(LeaseGrant, AnIdCanBeGrantedAgainAfterItsRevoke) {
  Member m;
  m.lessor->grant(4, 10);
  m.lessor->revoke(4, *m.store);
  EXPECT_EQ(m.lessor->grant(4, 20).granted_ttl, 20);
  EXPECT_EQ(m.info(4), "id=4 granted=20 remaining=20 keys=[]");
  EXPECT_EQ(m.table.load(), (std::vector<LeaseRow>{{4, 20}}));
}

}  // namespace etcdlab::lab4
