// Lab 2, part E: a read asked of a follower goes to its leader and comes back to the follower
// with the context the client gave it, which is how the client's read is found again.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {

TEST(ReadIndexRules, AReadOnAFollowerGoesToTheLeaderAndComesBackWithItsContext) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "x");
  s.stabilize();
  s.read_index(2, "client-7");
  auto sent = s.take();
  ASSERT_EQ(sent.size(), 1u) << s.trail();
  EXPECT_EQ(sent[0].type, MessageType::kReadIndex) << s.trail();
  EXPECT_EQ(sent[0].from, 2u) << s.trail();
  EXPECT_EQ(sent[0].to, 1u) << "the follower sends the read to its leader, node 1" << s.trail();
  EXPECT_EQ(sent[0].context, "client-7") << s.trail();
  s.step(sent[0]);
  s.stabilize();
  ASSERT_EQ(s.read_states(2).size(), 1u) << s.trail();
  EXPECT_EQ(s.read_states(2)[0], (ReadState{2, "client-7"}))
      << "the answer carries the leader's commit index and the read's own context" << s.trail();
  EXPECT_TRUE(s.read_states(1).empty()) << "the read was node 2's, not node 1's" << s.trail();
}

TEST(ReadIndexRules, AReadWithoutAKnownLeaderIsRefused) {
  Script s({1, 2, 3});
  EXPECT_THROW(s.read_index(2, "r"), ProposalDropped)
      << "no leader is known: the read cannot be served here, and the client retries" << s.trail();
  EXPECT_TRUE(s.in_flight().empty()) << "nothing is sent" << s.trail();
}

}  // namespace etcdlab::lab2
