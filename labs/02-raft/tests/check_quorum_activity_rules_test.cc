// Lab 2, part A: check-quorum counts every answer from a follower as a sign of life, not only
// heartbeat responses: a follower busy acknowledging appends is active.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {

TEST(ElectionRules, CheckQuorumCountsAppendResponsesAsActivity) {
  Script::Options o;
  o.check_quorum = true;
  Script s({1, 2, 3}, o);
  s.elect(1);
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  for (int i = 0; i < 3 * o.election_ticks; ++i) {
    s.tick(1);
    s.propose(1, "p" + std::to_string(i));
    // Every heartbeat is lost (so no heartbeat response is ever sent); appends and their
    // responses get through.
    s.take([](const Message& m) { return m.type == MessageType::kHeartbeat; });
    s.stabilize();
  }
  EXPECT_EQ(s.role(1), Role::kLeader)
      << "nodes 2 and 3 acknowledged appends all along: the leader heard from a quorum and "
         "must not step down"
      << s.trail(30);
}

}  // namespace etcdlab::lab2
