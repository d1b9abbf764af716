// Lab 2, part D: while a snapshot is on its way to a follower, the leader sends it nothing else:
// neither appends (their previous entries are compacted away) nor a second snapshot, until the
// follower acknowledges it or the driver reports how the transfer went.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {

TEST(SnapshotRules, NothingElseIsSentToAFollowerWhileItsSnapshotIsInFlight) {
  Script s({1, 2, 3});
  snapshot_on_its_way_to_3(s, 5);
  ASSERT_EQ(s.status(1).progress.at(3).state, ProgressStatus::State::kSnapshot) << s.trail();
  // The snapshot is still on its way: off the network, as if still streaming. Heartbeats and a
  // proposal follow.
  s.take([](const Message& m) { return m.type == MessageType::kSnapshot; });
  size_t to_3 = 0;
  for (int round = 0; round < 3; ++round) {
    if (round == 1) s.propose(1, "more");
    s.tick(1);
    for (int hop = 0; hop < 2; ++hop) {
      for (const auto& m : s.take()) {
        if (m.to == 3 && m.from == 1 && m.type != MessageType::kHeartbeat) {
          to_3++;
          continue;
        }
        s.step(m);
      }
    }
  }
  EXPECT_EQ(to_3, 0u)
      << "in the snapshot state the leader waits: only heartbeats go to node 3 (a second "
         "snapshot would be streamed again from the start)"
      << s.trail();
  EXPECT_EQ(s.status(1).progress.at(3).state, ProgressStatus::State::kSnapshot) << s.trail();
}

}  // namespace etcdlab::lab2
