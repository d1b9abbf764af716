// Lab 2, part C: crashes and restarts in whole simulated clusters (the 6.5840 3C tests):
// nodes lose their memory and whatever they had not synced, and come back from their disks.
// Plus Figure 8 under crashes and an unreliable network, churn, a randomized soak over many
// seeds, and the determinism of the simulator itself.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "sim_scenario.h"

namespace etcdlab::lab2 {
namespace {

int count_up(const Cluster& c) {
  int n = 0;
  for (int i = 0; i < c.size(); ++i) n += c.node(i).up;
  return n;
}

void restart_all(Cluster& c) {
  for (int i = 0; i < c.size(); ++i) c.restart(i);
}

}  // namespace

TEST(PersistenceScenario, Persist1CrashAndRestart) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 3));
    ASSERT_GT(one(c, "11", 3), 0u);
    for (int i = 0; i < 3; ++i) c.crash(i);
    restart_all(c);
    ASSERT_GT(one(c, "12", 3), 0u) << "the whole cluster crashed and came back";
    int l = *c.leader();
    c.crash(l);
    c.restart(l);
    ASSERT_GT(one(c, "13", 3), 0u) << "the leader crashed and came back";
    l = *c.leader();
    c.crash(l);
    ASSERT_GT(one(c, "14", 2), 0u);
    c.restart(l);
    ASSERT_GT(one(c, "15", 3), 0u);
  });
}

TEST(PersistenceScenario, Persist2RepeatedPartialCrashes) {
  testing::for_each_seed(2, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 5));
    int index = 1;
    for (int iter = 0; iter < 5; ++iter) {
      ASSERT_GT(one(c, std::to_string(10 + index++), 5), 0u) << "iteration " << iter;
      int l = *c.leader();
      c.crash((l + 1) % 5);
      c.crash((l + 2) % 5);
      ASSERT_GT(one(c, std::to_string(10 + index++), 3), 0u);
      c.crash(l);
      c.crash((l + 3) % 5);
      c.crash((l + 4) % 5);
      c.restart((l + 1) % 5);
      c.restart((l + 2) % 5);
      c.run_ms(1000);
      c.restart((l + 3) % 5);
      ASSERT_GT(one(c, std::to_string(10 + index++), 3), 0u);
      c.restart((l + 4) % 5);
      c.restart(l);
    }
    ASSERT_GT(one(c, "1000", 5), 0u);
  });
}

TEST(PersistenceScenario, Persist3PartitionedLeaderAndFollowerCrash) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 3));
    ASSERT_GT(one(c, "101", 3), 0u);
    int l = *c.leader();
    c.isolate((l + 2) % 3);
    ASSERT_GT(one(c, "102", 2), 0u);
    c.crash(l);
    c.crash((l + 1) % 3);
    c.heal();
    c.restart(l);
    ASSERT_GT(one(c, "103", 2), 0u);
    c.restart((l + 1) % 3);
    ASSERT_GT(one(c, "104", 3), 0u);
  });
}

// 6.5840's Figure8: leaders crash at random moments right after taking proposals, so entries
// of old terms pile up on minorities; a node counting old-term replicas to commit (Figure 8 of
// the paper) breaks leader completeness here. Each round waits for a leader first: our
// elections take about a second of simulated time, so rounds of a few milliseconds alone
// would mostly find none and the storm would reach only a handful of terms.
TEST(PersistenceScenario, Figure8) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 5));
    Rng rng(seed);
    ASSERT_GT(one(c, "start", 1), 0u);
    uint64_t crashed_leaders = 0;
    for (int iter = 0; iter < 150; ++iter) {
      wait_leader(c, 3000);
      for (int i = 0; i < c.size(); ++i) {
        if (c.node(i).up && c.node(i).role == Role::kLeader) c.propose(std::to_string(iter), i);
      }
      c.run_ms(rng.chance(0.1) ? static_cast<double>(rng.uniform(0, 500))
                               : static_cast<double>(rng.uniform(0, 13)));
      if (auto l = c.leader()) {
        c.crash(*l);
        ++crashed_leaders;
      }
      if (count_up(c) < 3) {
        int n = static_cast<int>(rng.uniform(0, 4));
        while (c.node(n).up) n = (n + 1) % 5;
        c.restart(n);
      }
    }
    EXPECT_GE(crashed_leaders, 100u) << "the storm should depose a leader in most rounds";
    restart_all(c);
    ASSERT_GT(one(c, "final", 5, 20000), 0u) << "after the storm all five agree again";
  });
}

TEST(PersistenceScenario, Figure8Unreliable) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 5));
    Rng rng(seed);
    c.set_network(unreliable());
    ASSERT_GT(one(c, "start", 1, 20000), 0u);
    for (int iter = 0; iter < 200; ++iter) {
      if (iter == 120) {
        NetworkOptions reordering = unreliable();
        reordering.reorder = 0.3;
        reordering.reorder_max_ms = 2000;
        c.set_network(reordering);
      }
      for (int i = 0; i < c.size(); ++i) {
        if (c.node(i).role == Role::kLeader && rng.chance(0.5)) {
          c.propose(std::to_string(rng.uniform(0, 10000)), i);
        }
      }
      c.run_ms(rng.chance(0.1) ? static_cast<double>(rng.uniform(0, 500))
                               : static_cast<double>(rng.uniform(0, 13)));
      if (auto l = c.leader(); l && rng.chance(0.5)) c.isolate(*l);
      if (rng.chance(0.3)) c.heal();
    }
    c.heal();
    c.set_network({});
    ASSERT_GT(one(c, "final", 5, 30000), 0u);
  });
}

TEST(PersistenceScenario, UnreliableAgreement) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 5));
    c.set_network(unreliable());
    std::vector<uint64_t> ids;
    for (int iter = 1; iter < 50; ++iter) {
      for (int j = 0; j < 4; ++j) ids.push_back(c.propose(std::to_string(100 * iter + j)));
      ASSERT_GT(one(c, std::to_string(iter), 1, 20000), 0u);
    }
    c.set_network({});
    ASSERT_TRUE(wait_done(c, ids, 20000));
    ASSERT_GT(one(c, "100", 5, 20000), 0u);
  });
}

namespace {

// 6.5840's churn: clients keep proposing while nodes are disconnected, reconnected, crashed
// and restarted at random. Every command a client saw committed must be in the final log.
void churn(uint64_t seed, bool unreliable_network) {
  Cluster c(cluster_options(seed, 5));
  Rng rng(seed);
  if (unreliable_network) c.set_network(unreliable());
  std::vector<uint64_t> ids;
  std::set<int> disconnected;
  for (int round = 0; round < 20; ++round) {
    for (int k = 0; k < 3; ++k) ids.push_back(c.propose("churn-" + std::to_string(ids.size())));
    int n = static_cast<int>(rng.uniform(0, 4));
    if (rng.chance(0.2)) {
      c.isolate(n);
      disconnected.insert(n);
    }
    if (rng.chance(0.5)) {
      int m = static_cast<int>(rng.uniform(0, 4));
      c.restart(m);
      if (disconnected.erase(m)) {
        c.heal();
        for (int d : disconnected) c.isolate(d);
      }
    }
    if (rng.chance(0.2)) c.crash(static_cast<int>(rng.uniform(0, 4)));
    c.run_ms(0.7 * 1000);
  }
  c.heal();
  c.set_network({});
  restart_all(c);
  ASSERT_GT(one(c, "end", 5, 30000), 0u);
  std::set<std::string> in_log;
  int l = *c.leader();
  for (const auto& cmd : commands_in_log(c, l)) in_log.insert(cmd);
  int ok = 0;
  for (uint64_t id : ids) {
    if (c.op(id).outcome != Outcome::kOk) continue;
    ok++;
    EXPECT_TRUE(in_log.count(c.op(id).input))
        << "op " << id << " (" << c.op(id).input << ") was acknowledged but is not in the log";
  }
  EXPECT_GT(ok, 0) << "some commands must get through the churn";
}

}  // namespace

TEST(PersistenceScenario, ReliableChurn) {
  testing::for_each_seed(3, [](uint64_t seed) { churn(seed, false); });
}

TEST(PersistenceScenario, UnreliableChurn) {
  testing::for_each_seed(3, [](uint64_t seed) { churn(seed, true); });
}

// Random fault schedules over many seeds, every invariant checked at every event.
// (Short here; `make bench` runs it long: ETCDLAB_SOAK_SEEDS=1000.)
TEST(PersistenceScenario, RandomizedSoak) {
  size_t seeds = 8;
  if (const char* n = std::getenv("ETCDLAB_SOAK_SEEDS")) seeds = std::strtoul(n, nullptr, 10);
  testing::for_each_seed(seeds, [](uint64_t seed) {
    Rng rng(seed);
    Cluster c(cluster_options(seed, 5));
    for (int step = 0; step < 40; ++step) {
      int n = static_cast<int>(rng.uniform(0, 4));
      switch (rng.uniform(0, 9)) {
        case 0:
          c.crash(n, static_cast<CrashMode>(rng.uniform(0, 2)));
          break;
        case 1:
        case 2:
          c.restart(n);
          break;
        case 3:
          c.isolate(n);
          break;
        case 4:
          c.partition({{n, (n + 1) % 5}, {(n + 2) % 5, (n + 3) % 5, (n + 4) % 5}});
          break;
        case 5:
          c.heal();
          break;
        case 6:
          c.set_network(unreliable());
          break;
        case 7:
          c.set_network({});
          break;
        default:
          break;
      }
      for (int k = 0; k < 3; ++k) c.propose("s" + std::to_string(step) + "-" + std::to_string(k));
      c.run_ms(static_cast<double>(rng.uniform(50, 800)));
    }
    c.heal();
    c.set_network({});
    restart_all(c);
    ASSERT_GT(one(c, "converged", 5, 30000), 0u);
    c.check_invariants();
  });
}

TEST(PersistenceScenario, SameSeedSameTrace) {
  auto run = [](uint64_t seed) {
    Cluster c(cluster_options(seed, 5));
    c.set_network(unreliable());
    for (int i = 0; i < 20; ++i) c.propose("d" + std::to_string(i));
    c.run_ms(3000);
    c.crash(0);
    c.isolate(1);
    c.run_ms(3000);
    c.restart(0);
    c.heal();
    c.run_ms(3000);
    return c.trace_hash();
  };
  testing::for_each_seed(2, [&](uint64_t seed) {
    EXPECT_EQ(run(seed), run(seed))
        << "one seed, one run: the simulator and Raft are deterministic";
    EXPECT_NE(run(seed), run(seed + 1)) << "and the seed matters";
  });
}

}  // namespace etcdlab::lab2
