// Lab 2, part F: the one-change-at-a-time rule holds back configuration changes only. Ordinary
// proposals go on while a change is pending, and an ordinary entry never holds back a change.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {

TEST(MembershipRules, OrdinaryProposalsAreTakenWhileAChangeIsPending) {
  Script s({1, 2, 3});
  s.elect(1);
  s.isolate(2);
  s.isolate(3);  // the change cannot commit: it stays pending
  s.change(1, ConfChange::Type::kAddLearner, 4);
  EXPECT_NO_THROW(s.propose(1, "x"))
      << "only a second configuration change must wait; a command is not one" << s.trail();
  EXPECT_EQ(s.status(1).last_index, 3u) << "the change at 2, the command at 3" << s.trail();
}

TEST(MembershipRules, AnUnappliedCommandDoesNotHoldBackAChange) {
  Script s({1, 2, 3});
  s.elect(1);
  s.add_node(4);
  s.add_node(5);
  s.isolate(2);
  s.isolate(3);  // nothing commits from here on
  s.propose(1, "x");
  s.propose(1, "y");
  EXPECT_NO_THROW(s.change(1, ConfChange::Type::kAddLearner, 4))
      << "unapplied commands are no reason to refuse a change: only an unapplied change is"
      << s.trail();
  EXPECT_THROW(s.change(1, ConfChange::Type::kAddLearner, 5), ProposalDropped)
      << "while a second change is refused until the first is applied" << s.trail();
  s.heal();
  s.tick(1);
  s.stabilize();
  EXPECT_NO_THROW(s.change(1, ConfChange::Type::kAddLearner, 5))
      << "once the first change is applied the next may go" << s.trail();
}

TEST(MembershipRules, AnAppliedConfigurationComesBackSorted) {
  MemoryStorage storage;
  RaftConfig c;
  c.id = 5;
  c.voters = {5, 3, 4};  // in any order
  c.storage = &storage;
  Raft r(c);
  EXPECT_EQ(r.status().conf.voters, (std::vector<NodeId>{3, 4, 5}));
  ConfState after = r.apply_conf_change(ConfChange{ConfChange::Type::kAddVoter, 1, ""});
  EXPECT_EQ(after.voters, (std::vector<NodeId>{1, 3, 4, 5}))
      << "ConfState's invariant: both lists sorted, whatever order the members joined in";
  after = r.apply_conf_change(ConfChange{ConfChange::Type::kAddLearner, 7, ""});
  after = r.apply_conf_change(ConfChange{ConfChange::Type::kAddLearner, 2, ""});
  EXPECT_EQ(after.learners, (std::vector<NodeId>{2, 7})) << "learners too";
  EXPECT_EQ(after.voters, (std::vector<NodeId>{1, 3, 4, 5}));
  EXPECT_EQ(r.status().conf, after) << "status() reports the configuration applied";
}

TEST(MembershipRules, AChangeThatChangesNothingLeavesTheConfigurationAsItWas) {
  MemoryStorage storage;
  RaftConfig c;
  c.id = 1;
  c.voters = {1, 2, 3};
  c.learners = {4};
  c.storage = &storage;
  Raft r(c);
  ConfState before = r.status().conf;
  EXPECT_EQ(r.apply_conf_change(ConfChange{ConfChange::Type::kAddVoter, 2, ""}), before)
      << "node 2 is a voter already: no second copy";
  EXPECT_EQ(r.apply_conf_change(ConfChange{ConfChange::Type::kAddLearner, 4, ""}), before)
      << "node 4 is a learner already";
  EXPECT_EQ(r.apply_conf_change(ConfChange{ConfChange::Type::kAddLearner, 3, ""}), before)
      << "adding a voter as a learner does not demote it, nor list it twice";
}

TEST(MembershipRules, PromotingOrRemovingALearnerTakesItOffTheLearners) {
  MemoryStorage storage;
  RaftConfig c;
  c.id = 1;
  c.voters = {1, 2, 3};
  c.learners = {4, 5};
  c.storage = &storage;
  Raft r(c);
  ConfState after = r.apply_conf_change(ConfChange{ConfChange::Type::kAddVoter, 4, ""});
  EXPECT_EQ(after.voters, (std::vector<NodeId>{1, 2, 3, 4})) << "kAddVoter promotes a learner";
  EXPECT_EQ(after.learners, std::vector<NodeId>{5}) << "which is then no longer a learner";
  after = r.apply_conf_change(ConfChange{ConfChange::Type::kRemoveNode, 5, ""});
  EXPECT_TRUE(after.learners.empty()) << "a removed learner is gone";
  EXPECT_EQ(after.voters, (std::vector<NodeId>{1, 2, 3, 4}));
}

TEST(MembershipRules, AChangeThatKeepsTheTransferTargetDoesNotAbortTheTransfer) {
  Script s({1, 2, 3});
  s.elect(1);
  s.add_node(4);
  // Everything but what involves node 2 is delivered.
  auto deliver_without_2 = [&] {
    for (int round = 0; round < 20; ++round) {
      auto batch = s.take();
      if (batch.empty()) break;
      for (const auto& m : batch) {
        if (m.to != 2 && m.from != 2) s.step(m);
      }
    }
  };
  s.cut(1, 3);
  s.change(1, ConfChange::Type::kAddLearner, 4);  // cannot commit yet
  s.transfer_leader(1, 2);  // node 2 lacks the change: the leader first catches it up
  ASSERT_EQ(s.status(1).lead_transferee, 2u) << s.trail();
  s.heal();
  deliver_without_2();  // node 3 takes the change, which commits and is applied
  ASSERT_EQ(s.status(1).conf.learners, std::vector<NodeId>{4}) << s.trail();
  EXPECT_EQ(s.status(1).lead_transferee, 2u)
      << "node 2 is still a voter: the change does not concern the transfer" << s.trail();
  s.tick(1);  // a heartbeat: node 2 answers, is caught up, and is told to campaign
  s.stabilize();
  EXPECT_EQ(s.role(2), Role::kLeader) << "once caught up, node 2 takes over" << s.trail();
}

}  // namespace etcdlab::lab2
