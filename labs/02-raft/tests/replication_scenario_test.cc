// Lab 2, part B: agreement in whole simulated clusters (the 6.5840 3B tests): entries commit
// with a majority and only then, followers and leaders fail, partitioned leaders rejoin, and
// the messages and bytes it takes stay within budget.
#include <gtest/gtest.h>

#include "sim_scenario.h"

namespace etcdlab::lab2 {

TEST(ReplicationScenario, BasicAgreement) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 3));
    ASSERT_TRUE(wait_leader(c));
    for (int i = 1; i <= 3; ++i) {
      uint64_t index = one(c, "cmd" + std::to_string(i), 3);
      ASSERT_GT(index, 0u) << "command " << i << " was not applied by all three nodes";
    }
  });
}

TEST(ReplicationScenario, FollowerFailure) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 3));
    auto l = wait_leader(c);
    ASSERT_TRUE(l);
    ASSERT_GT(one(c, "a", 3), 0u);
    c.isolate((*l + 1) % 3);
    ASSERT_GT(one(c, "b", 2), 0u) << "the leader and one follower are a majority";
    c.isolate((*l + 2) % 3);
    uint64_t id = c.propose("c");
    c.run_ms(5000);
    EXPECT_NE(c.op(id).outcome, Outcome::kOk) << "nothing commits with only one node of three";
  });
}

TEST(ReplicationScenario, LeaderFailure) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 3));
    auto l1 = wait_leader(c);
    ASSERT_TRUE(l1);
    ASSERT_GT(one(c, "a", 3), 0u);
    c.isolate(*l1);
    ASSERT_GT(one(c, "b", 2), 0u) << "the remaining two elect a leader and go on";
    auto l2 = c.leader();
    ASSERT_TRUE(l2);
    c.isolate(*l2);
    uint64_t id = c.propose("c");
    c.run_ms(5000);
    EXPECT_NE(c.op(id).outcome, Outcome::kOk);
  });
}

TEST(ReplicationScenario, FailedFollowerCatchesUp) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 3));
    auto l = wait_leader(c);
    ASSERT_TRUE(l);
    int f = (*l + 1) % 3;
    c.isolate(f);
    for (int i = 0; i < 20; ++i) ASSERT_GT(one(c, "w" + std::to_string(i), 2), 0u);
    c.heal();
    uint64_t index = one(c, "after", 3);
    EXPECT_GT(index, 0u) << "the reconnected follower catches up on everything it missed";
  });
}

TEST(ReplicationScenario, NoCommitWithoutQuorum) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 5));
    auto l = wait_leader(c);
    ASSERT_TRUE(l);
    ASSERT_GT(one(c, "first", 5), 0u);
    uint64_t commit = c.node(*l).commit;
    c.partition({{*l, (*l + 1) % 5}, {(*l + 2) % 5, (*l + 3) % 5, (*l + 4) % 5}});
    c.propose("minority", *l);
    c.run_ms(900);
    EXPECT_EQ(c.node(*l).commit, commit) << "2 of 5 cannot commit";
    c.heal();
    EXPECT_GT(one(c, "healed", 5), 0u) << "after healing the cluster agrees again";
  });
}

TEST(ReplicationScenario, ConcurrentProposals) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 3));
    ASSERT_TRUE(wait_leader(c));
    std::vector<uint64_t> ids;
    for (int i = 0; i < 50; ++i) ids.push_back(c.propose("p" + std::to_string(i)));
    ASSERT_TRUE(wait_done(c, ids, 10000));
    std::set<uint64_t> indexes;
    for (uint64_t id : ids) {
      EXPECT_EQ(c.op(id).outcome, Outcome::kOk);
      indexes.insert(c.op(id).index);
    }
    EXPECT_EQ(indexes.size(), ids.size()) << "each proposal gets its own index";
  });
}

TEST(ReplicationScenario, PartitionedLeaderRejoinsAndIsOverwritten) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 3));
    auto l1 = wait_leader(c);
    ASSERT_TRUE(l1);
    ASSERT_GT(one(c, "101", 3), 0u);
    uint64_t committed = c.node(*l1).commit;
    uint64_t old_term = c.node(*l1).term;
    c.isolate(*l1);
    for (int i = 0; i < 3; ++i) c.propose("lost" + std::to_string(i), *l1);
    c.run_ms(100);
    // The entries the isolated leader appended in its term and could never commit.
    std::vector<Entry> orphans;
    for (const Entry& e : c.log(*l1)) {
      if (e.index > committed && e.term == old_term) orphans.push_back(e);
    }
    ASSERT_FALSE(orphans.empty()) << "the isolated leader appended the proposals";
    ASSERT_GT(one(c, "103", 2), 0u);
    auto l2 = c.leader();
    ASSERT_TRUE(l2 && *l2 != *l1);
    c.heal();
    c.isolate(*l2);  // the old leader and the third node meet; the new leader is away
    ASSERT_GT(one(c, "104", 2), 0u);
    c.heal();
    ASSERT_GT(one(c, "105", 3), 0u);
    for (int i = 0; i < 3; ++i) {
      for (const Entry& e : c.log(i)) {
        for (const Entry& o : orphans) {
          EXPECT_FALSE(e.index == o.index && e.term == o.term)
              << "node " << i << " still holds entry " << o.index << "/" << o.term
              << " that the isolated old leader never committed: it must be overwritten";
        }
      }
    }
  });
}

// 6.5840's Backup: leaders on both sides of partitions pile up uncommitted entries that the
// other side overwrites; every follower must back up over 50 conflicting entries quickly.
TEST(ReplicationScenario, FastBackupOverFiftyConflictingEntries) {
  testing::for_each_seed(2, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 5));
    auto l = wait_leader(c);
    ASSERT_TRUE(l);
    ASSERT_GT(one(c, "start", 5), 0u);
    int a = *l, b = (a + 1) % 5;
    std::vector<int> rest = {(a + 2) % 5, (a + 3) % 5, (a + 4) % 5};
    c.partition({{a, b}, rest});
    for (int i = 0; i < 50; ++i) c.propose("lost" + std::to_string(i), a);
    c.run_ms(500);
    for (int i = 0; i < 50; ++i) ASSERT_GT(one(c, "kept" + std::to_string(i), 3), 0u);
    // The majority's leader and one follower are cut off with 50 more that never commit;
    // the third meets the first two, and they commit 50 of their own.
    int l2 = *c.leader();
    std::vector<int> others;
    for (int n : rest) {
      if (n != l2) others.push_back(n);
    }
    c.partition({{l2, others[0]}, {a, b, others[1]}});
    for (int i = 0; i < 50; ++i) c.propose("lost2-" + std::to_string(i), l2);
    c.run_ms(500);
    for (int i = 0; i < 50; ++i) ASSERT_GT(one(c, "kept2-" + std::to_string(i), 3), 0u);
    c.heal();
    double start = c.now_ms();
    ASSERT_GT(one(c, "final", 5, 20000), 0u);
    EXPECT_LT(c.now_ms() - start, 10000)
        << "backing up over 50 conflicting entries must take a few round trips, not 50";
  });
}

TEST(ReplicationScenario, MessageBudgets) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 3));
    ASSERT_TRUE(wait_leader(c));
    c.run_ms(50);
    uint64_t to_elect = messages(c);
    EXPECT_LE(to_elect, 30u) << "electing a leader of three takes at most 30 messages";
    uint64_t before = messages(c);
    for (int i = 0; i < 10; ++i) ASSERT_GT(one(c, "m" + std::to_string(i), 3), 0u);
    uint64_t per_ten = messages(c) - before;
    // Each entry: an append to each of 2 followers and their answers, then (as etcd does) an
    // append telling them the new commit index and their answers: 8 messages; plus a few
    // heartbeats while waiting.
    EXPECT_LE(per_ten, 10 * 8 + 24u) << "10 entries took " << per_ten << " messages";
    before = messages(c);
    c.run_ms(1000);
    uint64_t idle = messages(c) - before;
    EXPECT_LE(idle, 60u) << "an idle second costs heartbeats only (took " << idle << ")";
  });
}

TEST(ReplicationScenario, EachEntrySentAboutOncePerFollower) {
  testing::for_each_seed(3, [](uint64_t seed) {
    Cluster c(cluster_options(seed, 3));
    ASSERT_TRUE(wait_leader(c));
    uint64_t before = bytes(c);
    const size_t size = 5000;
    for (int i = 0; i < 10; ++i) {
      ASSERT_GT(one(c, std::string(size, static_cast<char>('a' + i)), 3), 0u);
    }
    uint64_t sent = bytes(c) - before;
    uint64_t payload = 10 * (size + 8);
    EXPECT_LE(sent, 2 * payload + 50000)
        << "10 entries of 5000 bytes to 2 followers should send about 100 KB, not " << sent;
  });
}

}  // namespace etcdlab::lab2
