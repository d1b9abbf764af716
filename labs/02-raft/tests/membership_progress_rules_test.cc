// Lab 2, part F: how the leader starts tracking a member it adds, and what a learner's voice is
// worth in an election.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {

TEST(MembershipRules, ANewMemberIsProbedFromTheLeadersLastIndexPlusOne) {
  Script s({1, 2, 3});
  s.elect(1);
  s.isolate(3);  // node 3 falls behind: the leader probes it at next 2
  s.raft(1).report_unreachable(3);
  s.propose(1, "a");
  s.propose(1, "b");
  s.stabilize();
  ASSERT_EQ(s.status(1).progress.at(3).next, 2u) << s.trail();
  s.isolate(4);  // never started: what the leader sends it is lost
  s.change(1, ConfChange::Type::kAddVoter, 4);
  s.stabilize();
  RaftStatus st = s.status(1);
  ASSERT_EQ(st.progress.count(4), 1u) << "the change is applied: node 4 is tracked" << s.trail();
  EXPECT_EQ(st.progress.at(4).match, 0u) << s.trail();
  EXPECT_EQ(st.progress.at(4).next, st.last_index + 1)
      << "a new member is probed from the leader's last index + 1, as every follower is after "
         "an election; backtracking finds where its log ends"
      << s.trail();
  EXPECT_EQ(st.progress.at(2).match, st.last_index)
      << "members that stay keep their progress across the change" << s.trail();
  EXPECT_EQ(st.progress.at(3).next, 2u)
      << "node 3 is still probed where it was, not from the leader's last index" << s.trail();
}

TEST(MembershipRules, ANewMemberGetsAnElectionTimeoutOfGraceBeforeQuorumChecks) {
  Script::Options o;
  o.check_quorum = true;
  Script s({1}, o);
  s.campaign(1);
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  s.isolate(2);  // node 2 is added but never answers
  s.change(1, ConfChange::Type::kAddVoter, 2);
  ASSERT_EQ(s.status(1).conf.voters, (std::vector<NodeId>{1, 2})) << s.trail();
  s.tick(1, 10);  // the first quorum check since the change
  EXPECT_EQ(s.role(1), Role::kLeader)
      << "node 2 was added less than an election timeout ago: it counts as active at this "
         "check, or adding a member to a one-node cluster would depose its leader at once"
      << s.trail();
  s.tick(1, 10);
  EXPECT_EQ(s.role(1), Role::kFollower)
      << "a whole election timeout later node 2 has not answered: 1 of 2 voters is no quorum"
      << s.trail();
}

TEST(ElectionRules, AVoteFromALearnerIsNotCounted) {
  Script s({1, 2, 3});
  s.elect(1);
  s.add_node(4);
  s.change(1, ConfChange::Type::kAddLearner, 4);
  s.stabilize();
  ASSERT_EQ(s.status(2).conf.learners, std::vector<NodeId>{4}) << s.trail();
  s.campaign(2);
  s.take();  // its vote requests are lost
  Message v;
  v.type = MessageType::kVoteResponse;
  v.from = 4;
  v.to = 2;
  v.term = s.term(2);
  s.step(v);
  EXPECT_EQ(s.role(2), Role::kCandidate)
      << "node 4 is a learner: its vote does not count, so node 2 has 1 of 3 voters" << s.trail();
  v.from = 3;
  s.step(v);
  EXPECT_EQ(s.role(2), Role::kLeader) << "with node 3's vote it has 2 of 3" << s.trail();
}

}  // namespace etcdlab::lab2
