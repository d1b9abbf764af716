// Lab 2, part E: read rounds. A round ends when a quorum answers; a new one starts only for
// reads that wait for it. A single voter needs no round at all.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {

TEST(ReadIndexRules, AnsweredReadsLeaveNoRoundBehind) {
  Script s({1, 2, 3});
  s.elect(1);
  s.read_index(1, "r1");
  s.stabilize(1000);
  ASSERT_EQ(s.read_states(1).size(), 1u) << s.trail();
  EXPECT_TRUE(s.in_flight().empty())
      << "the round that answered r1 is over and no read is waiting: no further heartbeat "
         "round goes out until a read asks for one"
      << s.trail();
  s.read_index(1, "r2");
  s.stabilize(1000);
  ASSERT_EQ(s.read_states(1).size(), 2u) << "a later read gets its own round" << s.trail();
  EXPECT_TRUE(s.in_flight().empty()) << s.trail();
}

TEST(ReadIndexRules, ALoneVoterAnswersAReadAtOnce) {
  MemoryStorage storage;
  RaftConfig c;
  c.id = 1;
  c.voters = {1};
  c.storage = &storage;
  Raft raft(c);
  raft.campaign();
  ASSERT_EQ(raft.status().soft_state.role, Role::kLeader);
  // Before the driver has persisted anything, the new leader's empty entry is not committed.
  raft.read_index("r");
  ASSERT_TRUE(raft.has_ready());
  Ready rd = raft.ready();
  EXPECT_EQ(rd.read_states, (std::vector<ReadState>{{0, "r"}}))
      << "a single voter is its own quorum, and no other node can have committed anything: it "
         "answers at once, at its commit index";
}

TEST(ReadIndexRules, ReadsQueuedWhenTheClusterShrinksToOneVoterAreAnsweredAtOnce) {
  Script s({1, 2});
  s.elect(1);
  s.add_node(3);
  s.change(1, ConfChange::Type::kAddLearner, 3);
  s.stabilize();
  s.read_index(1, "r1");  // a round: heartbeats to 2 and 3, held on the way
  auto heartbeats = s.take([](const Message& m) { return m.type == MessageType::kHeartbeat; });
  ASSERT_EQ(heartbeats.size(), 2u) << s.trail();
  s.read_index(1, "r2");  // arrives during the round: waits for the next one
  s.change(1, ConfChange::Type::kRemoveNode, 2);
  s.stabilize();  // the removal commits (node 2 acknowledges it) and node 1 applies it
  ASSERT_EQ(s.status(1).conf.voters, std::vector<NodeId>{1}) << s.trail();
  ASSERT_TRUE(s.read_states(1).empty()) << s.trail();
  for (const auto& hb : heartbeats) {
    if (hb.to == 3) s.step(hb);
  }
  for (const auto& m : s.take([](const Message& m) { return m.from == 3; })) s.step(m);
  std::vector<std::string> answered;
  for (const auto& r : s.read_states(1)) answered.push_back(r.context);
  EXPECT_EQ(answered, (std::vector<std::string>{"r1", "r2"}))
      << "with node 1 the only voter, the first round is complete, and the round r2 waits for "
         "needs no one's answer: it is answered at once, not after another heartbeat round"
      << s.trail();
}

}  // namespace etcdlab::lab2
