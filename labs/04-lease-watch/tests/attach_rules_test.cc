// Lab 4, part A: which keys a lease holds (etcd-v3-json-api.md §4.2, §6). The node calls
// attach() for every put it applies and detach() for every key a delete removes, in log order,
// on every member. A key has at most one lease: a put with another lease moves it, a put
// without a lease takes it out of its lease (etcd does so), and a delete takes it out too. A
// revoke deletes exactly the keys its lease holds at that moment.
#include <gtest/gtest.h>

#include "lease_test_util.h"

namespace etcdlab::lab4 {

TEST(LeaseAttach, APutWithALeaseAttachesTheKey) {
  Member m;
  m.lessor->grant(1, 10);
  m.put("b", 1);
  m.put("a", 1);
  EXPECT_EQ(m.lessor->lease_of("a"), 1);
  EXPECT_EQ(m.lessor->lease_of("b"), 1);
  EXPECT_EQ(m.lessor->lease_of("c"), kNoLease);
  EXPECT_EQ(m.info(1), "id=1 granted=10 remaining=10 keys=[a b]") << "keys in ascending order";
  EXPECT_EQ(m.info(1, false), "id=1 granted=10 remaining=10 keys=[]") << "keys only when asked";
}

TEST(LeaseAttach, APutWithAnotherLeaseMovesTheKey) {
  Member m;
  m.lessor->grant(1, 10);
  m.lessor->grant(2, 10);
  m.put("k", 1);
  m.put("k", 2);
  EXPECT_EQ(m.lessor->lease_of("k"), 2);
  EXPECT_EQ(m.info(1), "id=1 granted=10 remaining=10 keys=[]") << "the old lease lets the key go";
  EXPECT_EQ(m.info(2), "id=2 granted=10 remaining=10 keys=[k]");
  EXPECT_EQ(m.lessor->revoke(1, *m.store), 0) << "the old lease has no key left to delete";
  EXPECT_EQ(store_keys(*m.store), "k@2");
}

TEST(LeaseAttach, APutWithoutALeaseDetachesTheKey) {
  Member m;
  m.lessor->grant(1, 10);
  m.put("k", 1);
  m.put("j", 1);
  m.put("k");  // etcd: a put without `lease` detaches the key from its lease
  EXPECT_EQ(m.lessor->lease_of("k"), kNoLease);
  EXPECT_EQ(m.info(1), "id=1 granted=10 remaining=10 keys=[j]");
  m.lessor->revoke(1, *m.store);
  EXPECT_EQ(store_keys(*m.store), "k@0")
      << "the revoke must not delete a key that was put again without the lease";
}

TEST(LeaseAttach, ADeleteDetachesTheKey) {
  Member m;
  m.lessor->grant(1, 10);
  m.put("a", 1);
  m.put("b", 1);
  m.del(key("a"));
  EXPECT_EQ(m.lessor->lease_of("a"), kNoLease);
  EXPECT_EQ(m.info(1), "id=1 granted=10 remaining=10 keys=[b]");
  m.put("a");  // created again, without a lease
  m.lessor->revoke(1, *m.store);
  EXPECT_EQ(store_keys(*m.store), "a@0");
}

TEST(LeaseAttach, AnUnknownLeaseIsRefusedAndChangesNothing) {
  Member m;
  m.lessor->grant(1, 10);
  m.put("k", 1);
  EXPECT_LEASE_ERROR(LeaseError::Code::kNotFound, kNotFoundMessage, m.lessor->attach("k", 2));
  EXPECT_LEASE_ERROR(LeaseError::Code::kNotFound, kNotFoundMessage, m.lessor->attach("new", 2));
  EXPECT_EQ(m.lessor->lease_of("k"), 1) << "a refused attach leaves the key where it was";
  EXPECT_EQ(m.lessor->lease_of("new"), kNoLease);
  EXPECT_EQ(m.info(1), "id=1 granted=10 remaining=10 keys=[k]");
  EXPECT_EQ(describe(m.lessor->leases()), "[1]") << "a refused attach creates no lease";
}

TEST(LeaseAttach, PuttingAKeyAgainWithItsLeaseKeepsOneKey) {
  Member m;
  m.lessor->grant(1, 10);
  m.put("k", 1);
  m.put("k", 1);
  m.put("k", 1);
  EXPECT_EQ(m.info(1), "id=1 granted=10 remaining=10 keys=[k]");
  int64_t before = m.store->revision();
  EXPECT_EQ(m.lessor->revoke(1, *m.store), before + 1);
  EXPECT_EQ(store_keys(*m.store), "");
}

TEST(LeaseAttach, DetachingAKeyWithoutALeaseDoesNothing) {
  Member m;
  m.lessor->grant(1, 10);
  m.put("a", 1);
  m.lessor->detach("never-attached");
  m.put("b");
  m.del(key("b"));
  EXPECT_EQ(m.info(1), "id=1 granted=10 remaining=10 keys=[a]");
}

TEST(LeaseAttach, KeysAreBytesAndAnyByteWorks) {
  Member m;
  m.lessor->grant(1, 10);
  std::string odd("\xff\x00z", 3);
  m.put(odd, 1);
  m.put("a", 1);
  EXPECT_EQ(m.lessor->lease_of(odd), 1);
  EXPECT_EQ(m.lessor->lease_of(std::string("\xff", 1)), kNoLease) << "a key is all its bytes";
  auto info = m.lessor->info(1, true);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->keys, (std::vector<std::string>{"a", odd})) << "ascending as bytes, unsigned";
  m.lessor->revoke(1, *m.store);
  EXPECT_EQ(store_keys(*m.store), "");
}

}  // namespace etcdlab::lab4
