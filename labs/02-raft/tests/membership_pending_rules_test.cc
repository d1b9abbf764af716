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

}  // namespace etcdlab::lab2
