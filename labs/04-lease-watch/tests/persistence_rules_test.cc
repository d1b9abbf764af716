// Lab 4, part A: what survives a restart and a snapshot. The leases (id, granted TTL) are in
// the lease table, which on a node is a companion of the store's SQLite database: its rows
// commit in the store's transactions, with the consistent index. The keys of each lease are
// not stored twice: open() rebuilds them from the store's `lease` fields, as etcd does. The
// clock is never stored: a reopened lessor is not primary, and a promote starts it afresh.
#include <gtest/gtest.h>

#include <string>

#include "lease_test_util.h"

namespace etcdlab::lab4 {

TEST(LeasePersistence, OpenReadsTheLeasesFromTheTableAndTheirKeysFromTheStore) {
  MemoryLeaseTable table;
  table.put({3, 30});
  table.put({-1, 5});
  auto store = memory_store();
  store->put("b", "v", 3);
  store->put("a", "v", 3);
  store->put("c", "v", -1);
  store->put("plain", "v", 0);
  auto lessor = Lessor::open(config(), table, *store);
  EXPECT_EQ(describe(lessor->leases()), "[-1 3]");
  EXPECT_EQ(describe(lessor->info(3, true)), "id=3 granted=30 remaining=30 keys=[a b]");
  EXPECT_EQ(describe(lessor->info(-1, true)), "id=-1 granted=5 remaining=5 keys=[c]");
  EXPECT_EQ(lessor->lease_of("a"), 3);
  EXPECT_EQ(lessor->lease_of("plain"), kNoLease);
  EXPECT_FALSE(lessor->primary()) << "a lessor opens as a follower; the node promotes it";
}

TEST(LeasePersistence, AKeyNamingALeaseTheTableDoesNotHoldIsNotAttached) {
  MemoryLeaseTable table;
  table.put({3, 30});
  auto store = memory_store();
  store->put("a", "v", 3);
  store->put("stray", "v", 99);  // etcd logs "failed to attach a lease" and goes on
  auto lessor = Lessor::open(config(), table, *store);
  EXPECT_EQ(describe(lessor->leases()), "[3]") << "a key does not create a lease";
  EXPECT_EQ(lessor->lease_of("stray"), kNoLease);
  EXPECT_EQ(describe(lessor->info(3, true)), "id=3 granted=30 remaining=30 keys=[a]");
}

TEST(LeasePersistence, ReopenedLessorRevokesTheKeysItRebuilt) {
  Member m;
  m.lessor->grant(1, 10);
  m.lessor->grant(2, 10);
  m.put("a", 1);
  m.put("b", 1);
  m.put("c", 2);
  m.put("a", 2);  // moved: the store's lease field says 2 now
  m.reopen();
  EXPECT_EQ(m.info(1), "id=1 granted=10 remaining=10 keys=[b]");
  EXPECT_EQ(m.info(2), "id=2 granted=10 remaining=10 keys=[a c]");
  int64_t before = m.store->revision();
  EXPECT_EQ(m.lessor->revoke(2, *m.store), before + 1);
  EXPECT_EQ(store_keys(*m.store), "b@1")
      << "after a restart a revoke must still delete every key of the lease";
}

TEST(LeasePersistence, ARevokedLeaseStaysRevokedAfterAReopen) {
  Member m;
  m.lessor->grant(1, 10);
  m.lessor->grant(2, 20);
  m.put("a", 1);
  m.lessor->revoke(1, *m.store);
  m.reopen();
  EXPECT_EQ(describe(m.lessor->leases()), "[2]")
      << "the revoke must remove the table's row: the lease would come back otherwise";
  EXPECT_FALSE(m.lessor->exists(1));
}

TEST(LeasePersistence, ASqliteStoreClosedAndReopenedKeepsLeasesAndKeys) {
  TempDir dir;
  std::string path = dir.file("kv.db");
  {
    SqliteMember m(path);
    m.store->begin_batch();  // as the node applies entries 1..3
    m.lessor->grant(1, 10);
    m.lessor->grant(2, 60);
    m.put("svc/a", 1);
    m.put("svc/b", 1);
    m.put("cfg", 2);
    m.store->commit_batch(3);
    m.store->begin_batch();  // entries 4..5
    m.lessor->grant(3, 1);
    m.lessor->revoke(2, *m.store);
    m.store->commit_batch(5);
  }
  SqliteMember m(path);
  EXPECT_EQ(m.store->consistent_index(), 5u);
  EXPECT_EQ(describe(m.lessor->leases()), "[1 3]");
  EXPECT_EQ(describe(m.lessor->info(1, true)), "id=1 granted=10 remaining=10 keys=[svc/a svc/b]");
  EXPECT_EQ(describe(m.lessor->info(3, true)), "id=3 granted=2 remaining=2 keys=[]")
      << "the table keeps the TTL as granted, after the minimum";
  EXPECT_EQ(store_keys(*m.store), "svc/a@1 svc/b@1");
  // The rebuilt lessor works on: a revoke deletes the rebuilt keys, and it lasts.
  m.store->begin_batch();
  m.lessor->revoke(1, *m.store);
  m.store->commit_batch(6);
  m.lessor.reset();
  m.store.reset();
  SqliteMember again(path);
  EXPECT_EQ(describe(again.lessor->leases()), "[3]");
  EXPECT_EQ(store_keys(*again.store), "");
}

TEST(LeasePersistence, ALeaseGrantedInABatchThatNeverCommittedIsGone) {
  TempDir dir;
  std::string path = dir.file("kv.db");
  {
    SqliteMember m(path);
    m.store->begin_batch();
    m.lessor->grant(1, 10);
    m.put("a", 1);
    m.store->commit_batch(1);
    m.store->begin_batch();
    m.lessor->grant(2, 10);
    m.put("b", 2);
    m.lessor->revoke(1, *m.store);
    // The node dies here: the batch is never committed.
  }
  SqliteMember m(path);
  EXPECT_EQ(m.store->consistent_index(), 1u);
  EXPECT_EQ(describe(m.lessor->leases()), "[1]")
      << "the lease rows are in the store's transaction: a lost batch loses its grants and "
         "revokes with its puts, so the node re-applies all of them from the log";
  EXPECT_EQ(describe(m.lessor->info(1, true)), "id=1 granted=10 remaining=10 keys=[a]");
  EXPECT_EQ(store_keys(*m.store), "a@1");
}

TEST(LeasePersistence, ARestoredSnapshotBringsItsLeasesAndKeys) {
  SqliteMember leader(":memory:");
  leader.store->begin_batch();
  leader.lessor->grant(1, 10);
  leader.lessor->grant(2, 20);
  leader.put("a", 1);
  leader.put("b", 2);
  leader.put("c", 1);
  leader.store->commit_batch(10);
  std::string snapshot;
  leader.store->snapshot([&](std::string_view chunk) { snapshot += chunk; });

  SqliteMember follower(":memory:");  // behind, with a lease the leader revoked since
  follower.store->begin_batch();
  follower.lessor->grant(7, 30);
  follower.put("old", 7);
  follower.store->commit_batch(4);

  // Installing a snapshot replaces the store; the node opens the lessor again over it.
  follower.lessor.reset();
  bool given = false;
  follower.store->restore([&]() -> std::string {
    if (given) return "";
    given = true;
    return snapshot;
  });
  follower.lessor = Lessor::open(follower.cfg, *follower.table, *follower.store);
  EXPECT_EQ(follower.store->consistent_index(), 10u);
  EXPECT_EQ(describe(follower.lessor->leases()), "[1 2]") << "the leader's leases, not its own";
  EXPECT_EQ(describe(follower.lessor->info(1, true)), "id=1 granted=10 remaining=10 keys=[a c]");
  EXPECT_EQ(describe(follower.lessor->info(2, true)), "id=2 granted=20 remaining=20 keys=[b]");
  EXPECT_EQ(follower.lessor->lease_of("old"), kNoLease);
  int64_t before = follower.store->revision();
  EXPECT_EQ(follower.lessor->revoke(1, *follower.store), before + 1);
  EXPECT_EQ(store_keys(*follower.store), "b@2");
}

}  // namespace etcdlab::lab4
