// Lab 2, part E: a leader transfer to a lagging follower sends TimeoutNow only once the target
// holds the leader's whole log; an acknowledgement of part of it is not enough.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {

TEST(LeaderTransferRules, TimeoutNowWaitsUntilTheTargetHasTheWholeLog) {
  Script::Options o;
  o.max_append_bytes = 1;  // one entry per append: catching up takes several
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.isolate(3);
  for (int i = 0; i < 5; ++i) s.propose(1, "p" + std::to_string(i));  // entries 2..6
  s.stabilize();
  s.heal();
  s.raft(1).report_unreachable(3);  // probe node 3 from its match, 1
  s.transfer_leader(1, 3);
  auto first = s.take([](const Message& m) { return m.to == 3; });
  ASSERT_EQ(first.size(), 1u) << "one probe carrying entry 2" << s.trail();
  ASSERT_EQ(first[0].type, MessageType::kAppend) << s.trail();
  s.step(first[0]);
  for (const auto& m : s.take([](const Message& m) { return m.from == 3; })) s.step(m);
  ASSERT_EQ(s.status(1).progress.at(3).match, 2u) << s.trail();
  for (const auto& m : s.in_flight()) {
    EXPECT_NE(m.type, MessageType::kTimeoutNow)
        << "node 3 holds 2 of the leader's 6 entries: told to campaign now it would lose (node 2 "
           "holds entries it lacks and votes no) and the transfer would fail"
        << s.trail();
  }
  s.stabilize();
  EXPECT_EQ(s.role(3), Role::kLeader) << "once caught up, node 3 takes over" << s.trail();
}

TEST(LeaderTransferRules, ATransferHasOneElectionTimeoutFromWhenItWasAsked) {
  Script s({1, 2, 3});  // election_ticks 10
  s.elect(1);
  s.isolate(3);
  s.propose(1, "x");  // node 3 lags: the transfer has to wait for it
  s.stabilize();
  s.tick(1, 7);
  s.transfer_leader(1, 3);
  s.tick(1, 5);
  EXPECT_EQ(s.status(1).lead_transferee, 3u)
      << "5 ticks after it was asked the transfer is still under way: its election timeout "
         "counts from the request, not from the leader's last timeout"
      << s.trail();
  s.transfer_leader(1, 3);  // asked again while under way: changes nothing
  s.tick(1, 5);
  EXPECT_EQ(s.status(1).lead_transferee, kNoNode)
      << "10 ticks after the first request the transfer is given up; asking again for the same "
         "target does not restart its clock"
      << s.trail();
  EXPECT_EQ(s.role(1), Role::kLeader) << s.trail();
}

TEST(LeaderTransferRules, TransferToANonMemberIsIgnored) {
  Script s({1, 2, 3});
  s.elect(1);
  EXPECT_NO_THROW(s.transfer_leader(1, 9)) << "node 9 is not in the cluster" << s.trail();
  EXPECT_EQ(s.status(1).lead_transferee, kNoNode) << "no transfer starts" << s.trail();
  EXPECT_NO_THROW(s.propose(1, "x")) << "so proposals are not refused" << s.trail();
  s.stabilize();
  EXPECT_EQ(s.role(1), Role::kLeader) << s.trail();
}

TEST(LeaderTransferRules, TransferToALearnerIsIgnored) {
  Script s({1, 2, 3});
  s.elect(1);
  s.add_node(4);
  s.change(1, ConfChange::Type::kAddLearner, 4);
  s.stabilize();
  ASSERT_EQ(s.status(1).conf.learners, std::vector<NodeId>{4}) << s.trail();
  s.transfer_leader(1, 4);
  EXPECT_EQ(s.status(1).lead_transferee, kNoNode)
      << "a learner cannot be elected: no transfer to it starts" << s.trail();
  EXPECT_NO_THROW(s.propose(1, "x")) << "so proposals are not refused" << s.trail();
  s.stabilize();
  EXPECT_EQ(s.role(1), Role::kLeader) << s.trail();
}

TEST(LeaderTransferRules, TransferToTheLeaderItselfIsIgnored) {
  Script s({1, 2, 3});
  s.elect(1);
  s.transfer_leader(1, 1);
  EXPECT_EQ(s.status(1).lead_transferee, kNoNode) << "node 1 already leads" << s.trail();
  EXPECT_NO_THROW(s.propose(1, "x")) << "proposals go on" << s.trail();
  s.stabilize();
  EXPECT_EQ(s.role(1), Role::kLeader) << s.trail();
}

}  // namespace etcdlab::lab2
