// Lab 2, part E: linearizable reads and leader transfer in whole simulated clusters.
// The reads here count the commands applied, so a read is stale if it returns fewer than the
// writes that finished before it started.
#include <gtest/gtest.h>

#include "sim_scenario.h"

namespace etcdlab::lab2 {
namespace {

// Every ok read returned at least the number of writes acknowledged before it was called,
// and at most the number of writes called before it returned.
void expect_reads_linearizable(const Cluster& c) {
  const auto& h = c.history();
  for (const auto& r : h) {
    if (r.kind != sim::Operation::Kind::kRead || r.outcome != Outcome::kOk) continue;
    uint64_t value = std::stoull(r.output);
    uint64_t finished_before = 0, called_before_return = 0;
    for (const auto& w : h) {
      if (w.kind != sim::Operation::Kind::kPropose || w.input.rfind("w", 0) != 0) continue;
      if (w.outcome == Outcome::kOk && w.return_us < r.call_us) finished_before++;
      if (w.call_us <= r.return_us) called_before_return++;
    }
    EXPECT_GE(value, finished_before)
        << "read " << r.id << " at " << r.call_us / 1000.0 << " ms returned " << value << " but "
        << finished_before << " writes had already been acknowledged: a stale read";
    EXPECT_LE(value, called_before_return) << "read " << r.id << " saw writes from the future";
  }
}

}  // namespace

TEST(ReadScenario, NoStaleReadFromAnIsolatedOldLeader) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 5));
    ASSERT_GT(one(c, "w0", 5), 0u);
    int old = *c.leader();
    c.isolate(old);
    ASSERT_GT(one(c, "w1", 3), 0u);  // a new leader takes a write the old one never sees
    uint64_t r = c.read(old);
    c.run_ms(3000);
    if (c.op(r).outcome == Outcome::kOk) {
      EXPECT_EQ(c.op(r).output, "2")
          << "a read through the deposed leader must not return the state before w1";
    }
    expect_reads_linearizable(c);
  });
}

TEST(ReadScenario, ReadsStayLinearizableUnderChurn) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 5));
    Rng rng(seed);
    c.set_network(unreliable());
    for (int round = 0; round < 20; ++round) {
      for (int k = 0; k < 3; ++k) c.propose("w" + std::to_string(round * 3 + k));
      for (int k = 0; k < 3; ++k) c.read(static_cast<int>(rng.uniform(0, 4)));
      int n = static_cast<int>(rng.uniform(0, 4));
      switch (rng.uniform(0, 4)) {
        case 0:
          c.isolate(n);
          break;
        case 1:
          c.heal();
          break;
        case 2:
          c.crash(n);
          break;
        case 3:
          c.restart(n);
          break;
        default:
          break;
      }
      c.run_ms(static_cast<double>(rng.uniform(100, 700)));
    }
    c.heal();
    for (int i = 0; i < 5; ++i) c.restart(i);
    c.run_ms(10000);
    expect_reads_linearizable(c);
    size_t ok_reads = 0;
    for (const auto& op : c.history()) {
      ok_reads += op.kind == sim::Operation::Kind::kRead && op.outcome == Outcome::kOk;
    }
    EXPECT_GT(ok_reads, 10u) << "most reads get through";
  });
}

TEST(ReadScenario, FollowerReadsSeeEarlierWrites) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 3));
    auto l = wait_leader(c);
    ASSERT_TRUE(l);
    for (int i = 0; i < 10; ++i) {
      uint64_t w = c.propose("w" + std::to_string(i), *l);
      ASSERT_TRUE(wait_done(c, {w}, 5000));
      uint64_t r = c.read((*l + 1 + i % 2) % 3);
      ASSERT_TRUE(wait_done(c, {r}, 5000));
      EXPECT_EQ(c.op(r).output, std::to_string(i + 1))
          << "a read at a follower after write " << i << " was acknowledged";
    }
  });
}

TEST(TransferScenario, TransferToAnUpToDateNode) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 3));
    auto l = wait_leader(c);
    ASSERT_TRUE(l);
    ASSERT_GT(one(c, "x", 3), 0u);
    int target = (*l + 1) % 3;
    uint64_t t = c.transfer_leader(target);
    ASSERT_TRUE(wait_done(c, {t}, 5000));
    EXPECT_EQ(c.op(t).outcome, Outcome::kOk);
    EXPECT_EQ(c.leader(), target);
    EXPECT_LT(c.op(t).return_us - c.op(t).call_us, 1000000u)
        << "a transfer takes a round trip or two, not an election timeout";
  });
}

TEST(TransferScenario, TransferToALaggingNode) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 3));
    auto l = wait_leader(c);
    ASSERT_TRUE(l);
    int target = (*l + 2) % 3;
    c.isolate(target);
    for (int i = 0; i < 30; ++i) ASSERT_GT(one(c, "p" + std::to_string(i), 2), 0u);
    c.heal();
    uint64_t t = c.transfer_leader(target);
    ASSERT_TRUE(wait_done(c, {t}, 10000));
    EXPECT_EQ(c.op(t).outcome, Outcome::kOk);
    ASSERT_GT(one(c, "after", 3), 0u);
    EXPECT_EQ(c.node(target).commands_applied, 31u) << "the target caught up before leading";
  });
}

}  // namespace etcdlab::lab2
