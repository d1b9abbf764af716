// Lab 4, part A: revoke (etcd-v3-json-api.md §6). Every key of the lease is deleted in ONE write
// of the store: one revision, so a watcher sees the whole registration go at once and a reader
// never sees half of it; no revision at all when the lease has no key. The lease leaves the
// lessor and the table. An unknown lease is "requested lease not found". Expiry is a revoke
// too: the leader proposes it, and every member applies it with this call.
#include <gtest/gtest.h>

#include "lease_test_util.h"

namespace etcdlab::lab4 {
namespace {

// The events of the writes after `after`: "DELETE a@7 DELETE b@7".
std::string events_after(const KvStore& store, int64_t after) {
  std::string out;
  for (const auto& e : store.events_since(after + 1, everything(), false)) {
    out += (out.empty() ? "" : " ");
    out += e.type == mvcc::Event::Type::kPut ? "PUT " : "DELETE ";
    out += e.kv.key + "@" + std::to_string(e.kv.mod_revision);
  }
  return out;
}

}  // namespace

TEST(LeaseRevoke, DeletesEveryKeyOfTheLeaseInOneRevision) {
  Member m;
  m.lessor->grant(5, 10);
  m.put("svc/a", 5);
  m.put("svc/b", 5);
  m.put("other", kNoLease);
  m.put("svc/c", 5);
  int64_t before = m.store->revision();
  int64_t revision = m.lessor->revoke(5, *m.store);
  EXPECT_EQ(m.store->revision(), before + 1)
      << "three keys, one revision: a revoke is one write of the store";
  EXPECT_EQ(revision, before + 1) << "revoke returns the revision its delete made";
  EXPECT_EQ(events_after(*m.store, before), "DELETE svc/a@6 DELETE svc/b@6 DELETE svc/c@6")
      << "every key of the lease goes at the same revision";
  EXPECT_EQ(store_keys(*m.store), "other@0") << "only the lease's keys go";
}

TEST(LeaseRevoke, ALeaseWithoutKeysIsRevokedWithoutARevision) {
  Member m;
  m.put("a");
  m.lessor->grant(5, 10);
  int64_t before = m.store->revision();
  EXPECT_EQ(m.lessor->revoke(5, *m.store), 0) << "nothing deleted: no revision to return";
  EXPECT_EQ(m.store->revision(), before)
      << "etcd: revoking a lease with no keys keeps the revision";
  EXPECT_FALSE(m.lessor->exists(5));
}

TEST(LeaseRevoke, ALeaseWhoseKeysAllLeftItIsRevokedWithoutARevision) {
  Member m;
  m.lessor->grant(5, 10);
  m.put("a", 5);
  m.put("b", 5);
  m.put("a");       // a put without the lease takes the key out of it
  m.del(key("b"));  // so does a delete
  int64_t before = m.store->revision();
  EXPECT_EQ(m.lessor->revoke(5, *m.store), 0);
  EXPECT_EQ(m.store->revision(), before);
  EXPECT_EQ(store_keys(*m.store), "a@0");
}

TEST(LeaseRevoke, AnUnknownLeaseIsNotFoundAndChangesNothing) {
  Member m;
  m.lessor->grant(1, 10);
  m.put("a", 1);
  int64_t before = m.store->revision();
  EXPECT_LEASE_ERROR(LeaseError::Code::kNotFound, kNotFoundMessage, m.lessor->revoke(2, *m.store));
  EXPECT_EQ(m.store->revision(), before);
  EXPECT_EQ(m.info(1), "id=1 granted=10 remaining=10 keys=[a]");
  m.lessor->revoke(1, *m.store);
  EXPECT_LEASE_ERROR(LeaseError::Code::kNotFound, kNotFoundMessage, m.lessor->revoke(1, *m.store))
      << "a second revoke of the same lease";
}

TEST(LeaseRevoke, TheLeaseLeavesTheLessorAndTheTable) {
  Member m;
  m.lessor->grant(1, 10);
  m.lessor->grant(2, 20);
  m.put("a", 1);
  m.put("b", 2);
  m.lessor->revoke(1, *m.store);
  EXPECT_FALSE(m.lessor->exists(1));
  EXPECT_EQ(m.info(1), "none");
  EXPECT_EQ(describe(m.lessor->leases()), "[2]");
  EXPECT_EQ(m.lessor->lease_of("a"), kNoLease) << "the deleted key has no lease any more";
  EXPECT_EQ(m.lessor->lease_of("b"), 2);
  EXPECT_EQ(m.table.load(), (std::vector<LeaseRow>{{2, 20}}))
      << "a revoked lease must leave the table, or it comes back at the next start";
}

TEST(LeaseRevoke, ARevokedLeasesKeyPutAgainBelongsToNoLease) {
  Member m;
  m.lessor->grant(1, 10);
  m.put("a", 1);
  m.lessor->revoke(1, *m.store);
  m.put("a");
  m.lessor->grant(1, 10);  // the same id again: a new lease, with no keys
  EXPECT_EQ(m.info(1), "id=1 granted=10 remaining=10 keys=[]");
  EXPECT_EQ(m.lessor->revoke(1, *m.store), 0);
  EXPECT_EQ(store_keys(*m.store), "a@0");
}

TEST(LeaseRevoke, RevokingInsideABatchCommitsWithTheBatch) {
  Member m;
  m.lessor->grant(1, 10);
  m.put("a", 1);
  m.put("b", 1);
  m.store->begin_batch();  // the node applies entries in batches: a revoke is one of them
  int64_t revision = m.lessor->revoke(1, *m.store);
  m.put("c");
  m.store->commit_batch(7);
  EXPECT_EQ(revision, 4);
  EXPECT_EQ(m.store->revision(), 5);
  EXPECT_EQ(m.store->consistent_index(), 7u);
  EXPECT_EQ(store_keys(*m.store), "c@0");
}

}  // namespace etcdlab::lab4
