// Lab 2, part E: read rounds one after another. Once a round has its quorum and its reads are
// answered it is over: the next read starts a round of its own at once, without waiting for a
// periodic heartbeat.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {

TEST(ReadIndexRules, AReadAfterACompletedRoundStartsANewRoundAtOnce) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "w");
  s.stabilize();
  s.read_index(1, "r1");
  s.stabilize();
  ASSERT_EQ(s.read_states(1).size(), 1u) << s.trail();
  s.read_index(1, "r2");
  auto round2 = s.take([](const Message& m) { return m.type == MessageType::kHeartbeat; });
  EXPECT_EQ(round2.size(), 2u)
      << "the first round ended with its answer: the second read sends its own heartbeats now"
      << s.trail();
  for (const auto& hb : round2) s.step(hb);
  s.stabilize();
  ASSERT_EQ(s.read_states(1).size(), 2u) << s.trail();
  EXPECT_EQ(s.read_states(1)[1].context, "r2") << s.trail();
}

}  // namespace etcdlab::lab2
