// Part D: the lock recipe (etcd's concurrency.Mutex), stepped in a deterministic world.
#include <random>

#include "etcdlab/testing/seeds.h"
#include "lock_world.h"
#include "txn_test_util.h"

namespace etcdlab::txn::testing {
namespace {

TEST(TxnLock, AnUncontendedLockIsHeldAfterOneTxn) {
  LockWorld w;
  int a = w.add("job", 0x694d7a3c);
  LockRecipe& recipe = *w.at(a).recipe;
  LockStep first = recipe.start();
  ASSERT_EQ(first.kind, LockStep::Kind::kTxn);
  EXPECT_EQ(recipe.key(), "job/694d7a3c") << "the key is the prefix and the lease in hex";
  LockStep next = recipe.on_txn(execute(w.store(), first.txn, any_lease));
  EXPECT_EQ(next.kind, LockStep::Kind::kHeld)
      << "the first key is mine: held, with no range to read";
  EXPECT_EQ(recipe.revision(), 2) << "the token is the owner key's create revision";
  auto kv = w.store().range(mvcc::KeyRange{"job/694d7a3c", ""}).kvs.at(0);
  EXPECT_EQ(kv.lease, 0x694d7a3c) << "the key lives on the session's lease";
  EXPECT_EQ(kv.value, "");
}

TEST(TxnLock, ANegativeLeaseIdIsItsTwosComplementInHex) {
  LockWorld w;
  int a = w.add("n", -2);
  EXPECT_EQ(w.at(a).recipe->key(), "n/fffffffffffffffe");
}

TEST(TxnLock, EachWaiterWaitsForTheKeyJustBeforeItsOwn) {
  LockWorld w;
  int a = w.add("L", 1), b = w.add("L", 2), c = w.add("L", 3);
  w.run(a);
  w.run(b);
  w.run(c);
  ASSERT_TRUE(w.at(a).held);
  ASSERT_FALSE(w.at(b).held);
  ASSERT_EQ(w.at(b).step.kind, LockStep::Kind::kWaitDelete);
  EXPECT_EQ(w.at(b).step.key, "L/1");
  ASSERT_EQ(w.at(c).step.kind, LockStep::Kind::kWaitDelete);
  EXPECT_EQ(w.at(c).step.key, "L/2") << "not the holder's key: a release would wake everyone";
  w.release(a);
  w.settle();
  EXPECT_TRUE(w.at(b).held);
  EXPECT_FALSE(w.at(c).held);
  w.release(b);
  w.settle();
  EXPECT_TRUE(w.at(c).held);
  EXPECT_LT(w.at(a).token, w.at(b).token);
  EXPECT_LT(w.at(b).token, w.at(c).token) << "tokens grow with each holder";
}

TEST(TxnLock, TheQueueIsInCreateRevisionOrderNotKeyOrder) {
  // The keys sort by lease id; the queue is the order of arrival. Here they disagree: L/1, L/3,
  // L/2, L/4 arrive in that order, and the key just before L/4's is L/2 (not L/3, the greatest
  // key before it, nor L/1, the smallest).
  LockWorld w;
  int a = w.add("L", 1), b = w.add("L", 3), c = w.add("L", 2), d = w.add("L", 4);
  for (int i : {a, b, c, d}) w.run(i);
  ASSERT_TRUE(w.at(a).held);
  for (int i : {b, c, d}) ASSERT_EQ(w.at(i).step.kind, LockStep::Kind::kWaitDelete) << i;
  EXPECT_EQ(w.at(b).step.key, "L/1");
  EXPECT_EQ(w.at(c).step.key, "L/3");
  EXPECT_EQ(w.at(d).step.key, "L/2") << "the key created just before L/4's";
  w.release(a);
  w.settle();
  EXPECT_TRUE(w.at(b).held);
  EXPECT_FALSE(w.at(c).held);
  w.release(b);
  w.settle();
  EXPECT_TRUE(w.at(c).held);
  EXPECT_FALSE(w.at(d).held);
  w.release(c);
  w.settle();
  EXPECT_TRUE(w.at(d).held);
}

TEST(TxnLock, TheRecipeReadsOneKeyOfTheQueueAtATime) {
  // n waiters that read the whole queue at each turn read n^2 keys while it drains; the recipe
  // asks for the one key it needs: the queue's first in its txn, the one just before its own
  // when it waits.
  LockWorld w;
  int a = w.add("L", 1), b = w.add("L", 2), c = w.add("L", 3);
  w.run(a);
  w.run(b);
  LockRecipe& recipe = *w.at(c).recipe;
  TxnResult joined = execute(w.store(), recipe.start().txn, any_lease);
  ASSERT_EQ(joined.responses.size(), 2u);
  const auto& first = range_at(joined, 1);
  ASSERT_EQ(first.kvs.size(), 1u) << "the txn reads the queue's first key only";
  EXPECT_EQ(first.kvs[0].key, "L/1");
  LockStep look = recipe.on_txn(joined);
  ASSERT_EQ(look.kind, LockStep::Kind::kRange);
  mvcc::RangeResult before_mine = w.store().range(look.range, look.options);
  ASSERT_EQ(before_mine.kvs.size(), 1u) << "the range reads the key just before mine only";
  EXPECT_EQ(before_mine.kvs[0].key, "L/2");
}

TEST(TxnLock, AWaiterWatchesFromJustAfterItsRange) {
  // From the range's revision + 1: a deletion after the read is seen (a watch from 0 starts
  // "now", when the watch is made, and misses one in between).
  LockWorld w;
  int a = w.add("L", 1), b = w.add("L", 2);
  w.run(a);
  LockRecipe& recipe = *w.at(b).recipe;
  LockStep look = recipe.on_txn(execute(w.store(), recipe.start().txn, any_lease));
  ASSERT_EQ(look.kind, LockStep::Kind::kRange);
  mvcc::RangeResult before_mine = w.store().range(look.range, look.options);
  ASSERT_EQ(before_mine.revision, 3);
  LockStep wait = recipe.on_range(before_mine);
  ASSERT_EQ(wait.kind, LockStep::Kind::kWaitDelete);
  EXPECT_EQ(wait.key, "L/1");
  EXPECT_EQ(wait.from_revision, 4) << "the range's revision (3) + 1";
}

TEST(TxnLock, AWaiterThatLeavesPassesItsPlaceOn) {
  LockWorld w;
  int a = w.add("L", 1), b = w.add("L", 2), c = w.add("L", 3);
  w.run(a);
  w.run(b);
  w.run(c);
  w.expire(b);  // b's session ends while it waits: its key goes
  w.settle();
  EXPECT_FALSE(w.at(c).held) << "a still holds the lock";
  ASSERT_EQ(w.at(c).step.kind, LockStep::Kind::kWaitDelete);
  EXPECT_EQ(w.at(c).step.key, "L/1") << "c looks again for a key before its own";
  w.release(a);
  w.settle();
  EXPECT_TRUE(w.at(c).held);
}

TEST(TxnLock, ASessionThatExpiredWhileWaitingNeverHolds) {
  // Jepsen's finding against etcd 3.4: a waiter whose lease expired went on to "hold" the
  // lock once its predecessor went, while its key was gone and another could take it.
  LockWorld w;
  int a = w.add("L", 1), b = w.add("L", 2);
  w.run(a);
  w.run(b);
  w.expire(b);
  w.release(a);
  w.settle();
  EXPECT_FALSE(w.at(b).held);
  EXPECT_TRUE(w.at(b).failed);
  EXPECT_EQ(w.at(b).error, kSessionExpired);
  int c = w.add("L", 3);
  w.run(c);
  EXPECT_TRUE(w.at(c).held) << "the lock is free";
}

TEST(TxnLock, TheSameSessionAskingAgainGetsTheKeyItHas) {
  LockWorld w;
  int a = w.add("L", 1);
  w.run(a);
  ASSERT_TRUE(w.at(a).held);
  int again = w.add("L", 1);  // the same lease: the same key
  w.run(again);
  EXPECT_TRUE(w.at(again).held);
  EXPECT_EQ(w.at(again).token, w.at(a).token) << "the key's create revision, not a new one";
  EXPECT_EQ(w.store().revision(), 2) << "no second put";
  // Later, with the store moved on: still the key's create revision, not the txn's revision.
  w.store().put("other", "x");  // revision 3
  int later = w.add("L", 1);
  w.run(later);
  EXPECT_TRUE(w.at(later).held);
  EXPECT_EQ(w.at(later).token, 2);
}

TEST(TxnLock, RandomSchedulesNeverHaveTwoLiveHolders) {
  // Five contenders; each step runs one, releases a holder, lets its session expire, or lets
  // everyone move. At every step at most one contender holds the lock with its key alive, and
  // the tokens of successive holders grow.
  ::etcdlab::testing::for_each_seed(::etcdlab::testing::seed_count(60, 2000), [](uint64_t seed) {
    std::mt19937_64 rng(seed);
    LockWorld w;
    for (int i = 0; i < 5; ++i) w.add("R", 100 + i);
    int64_t last_token = 0;
    for (int step = 0; step < 80; ++step) {
      int i = static_cast<int>(rng() % 5);
      auto& c = w.at(i);
      switch (rng() % 4) {
        case 0:
          if (!c.held && !c.failed) w.run(i);
          break;
        case 1:
          if (c.held) w.release(i);
          break;
        case 2:
          if (!c.failed && rng() % 4 == 0) w.expire(i);
          break;
        case 3:
          w.settle();
          break;
      }
      auto holders = w.live_holders();
      ASSERT_LE(holders.size(), 1u) << "two live holders at step " << step;
      for (int h : holders) {
        if (w.at(h).token != last_token) {
          ASSERT_GT(w.at(h).token, last_token) << "a later holder had a smaller token";
          last_token = w.at(h).token;
        }
      }
    }
  });
}

}  // namespace
}  // namespace etcdlab::txn::testing
