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

}  // namespace etcdlab::lab2
