// The simulator's own tests (the lab 2 tests use it to test Raft): it elects, replicates,
// survives its faults, and replays a seed exactly.
#include "etcdlab/sim/cluster.h"

#include <gtest/gtest.h>

#include "etcdlab/sim/invariants.h"
#include "etcdlab/testing/seeds.h"

namespace etcdlab::sim {
namespace {

ClusterOptions opts(uint64_t seed, int nodes = 5) {
  ClusterOptions o;
  o.seed = seed;
  o.nodes = nodes;
  return o;
}

}  // namespace

TEST(Simulator, ElectsALeaderAndReplicates) {
  Cluster c(opts(1));
  ASSERT_TRUE(c.run_until([&] { return c.leader().has_value(); }, 5000));
  std::vector<uint64_t> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(c.propose("cmd" + std::to_string(i)));
  ASSERT_TRUE(c.run_until(
      [&] {
        for (auto id : ids) {
          if (!c.op(id).done()) return false;
        }
        return true;
      },
      5000));
  for (auto id : ids) EXPECT_EQ(c.op(id).outcome, Outcome::kOk);
  c.run_ms(1000);
  for (int i = 0; i < c.size(); ++i) EXPECT_EQ(c.node(i).commands_applied, 20u) << "node " << i;
  c.check_invariants();
}

TEST(Simulator, SameSeedSameTraceHash) {
  auto run = [](uint64_t seed) {
    Cluster c(opts(seed));
    c.set_network({1, 20, 0.05, 0.05, 0.05, 500});
    c.run_ms(2000);
    for (int i = 0; i < 30; ++i) c.propose("x" + std::to_string(i));
    c.crash(1);
    c.run_ms(3000);
    c.restart(1);
    c.run_ms(3000);
    return c.trace_hash();
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

TEST(Simulator, SurvivesRandomFaults) {
  testing::for_each_seed(5, [&](uint64_t seed) {
    Cluster c(opts(seed));
    Rng rng(seed);
    c.set_network({1, 10, 0.02, 0.02, 0.02, 300});
    for (int round = 0; round < 30; ++round) {
      for (int k = 0; k < 3; ++k) c.propose("r" + std::to_string(round) + "-" + std::to_string(k));
      int victim = static_cast<int>(rng.uniform(0, 4));
      switch (rng.uniform(0, 3)) {
        case 0:
          c.crash(victim);
          break;
        case 1:
          c.restart(victim);
          break;
        case 2:
          c.isolate(victim);
          break;
        default:
          c.heal();
          break;
      }
      c.run_ms(static_cast<double>(rng.uniform(100, 1500)));
    }
    c.heal();
    for (int i = 0; i < c.size(); ++i) c.restart(i);
    c.set_network({});
    ASSERT_TRUE(c.run_until([&] { return c.leader().has_value(); }, 10000));
    c.run_ms(3000);
    c.check_invariants();
  });
}

}  // namespace etcdlab::sim
