// Lab 2, part A: elections in whole simulated clusters, under failures (the 6.5840 3A tests,
// plus pre-vote and check-quorum). Every Raft invariant is checked after every event.
#include <gtest/gtest.h>

#include "sim_scenario.h"

namespace etcdlab::lab2 {

TEST(ElectionScenario, InitialElection) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 3));
    auto leader = wait_leader(c, 5000);
    ASSERT_TRUE(leader) << "three connected nodes elect a leader within 5 s";
    uint64_t term = c.node(*leader).term;
    EXPECT_GE(term, 1u);
    c.run_ms(2 * 2000);
    EXPECT_EQ(c.node(*leader).term, term)
        << "with no failures the term stays put: no needless elections";
    EXPECT_EQ(c.leader(), leader);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(c.node(i).term, term) << "all agree on the term";
  });
}

TEST(ElectionScenario, ReElection) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 3));
    auto first = wait_leader(c);
    ASSERT_TRUE(first);
    c.isolate(*first);
    c.run_until(
        [&] {
          auto l = c.leader();
          return l && *l != *first && c.node(*l).term > c.node(*first).term;
        },
        5000);
    auto second = c.leader();
    ASSERT_TRUE(second && *second != *first) << "losing the leader elects a new one";
    c.heal();
    c.run_ms(2000);
    EXPECT_TRUE(c.leader()) << "the old leader rejoins without leaving the cluster leaderless";
    // Two of three gone: no leader may exist among the rest.
    auto l = *c.leader();
    c.isolate(l);
    c.isolate((l + 1) % 3);
    c.run_ms(3000);
    EXPECT_TRUE(stays_leaderless(c, {(l + 2) % 3}, 3000))
        << "a lone node of three never becomes leader";
    c.heal();
    EXPECT_TRUE(wait_leader(c)) << "with a quorum back, a leader again";
  });
}

TEST(ElectionScenario, NoLeaderWithoutQuorum) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 5));
    ASSERT_TRUE(wait_leader(c));
    c.partition({{0, 1}, {2}, {3}, {4}});
    c.run_ms(4000);
    EXPECT_TRUE(stays_leaderless(c, {0, 1, 2, 3, 4}, 5000))
        << "no group of fewer than 3 of 5 can elect a leader";
  });
}

TEST(ElectionScenario, ManyElectionsUnderRandomDisconnects) {
  testing::for_each_seed(2, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 7));
    ASSERT_TRUE(wait_leader(c));
    Rng rng(seed);
    for (int round = 0; round < 10; ++round) {
      std::set<int> gone;
      while (gone.size() < 3) gone.insert(static_cast<int>(rng.uniform(0, 6)));
      for (int i : gone) c.isolate(i);
      auto l = wait_leader(c, 10000);
      ASSERT_TRUE(l) << "round " << round << ": 4 of 7 connected must elect a leader";
      c.heal();
    }
    ASSERT_TRUE(wait_leader(c));
  });
}

TEST(ElectionScenario, RejoiningNodeDoesNotDisruptAHealthyLeader) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 3));
    auto l = wait_leader(c);
    ASSERT_TRUE(l);
    int other = (*l + 1) % 3;
    uint64_t term = c.node(*l).term;
    c.isolate(other);
    c.run_ms(10000);  // it times out again and again, alone
    c.heal();
    c.run_ms(3000);
    EXPECT_EQ(c.leader(), l) << "with pre-vote the rejoining node cannot depose the leader";
    EXPECT_EQ(c.node(*l).term, term) << "nor raise the cluster's term";
  });
}

TEST(ElectionScenario, IsolatedLeaderStepsDown) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 3));
    auto l = wait_leader(c);
    ASSERT_TRUE(l);
    c.isolate(*l);
    bool stepped_down = c.run_until([&] { return c.node(*l).role != Role::kLeader; }, 3 * 2000);
    EXPECT_TRUE(stepped_down)
        << "check-quorum: a leader that hears from no quorum for an election timeout steps down "
           "(clients then stop waiting on it)";
  });
}

}  // namespace etcdlab::lab2
