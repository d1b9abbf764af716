// Lab 2, parts A, E and F: a learner receives the log but has no voice. Its answers do not
// confirm a leader's leadership (for a read or a quorum check), and leadership is never handed
// to it.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {
namespace {

// Leader 1 of voters {1, 2, 3} with learner 4, everything replicated.
void cluster_with_learner(Script& s) {
  s.elect(1);
  s.add_node(4);
  s.change(1, ConfChange::Type::kAddLearner, 4);
  s.stabilize();
  ASSERT_EQ(s.status(1).conf.learners, std::vector<NodeId>{4}) << s.trail();
}

}  // namespace

TEST(ReadIndexRules, ALearnersHeartbeatAnswerDoesNotConfirmLeadership) {
  Script s({1, 2, 3});
  cluster_with_learner(s);
  s.isolate(2);
  s.isolate(3);
  s.read_index(1, "r");
  s.stabilize();
  EXPECT_TRUE(s.read_states(1).empty())
      << "only learner 4 answered the read's heartbeats: the leader and a learner are not a "
         "quorum of voters {1, 2, 3}, so a newer leader may exist"
      << s.trail();
  s.heal();
  s.tick(1);
  s.stabilize();
  EXPECT_EQ(s.read_states(1).size(), 1u)
      << "voters 2 and 3 answer: the read is served" << s.trail();
}

TEST(ElectionRules, CheckQuorumDoesNotCountALearner) {
  Script::Options o;
  o.check_quorum = true;
  Script s({1, 2, 3}, o);
  cluster_with_learner(s);
  s.isolate(2);
  s.isolate(3);
  for (int i = 0; i < 20; ++i) {
    s.tick(1);
    s.stabilize();  // learner 4 answers every heartbeat
  }
  EXPECT_EQ(s.role(1), Role::kFollower)
      << "for two election timeouts only learner 4 answered: a learner is not a voter, and the "
         "leader (1 of 3 voters) steps down"
      << s.trail();
}

TEST(LeaderTransferRules, ATransferToALearnerIsIgnored) {
  Script s({1, 2, 3});
  cluster_with_learner(s);
  s.transfer_leader(1, 4);
  EXPECT_EQ(s.status(1).lead_transferee, kNoNode)
      << "a learner cannot be elected: leadership is only handed to a voter" << s.trail();
  s.stabilize();
  EXPECT_EQ(s.role(1), Role::kLeader) << s.trail();
  EXPECT_NE(s.role(4), Role::kLeader) << s.trail();
  s.propose(1, "still served");
  s.stabilize();
  EXPECT_EQ(data_of(s.applied(2)), std::vector<std::string>{"still served"}) << s.trail();
}

}  // namespace etcdlab::lab2
