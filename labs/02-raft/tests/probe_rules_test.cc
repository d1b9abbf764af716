// Lab 2, part B: when a leader stops pipelining to a follower and probes it instead, it starts
// again from what the follower is known to hold, not from where the pipeline had got to.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {

TEST(ReplicationRules, ProbingRestartsFromMatchPlusOneNotFromThePipelinesNext) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "a");
  s.propose(1, "b");
  // The appends of 2 and 3 to node 2 are in flight (pipelined): next ran ahead to 4.
  s.take([](const Message& m) { return m.to == 2; });
  ProgressStatus p = s.status(1).progress.at(2);
  ASSERT_EQ(p.state, ProgressStatus::State::kReplicate) << s.trail();
  ASSERT_EQ(p.match, 1u) << s.trail();
  ASSERT_EQ(p.next, 4u) << s.trail();
  s.raft(1).report_unreachable(2);
  p = s.status(1).progress.at(2);
  EXPECT_EQ(p.state, ProgressStatus::State::kProbe) << s.trail();
  EXPECT_EQ(p.next, 2u)
      << "the appends in flight may be lost: probing starts after what node 2 acknowledged "
         "(match 1), not at the pipeline's next (4), which would leave a gap"
      << s.trail();
  s.stabilize();
  EXPECT_EQ(s.status(2).last_index, 3u) << s.trail();
}

}  // namespace etcdlab::lab2
