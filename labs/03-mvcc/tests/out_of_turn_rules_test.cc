// Lab 3: calls out of turn. The store is driven by one caller (the node's apply loop) that
// never makes these calls; when one happens anyway it is a bug in the caller, and the store says
// so at once with std::logic_error (std::invalid_argument for a bad argument) and changes
// nothing, instead of corrupting its index or its batch (README, part A, "Calls out of turn").
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "etcdlab/errors.h"
#include "mvcc_test_util.h"

namespace etcdlab::lab3 {
namespace {

#define EXPECT_REFUSED(statement)                                                       \
  EXPECT_TRUE(throws<std::logic_error>("std::logic_error", [&] { (void)(statement); })) \
      << "call: " #statement

std::string snapshot_of(const KvStore& s) {
  std::string out;
  s.snapshot([&](std::string_view chunk) { out += chunk; });
  return out;
}

std::function<std::string()> all_at_once(std::string bytes) {
  return [bytes = std::move(bytes), done = false]() mutable {
    if (done) return std::string();
    done = true;
    return bytes;
  };
}

}  // namespace

TEST(WriteRules, AnEndedWriteRefusesEveryOperation) {
  auto s = memory_store();
  Write w = s->write();
  w.put("a", "1", 0);
  w.end();
  EXPECT_REFUSED(w.put("b", "2", 0));
  EXPECT_REFUSED(w.delete_range(key("a")));
  EXPECT_REFUSED(w.range(key("a"), {}));
  EXPECT_REFUSED(w.end());
  EXPECT_REFUSED(w.end_without_prev_kvs());
  EXPECT_EQ(s->revision(), 2) << "the refused calls changed nothing";
  EXPECT_EQ(read(*s, everything()), std::vector{kv("a", 2, 2, 1, "1")});
}

TEST(BackendRules, WhileAWriteIsOpenTheStoreRefusesEverythingButReads) {
  auto s = memory_store();
  s->put("a", "1");
  std::string image = snapshot_of(*s);
  Write w = s->write();
  w.put("b", "2", 0);
  EXPECT_REFUSED(s->write());
  EXPECT_REFUSED(s->put("c", "3"));
  EXPECT_REFUSED(s->delete_range(key("a")));
  EXPECT_REFUSED(s->begin_batch());
  EXPECT_REFUSED(s->commit_batch(1));
  EXPECT_REFUSED(s->compact(2));
  EXPECT_REFUSED(s->compaction_step());
  EXPECT_REFUSED(s->make_durable());
  EXPECT_REFUSED(s->defragment());
  EXPECT_REFUSED(snapshot_of(*s));
  EXPECT_REFUSED(s->restore(all_at_once(image)));
  EXPECT_EQ(read(*s, key("a")), std::vector{kv("a", 2, 2, 1, "1")}) << "reads are fine";
  w.end();
  EXPECT_EQ(s->revision(), 3) << "the open write went on as if nothing had been asked";
  EXPECT_EQ(s->compact_revision(), 0);
  EXPECT_EQ(s->consistent_index(), 0u);
  EXPECT_EQ(read(*s, everything()), (std::vector{kv("a", 2, 2, 1, "1"), kv("b", 3, 3, 1, "2")}));
}

TEST(BackendRules, BatchCallsOutOfOrderAndWholeStoreCallsInsideABatchAreRefused) {
  auto s = memory_store();
  s->put("a", "1");
  std::string image = snapshot_of(*s);
  EXPECT_REFUSED(s->commit_batch(1)) << "no batch is open";
  s->begin_batch();
  s->put("b", "2");
  EXPECT_REFUSED(s->begin_batch()) << "batches do not nest";
  EXPECT_REFUSED(s->make_durable());
  EXPECT_REFUSED(s->defragment());
  EXPECT_REFUSED(snapshot_of(*s));
  EXPECT_REFUSED(s->restore(all_at_once(image)));
  s->put("c", "3");
  s->commit_batch(7);
  EXPECT_EQ(s->consistent_index(), 7u);
  EXPECT_EQ(s->revision(), 4) << "the batch went on as if nothing had been asked";
  EXPECT_EQ(s->key_count(), 3);
}

TEST(BackendRules, ABatchWithAWriteOpenCannotCommit) {
  // The write's operations are not in the batch yet: committing now would lose them.
  auto s = memory_store();
  s->begin_batch();
  Write w = s->write();
  w.put("a", "1", 0);
  EXPECT_REFUSED(s->commit_batch(1));
  w.end();
  s->commit_batch(1);
  EXPECT_EQ(s->consistent_index(), 1u);
  EXPECT_EQ(read(*s, everything()), std::vector{kv("a", 2, 2, 1, "1")});
}

TEST(BackendRules, TheConsistentIndexNeverGoesBackwardsButMayStay) {
  auto s = memory_store();
  s->begin_batch();
  s->put("a", "1");
  s->commit_batch(5);
  s->begin_batch();
  s->put("b", "2");
  EXPECT_THROW(s->commit_batch(4), std::invalid_argument);
  EXPECT_EQ(s->consistent_index(), 5u) << "a refused commit changes nothing";
  s->commit_batch(5);  // the batch is still open: the same index again is fine
  EXPECT_EQ(s->consistent_index(), 5u);
  EXPECT_EQ(s->revision(), 3);
  EXPECT_EQ(s->key_count(), 2);
}

TEST(CompactionRules, ACompactionBatchOfZeroOrLessIsRefusedOnOpen) {
  for (int64_t batch : {0, -1}) {
    StoreOptions o;
    o.compaction_batch = batch;
    EXPECT_THROW(KvStore::open(o), std::invalid_argument) << "compaction_batch " << batch;
  }
  StoreOptions one;
  one.compaction_batch = 1;
  EXPECT_EQ(KvStore::open(one)->revision(), 1) << "1 is the smallest batch";
}

}  // namespace etcdlab::lab3
