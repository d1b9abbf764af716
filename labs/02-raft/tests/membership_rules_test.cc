// Lab 2, part F: membership changes, one server at a time (thesis §4), on a scripted network.
#include <gtest/gtest.h>

#include <algorithm>

#include "raft_script.h"

namespace etcdlab::lab2 {
namespace {

bool has(const std::vector<NodeId>& v, NodeId id) {
  return std::find(v.begin(), v.end(), id) != v.end();
}

}  // namespace

TEST(MembershipRules, AddedVoterJoinsOnceTheChangeIsApplied) {
  Script s({1, 2, 3});
  s.elect(1);
  s.add_node(4);
  s.change(1, ConfChange::Type::kAddVoter, 4);
  s.stabilize();
  EXPECT_TRUE(has(s.status(1).conf.voters, 4)) << s.trail();
  s.propose(1, "after-join");
  s.stabilize();
  EXPECT_EQ(data_of(s.applied(4)), std::vector<std::string>{"after-join"})
      << "the new node receives the whole log" << s.trail();
  EXPECT_TRUE(has(s.status(4).conf.voters, 4)) << "and learns the configuration from it";
}

TEST(MembershipRules, OnlyOneChangeAtATime) {
  Script s({1, 2, 3});
  s.elect(1);
  s.add_node(4);
  s.add_node(5);
  s.isolate(2);
  s.isolate(3);  // the first change cannot commit
  s.change(1, ConfChange::Type::kAddVoter, 4);
  EXPECT_THROW(s.change(1, ConfChange::Type::kAddVoter, 5), ProposalDropped)
      << "a second change while one is unapplied could let two disjoint majorities decide"
      << s.trail();
}

TEST(MembershipRules, NoChangeBeforeTheLeaderCommitsAnEntryOfItsTerm) {
  Script s({1, 2, 3});
  s.campaign(1);
  for (const auto& m : s.take()) s.step(m);
  for (const auto& m : s.take()) s.step(m);
  s.take([](const Message& m) { return m.type == MessageType::kAppend; });
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  s.add_node(4);
  EXPECT_THROW(s.change(1, ConfChange::Type::kAddVoter, 4), ProposalDropped)
      << "Ongaro's fix: a new leader first commits an entry of its term" << s.trail();
}

TEST(MembershipRules, RemovedLeaderStepsDown) {
  Script s({1, 2, 3});
  s.elect(1);
  s.change(1, ConfChange::Type::kRemoveNode, 1);
  s.stabilize();
  EXPECT_NE(s.role(1), Role::kLeader)
      << "a leader removed from the configuration steps down" << s.trail();
  for (int i = 0; i < 6 * 10 && s.role(2) != Role::kLeader && s.role(3) != Role::kLeader; ++i) {
    s.tick(2);
    s.tick(3);
    s.stabilize();
  }
  EXPECT_TRUE(s.role(2) == Role::kLeader || s.role(3) == Role::kLeader)
      << "and the others elect a leader among themselves" << s.trail();
  s.tick(1, 5 * 10);
  s.stabilize();
  EXPECT_NE(s.role(1), Role::kCandidate) << "a removed node never campaigns" << s.trail();
}

TEST(MembershipRules, RemovedFollowerNoLongerCounts) {
  Script s({1, 2, 3});
  s.elect(1);
  s.change(1, ConfChange::Type::kRemoveNode, 3);
  s.stabilize();
  s.isolate(3);
  s.propose(1, "two-of-two");
  s.stabilize();
  EXPECT_EQ(data_of(s.applied(1)), std::vector<std::string>{"two-of-two"})
      << "with 3 removed, {1, 2} is the whole cluster" << s.trail();
}

TEST(MembershipRules, LearnerDoesNotCountTowardQuorum) {
  Script s({1, 2, 3});
  s.elect(1);
  s.add_node(4);
  s.change(1, ConfChange::Type::kAddLearner, 4);
  s.stabilize();
  ASSERT_TRUE(has(s.status(1).conf.learners, 4)) << s.trail();
  s.isolate(2);
  s.isolate(3);
  s.propose(1, "needs-a-voter");
  s.stabilize();
  EXPECT_TRUE(data_of(s.applied(1)).empty())
      << "the leader and a learner are not a majority of the voters {1, 2, 3}" << s.trail();
  EXPECT_EQ(s.status(4).last_index, s.status(1).last_index)
      << "but the learner does receive the log" << s.trail();
}

TEST(MembershipRules, LearnerNeverCampaignsAndIsNotAskedToVote) {
  Script s({1, 2, 3});
  s.elect(1);
  s.add_node(4);
  s.change(1, ConfChange::Type::kAddLearner, 4);
  s.stabilize();
  s.isolate(4);
  s.tick(4, 5 * 10);
  EXPECT_EQ(s.role(4), Role::kFollower) << "a learner does not campaign" << s.trail();
  s.heal();
  s.isolate(1);
  bool learner_asked = false;
  s.on_ready([&](NodeId id, const Ready& rd, const LogStorage&) {
    for (const auto& m : rd.messages) {
      bool request = m.type == MessageType::kVote || m.type == MessageType::kPreVote;
      learner_asked |= id != 4 && request && m.to == 4;
    }
  });
  s.tick(2, 2 * 10);
  s.stabilize();
  EXPECT_FALSE(learner_asked) << "a candidate asks only the voters of its configuration"
                              << s.trail();
}

// etcd's campaign_learner_must_vote: a promotion can commit on the old voters without reaching
// the learner. If the leader then fails, the survivors need the learner's vote, and it still
// believes it is a learner: it must grant the vote it is asked for, or no one is ever elected.
TEST(MembershipRules, ALearnerAskedToVoteGrantsIt) {
  Script s({1, 2, 3});
  s.elect(1);
  s.add_node(4);
  s.change(1, ConfChange::Type::kAddLearner, 4);
  s.stabilize();
  s.isolate(4);
  s.change(1, ConfChange::Type::kAddVoter, 4);
  s.stabilize();
  ASSERT_TRUE(has(s.status(2).conf.voters, 4)) << "2 applied the promotion" << s.trail();
  ASSERT_TRUE(has(s.status(4).conf.learners, 4)) << "4 never heard of it" << s.trail();
  s.heal();
  s.isolate(1);  // the leader fails: {2, 3, 4} is the only majority of {1, 2, 3, 4} left
  bool learner_granted = false;
  s.on_ready([&](NodeId id, const Ready& rd, const LogStorage&) {
    for (const auto& m : rd.messages) {
      learner_granted |= id == 4 && m.type == MessageType::kVoteResponse && !m.reject;
    }
  });
  s.campaign(2);
  s.stabilize();
  EXPECT_TRUE(learner_granted) << "node 2 applied a configuration in which 4 is a voter and asked "
                                  "it; 4 must vote although it has not applied its promotion"
                               << s.trail();
  EXPECT_EQ(s.role(2), Role::kLeader)
      << "2 needs three of the four voters: itself, 3 and 4" << s.trail();
  s.propose(2, "after-the-failover");
  s.stabilize();
  EXPECT_TRUE(has(s.status(4).conf.voters, 4))
      << "the new leader's log brings 4 its promotion" << s.trail();
}

TEST(MembershipRules, PromotedLearnerBecomesAVoter) {
  Script s({1, 2, 3});
  s.elect(1);
  s.add_node(4);
  s.change(1, ConfChange::Type::kAddLearner, 4);
  s.stabilize();
  s.change(1, ConfChange::Type::kAddVoter, 4);
  s.stabilize();
  auto conf = s.status(1).conf;
  EXPECT_TRUE(has(conf.voters, 4)) << s.trail();
  EXPECT_FALSE(has(conf.learners, 4)) << s.trail();
}

TEST(MembershipRules, ApplyConfChangeReturnsTheNewConfigurationSorted) {
  Script s({3, 1, 2});
  Raft& r = s.raft(1);
  using T = ConfChange::Type;
  EXPECT_EQ(r.apply_conf_change({T::kAddLearner, 5, ""}), (ConfState{{1, 2, 3}, {5}}));
  EXPECT_EQ(r.apply_conf_change({T::kAddLearner, 4, ""}), (ConfState{{1, 2, 3}, {4, 5}}))
      << "both lists sorted (types.h)";
  EXPECT_EQ(r.apply_conf_change({T::kAddVoter, 4, ""}), (ConfState{{1, 2, 3, 4}, {5}}))
      << "promoted: a voter, and no longer a learner";
  EXPECT_EQ(r.apply_conf_change({T::kAddLearner, 2, ""}), (ConfState{{1, 2, 3, 4}, {5}}))
      << "adding a voter as a learner changes nothing";
  EXPECT_EQ(r.apply_conf_change({T::kRemoveNode, 5, ""}), (ConfState{{1, 2, 3, 4}, {}}))
      << "a learner is removed too";
  EXPECT_EQ(r.apply_conf_change({T::kRemoveNode, 3, ""}), (ConfState{{1, 2, 4}, {}}));
  EXPECT_EQ(s.status(1).conf, (ConfState{{1, 2, 4}, {}}));
}

TEST(MembershipRules, ConfigurationChangesWhenAppliedNotBefore) {
  Script s({1, 2, 3});
  s.elect(1);
  s.add_node(4);
  s.isolate(2);
  s.isolate(3);
  s.change(1, ConfChange::Type::kAddVoter, 4);
  EXPECT_FALSE(has(s.status(1).conf.voters, 4))
      << "appended is not applied: the leader still counts with {1, 2, 3}" << s.trail();
  bool early = false;
  s.on_ready([&](NodeId id, const Ready& rd, const LogStorage&) {
    for (const auto& e : rd.committed_entries) {
      // Committed, handed out, not yet applied by the driver.
      early |= id == 1 && e.type == EntryType::kConfChange && has(s.status(1).conf.voters, 4);
    }
  });
  s.heal();
  s.tick(1);
  s.stabilize();
  EXPECT_FALSE(early) << "committed is not applied either: the change takes effect when the "
                         "driver calls apply_conf_change"
                      << s.trail();
  EXPECT_TRUE(has(s.status(1).conf.voters, 4)) << s.trail();
}

TEST(MembershipRules, SuccessiveChangesBuildOnEachOther) {
  Script s({1, 2, 3});
  s.elect(1);
  s.add_node(4);
  s.add_node(5);
  s.change(1, ConfChange::Type::kAddVoter, 4);
  s.stabilize();
  s.change(1, ConfChange::Type::kAddVoter, 5);
  s.stabilize();
  EXPECT_EQ(s.status(1).conf.voters, (std::vector<NodeId>{1, 2, 3, 4, 5}))
      << "each change applies to the current configuration, not to the initial voters" << s.trail();
}

TEST(MembershipRules, RemovedNodeNeverCampaigns) {
  Script s({1, 2, 3});
  s.elect(1);
  s.change(1, ConfChange::Type::kRemoveNode, 3);
  s.stabilize();
  ASSERT_FALSE(has(s.status(3).conf.voters, 3)) << "node 3 applied its own removal" << s.trail();
  s.take();
  s.tick(3, 5 * 10);
  EXPECT_EQ(s.role(3), Role::kFollower) << s.trail();
  EXPECT_TRUE(s.take([](const Message& m) {
                 return m.type == MessageType::kVote || m.type == MessageType::kPreVote;
               }).empty())
      << "a removed node never campaigns: its vote requests would only disturb the cluster"
      << s.trail();
}

TEST(MembershipRules, NoCampaignWhileACommittedChangeIsUnapplied) {
  Script s({1, 2, 3});
  s.elect(1);
  s.add_node(4);
  s.change(1, ConfChange::Type::kAddVoter, 4);
  s.stabilize();
  // Node 2 restarts: its log holds the committed change, which it has not applied again yet.
  s.restart(2);
  s.campaign(2);
  EXPECT_EQ(s.role(2), Role::kFollower)
      << "a node does not campaign while a committed configuration change is unapplied in its "
         "log: it would count votes in a configuration it is about to leave"
      << s.trail();
}

TEST(MembershipRules, NodeThatDoesNotSeeItselfAsAVoterStillVotes) {
  Script s({1, 2, 3});
  s.elect(1);
  s.add_node(4);  // knows {1, 2, 3}; has not applied the change that adds it
  Message vote;
  vote.type = MessageType::kVote;
  vote.from = 2;
  vote.to = 4;
  vote.term = 5;
  vote.index = s.status(2).last_index;
  vote.log_term = 1;
  s.step(vote);
  auto answers = s.take([](const Message& m) { return m.from == 4; });
  ASSERT_EQ(answers.size(), 1u) << s.trail();
  EXPECT_FALSE(answers[0].reject)
      << "node 2 may already count node 4 as a voter (it applied the change): node 4's vote can "
         "be the one a majority needs. A node that is not a voter never campaigns, but it votes"
      << s.trail();
}

}  // namespace etcdlab::lab2
