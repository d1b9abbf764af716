// Lab 2, parts B and D: what the driver tells the leader about its peers (report_snapshot,
// report_unreachable) and what the leader reports back (status().progress). A report is only a
// hint: about a node that is not a member, to a node that is not leading, or about a follower
// in another state, it changes nothing.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {
namespace {

bool same(const ProgressStatus& a, const ProgressStatus& b) {
  return a.match == b.match && a.next == b.next && a.state == b.state && a.learner == b.learner;
}

size_t appends_to(Script& s, NodeId id) {
  size_t n = 0;
  for (const auto& m : s.in_flight()) n += m.type == MessageType::kAppend && m.to == id;
  return n;
}

}  // namespace

TEST(ReplicationRules, StatusReportsProgressOnlyOnTheLeader) {
  Script s({1, 2, 3});
  s.elect(1);
  EXPECT_EQ(s.status(1).progress.size(), 3u) << "the leader tracks every member" << s.trail();
  EXPECT_TRUE(s.status(2).progress.empty())
      << "status().progress is the leader's view: a follower reports none" << s.trail();
  EXPECT_EQ(s.status(1).conf.voters, (std::vector<NodeId>{1, 2, 3})) << s.trail();
  EXPECT_EQ(s.status(2).id, 2u) << s.trail();
}

TEST(ReplicationRules, ReportsAboutNonMembersOrToFollowersAreIgnored) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "x");
  s.stabilize();
  auto before = s.status(1).progress;
  EXPECT_NO_THROW(s.raft(1).report_unreachable(9)) << "node 9 is not a member" << s.trail();
  EXPECT_NO_THROW(s.raft(1).report_snapshot(9, false)) << "node 9 is not a member" << s.trail();
  EXPECT_NO_THROW(s.raft(1).report_snapshot(9, true)) << s.trail();
  auto after = s.status(1).progress;
  ASSERT_EQ(after.size(), before.size()) << s.trail();
  for (const auto& [id, p] : before) EXPECT_TRUE(same(p, after.at(id))) << "node " << id;
  EXPECT_FALSE(s.raft(1).has_ready()) << "nothing to do after an ignored report" << s.trail();
  EXPECT_NO_THROW(s.raft(2).report_unreachable(3)) << "node 2 is not leading" << s.trail();
  EXPECT_NO_THROW(s.raft(2).report_snapshot(3, false)) << s.trail();
  EXPECT_TRUE(s.status(2).progress.empty()) << s.trail();
  EXPECT_FALSE(s.raft(2).has_ready()) << s.trail();
}

TEST(ReplicationRules, ReportSnapshotIsIgnoredUnlessASnapshotIsBeingSent) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "x");
  s.stabilize();
  ProgressStatus before = s.status(1).progress.at(2);
  ASSERT_EQ(before.state, ProgressStatus::State::kReplicate) << s.trail();
  s.raft(1).report_snapshot(2, false);
  EXPECT_TRUE(same(s.status(1).progress.at(2), before))
      << "node 2 is being replicated to, not sent a snapshot: a report about a snapshot is "
         "stale and must not stop the pipeline"
      << s.trail();
  s.propose(1, "y");
  EXPECT_EQ(appends_to(s, 2), 1u) << "the pipeline to node 2 goes on" << s.trail();
}

TEST(SnapshotRules, UnreachableDoesNotCancelASnapshotBeingSent) {
  Script s({1, 2, 3});
  snapshot_on_its_way_to_3(s);
  ASSERT_EQ(s.status(1).progress.at(3).state, ProgressStatus::State::kSnapshot) << s.trail(30);
  s.raft(1).report_unreachable(3);
  EXPECT_EQ(s.status(1).progress.at(3).state, ProgressStatus::State::kSnapshot)
      << "report_unreachable only stops pipelining; a snapshot transfer ends with "
         "report_snapshot (or the follower's answer), not with a lost message"
      << s.trail(30);
}

TEST(SnapshotRules, AfterASnapshotReportTheLeaderWaitsForTheFollowerBeforeProbing) {
  Script s({1, 2, 3});
  snapshot_on_its_way_to_3(s);
  ASSERT_EQ(s.status(1).progress.at(3).state, ProgressStatus::State::kSnapshot) << s.trail(30);
  s.raft(1).report_snapshot(3, true);
  s.propose(1, "after");
  EXPECT_EQ(appends_to(s, 3), 0u)
      << "the follower has not answered yet (it may still be installing): the probe is paused "
         "until it does, rather than sending entries it cannot take"
      << s.trail(30);
  // The follower's answer to a heartbeat resumes probing.
  s.tick(1);
  s.stabilize();
  EXPECT_EQ(s.commit(3), s.commit(1)) << "then node 3 catches up" << s.trail(30);
}

}  // namespace etcdlab::lab2
