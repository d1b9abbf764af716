// Lab 2, part F: membership changes in whole simulated clusters, under drops and crashes.
// Nodes 3 and 4 start outside the cluster {0, 1, 2} and join by configuration change.
#include <gtest/gtest.h>

#include "sim_scenario.h"

namespace etcdlab::lab2 {
namespace {

ClusterOptions three_of_five(uint64_t seed) {
  ClusterOptions o = cluster_options(seed, 5);
  o.initial_voters = 3;
  return o;
}

bool is_voter(const Cluster& c, int observer, int node) {
  const auto& v = c.node(observer).conf.voters;
  return std::find(v.begin(), v.end(), static_cast<NodeId>(node + 1)) != v.end();
}

}  // namespace

TEST(MembershipScenario, AddVotersOneAtATime) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(three_of_five(seed));
    ASSERT_GT(one(c, "before", 3), 0u);
    for (int n : {3, 4}) {
      uint64_t op = c.add_voter(n);
      ASSERT_TRUE(wait_done(c, {op}, 10000));
      ASSERT_EQ(c.op(op).outcome, Outcome::kOk) << "adding node " << n;
    }
    ASSERT_GT(one(c, "after", 5), 0u) << "all five apply it";
    for (int i = 0; i < 5; ++i) EXPECT_EQ(c.node(i).conf.voters.size(), 5u) << "node " << i;
  });
}

TEST(MembershipScenario, RemoveTheLeader) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 5));
    auto l = wait_leader(c);
    ASSERT_TRUE(l);
    ASSERT_GT(one(c, "before", 5), 0u);
    uint64_t op = c.remove_node(*l);
    ASSERT_TRUE(wait_done(c, {op}, 10000));
    ASSERT_EQ(c.op(op).outcome, Outcome::kOk);
    c.run_until([&] { return c.leader() && *c.leader() != *l; }, 10000);
    auto l2 = c.leader();
    ASSERT_TRUE(l2 && *l2 != *l) << "the others elect a new leader";
    ASSERT_GT(one(c, "after", 4), 0u);
    EXPECT_FALSE(is_voter(c, *l2, *l));
  });
}

TEST(MembershipScenario, AddRemoveAndPromoteUnderDropsAndCrashes) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(three_of_five(seed));
    Rng rng(seed);
    c.set_network(unreliable());
    std::vector<uint64_t> changes;
    changes.push_back(c.add_learner(3));
    changes.push_back(c.add_voter(3));  // promote
    changes.push_back(c.add_voter(4));
    changes.push_back(c.remove_node(0));
    for (int round = 0; round < 25; ++round) {
      c.propose("m" + std::to_string(round));
      if (rng.chance(0.2)) c.crash(static_cast<int>(rng.uniform(0, 4)));
      if (rng.chance(0.4)) c.restart(static_cast<int>(rng.uniform(0, 4)));
      c.run_ms(static_cast<double>(rng.uniform(100, 600)));
    }
    c.set_network({});
    for (int i = 0; i < 5; ++i) c.restart(i);
    ASSERT_TRUE(wait_done(c, changes, 30000));
    ASSERT_TRUE(wait_leader(c, 20000));
    ASSERT_GT(one(c, "final", 4, 20000), 0u);
    c.check_invariants();
  });
}

}  // namespace etcdlab::lab2
