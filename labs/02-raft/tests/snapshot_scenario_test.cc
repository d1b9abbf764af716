// Lab 2, part D: snapshots in whole simulated clusters (the 6.5840 3D tests). Every node takes a
// snapshot every 10 applied entries; followers that fall behind are brought back with
// InstallSnapshot, the payload streamed from the leader's snapshot file.
#include <gtest/gtest.h>

#include "sim_scenario.h"

namespace etcdlab::lab2 {
namespace {

ClusterOptions snapshotting(uint64_t seed, int nodes = 3) {
  ClusterOptions o = cluster_options(seed, nodes);
  o.snapshot_every = 10;
  return o;
}

// 6.5840's snapcommon: 30 rounds of 10 commands; each round a follower is disconnected (or
// crashed) and brought back, so it needs a snapshot to catch up.
void snapcommon(uint64_t seed, bool disconnect, bool unreliable_network, bool crash) {
  Cluster c(snapshotting(seed));
  if (unreliable_network) c.set_network(unreliable());
  ASSERT_GT(one(c, "init", 1, 20000), 0u);
  for (int round = 0; round < 30; ++round) {
    int victim = (*wait_leader(c) + 1) % 3;
    if (disconnect) c.isolate(victim);
    if (crash) c.crash(victim);
    std::vector<uint64_t> ids;
    for (int i = 0; i < 11; ++i) {
      ids.push_back(c.propose("r" + std::to_string(round) + "-" + std::to_string(i)));
    }
    ASSERT_GT(one(c, "r" + std::to_string(round), 2, 20000), 0u) << "round " << round;
    if (disconnect) c.heal();
    if (crash) c.restart(victim);
    ASSERT_GT(one(c, "back" + std::to_string(round), 3, 30000), 0u)
        << "round " << round << ": the follower came back and must catch up";
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_GT(c.node(i).snapshot_index, 0u) << "node " << i << " has a snapshot";
    EXPECT_LT(c.node(i).last_index - c.node(i).snapshot_index, 60u)
        << "node " << i << ": the log after the snapshot stays short";
  }
}

}  // namespace

TEST(SnapshotScenario, SnapshotBasic) {
  testing::for_each_seed(2, [](uint64_t seed) { snapcommon(seed, false, false, false); });
}

TEST(SnapshotScenario, SnapshotInstall) {
  testing::for_each_seed(2, [](uint64_t seed) { snapcommon(seed, true, false, false); });
}

TEST(SnapshotScenario, SnapshotInstallUnreliable) {
  testing::for_each_seed(2, [](uint64_t seed) { snapcommon(seed, true, true, false); });
}

TEST(SnapshotScenario, SnapshotInstallCrash) {
  testing::for_each_seed(2, [](uint64_t seed) { snapcommon(seed, false, false, true); });
}

TEST(SnapshotScenario, SnapshotInstallUnreliableCrash) {
  testing::for_each_seed(2, [](uint64_t seed) { snapcommon(seed, false, true, true); });
}

TEST(SnapshotScenario, SnapshotAllCrash) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(snapshotting(seed));
    ASSERT_GT(one(c, "init", 3), 0u);
    uint64_t index = 0;
    for (int round = 0; round < 5; ++round) {
      for (int i = 0; i < 11; ++i) ASSERT_GT(one(c, "a" + std::to_string(round * 11 + i), 3), 0u);
      for (int i = 0; i < 3; ++i) c.crash(i);
      for (int i = 0; i < 3; ++i) c.restart(i);
      uint64_t now = one(c, "after-crash" + std::to_string(round), 3);
      ASSERT_GT(now, index) << "round " << round << ": the log index must never go backwards";
      index = now;
    }
  });
}

TEST(SnapshotScenario, SnapshotInit) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(snapshotting(seed));
    for (int i = 0; i < 12; ++i) ASSERT_GT(one(c, "s" + std::to_string(i), 3), 0u);
    for (int i = 0; i < 3; ++i) c.crash(i);
    for (int i = 0; i < 3; ++i) c.restart(i);
    ASSERT_GT(one(c, "x", 3), 0u);
    for (int i = 0; i < 3; ++i) c.crash(i);
    for (int i = 0; i < 3; ++i) c.restart(i);
    ASSERT_GT(one(c, "y", 3), 0u) << "the snapshot must survive a second restart";
    for (int i = 0; i < 3; ++i) EXPECT_EQ(c.node(i).commands_applied, 14u) << "node " << i;
  });
}

TEST(SnapshotScenario, PersistedRaftStateStaysSmall) {
  testing::for_each_seed(2, [](uint64_t seed) {
    ClusterOptions o = snapshotting(seed);
    o.wal.segment_bytes = 4096;
    Cluster c(o);
    for (int i = 0; i < 300; ++i) {
      ASSERT_GT(one(c, std::string(200, 'z') + std::to_string(i), 3), 0u);
    }
    for (int i = 0; i < 3; ++i) {
      auto v = c.node(i);
      EXPECT_LT(v.last_index - v.first_index + 1, 40u)
          << "node " << i << ": with a snapshot every 10 entries the log holds few entries";
      EXPECT_LT(v.wal_bytes, 5 * 4096u)
          << "node " << i
          << ": and the WAL releases the segments the snapshots cover (300 "
             "entries of 200 bytes would be 60 KB)";
    }
  });
}

}  // namespace etcdlab::lab2
