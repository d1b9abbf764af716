// Lab 2, part D: snapshots and InstallSnapshot (§7), on a scripted network.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {

TEST(SnapshotRules, LeaderSendsASnapshotToAFollowerBehindItsLog) {
  Script s({1, 2, 3});
  compact_past_3(s);  // entries 1..11 are gone from node 1's log
  bool sent = false;
  s.on_ready([&](NodeId id, const Ready& rd, const LogStorage&) {
    for (const auto& m : rd.messages) {
      sent |= id == 1 && m.to == 3 && m.type == MessageType::kSnapshot;
    }
  });
  s.tick(1);
  s.stabilize();
  EXPECT_TRUE(sent)
      << "§7: a follower that needs entries the leader has discarded gets the snapshot"
      << s.trail();
  EXPECT_EQ(s.status(3).first_index, 12u) << "node 3 installed it" << s.trail();
  EXPECT_EQ(s.commit(3), s.commit(1)) << "and caught up" << s.trail();
  s.propose(1, "after");
  s.stabilize();
  EXPECT_EQ(data_of(s.applied(3)), std::vector<std::string>{"after"})
      << "replication goes on after the snapshot" << s.trail();
}

TEST(SnapshotRules, AfterASnapshotIsDeliveredTheLeaderProbesFromJustPastIt) {
  Script s({1, 2, 3});
  snapshot_on_its_way_to_3(s);  // snapshot at 11
  ASSERT_EQ(s.status(1).progress.at(3).state, ProgressStatus::State::kSnapshot) << s.trail(30);
  s.raft(1).report_snapshot(3, true);  // the driver delivered the payload
  EXPECT_EQ(s.status(1).progress.at(3).state, ProgressStatus::State::kProbe) << s.trail(30);
  EXPECT_EQ(s.status(1).progress.at(3).next, 12u)
      << "after a snapshot at 11 arrived, probing starts just past it" << s.trail(30);
}

TEST(SnapshotRules, FollowerInstallsASnapshotThatReplacesItsLog) {
  Script s({1, 2, 3});
  s.step(snapshot_message(2, 1, 3, SnapshotMeta{20, 3, {{1, 2, 3}, {}}}));
  auto st = s.status(1);
  EXPECT_EQ(st.hard_state.commit, 20u) << "a snapshot is committed state" << s.trail();
  EXPECT_EQ(st.last_index, 20u) << s.trail();
  auto replies = s.take();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].type, MessageType::kAppendResponse);
  EXPECT_EQ(replies[0].index, 20u) << "the follower tells the leader where its log ends now";
}

TEST(SnapshotRules, SnapshotOlderThanTheCommitIndexIsIgnored) {
  Script s({1, 2, 3});
  s.elect(1);
  for (int i = 0; i < 5; ++i) s.propose(1, "p" + std::to_string(i));
  s.stabilize();
  uint64_t commit = s.commit(2);
  ASSERT_EQ(commit, 6u);
  // A delayed snapshot at index 3 arrives at node 2, which already has everything up to 6.
  s.step(snapshot_message(1, 2, 1, SnapshotMeta{3, 1, {{1, 2, 3}, {}}}));
  EXPECT_EQ(s.status(2).first_index, 1u)
      << "§7: a snapshot that covers less than the follower has committed is ignored "
         "(installing it would lose committed entries)"
      << s.trail();
  EXPECT_EQ(s.status(2).last_index, 6u) << s.trail();
  EXPECT_EQ(s.commit(2), commit) << s.trail();
}

TEST(SnapshotRules, SnapshotMatchingTheLogOnlyAdvancesCommit) {
  Script s({1, 2, 3});
  s.elect(1);
  s.isolate(2);
  s.propose(1, "x");
  s.stabilize();
  s.heal();
  // Node 2 missed entry 2 (term 1); a snapshot up to 1 that matches its log just commits.
  s.step(snapshot_message(1, 2, 1, SnapshotMeta{1, 1, {{1, 2, 3}, {}}}));
  EXPECT_EQ(s.status(2).first_index, 1u) << "the log is kept when it matches" << s.trail();
}

TEST(SnapshotRules, RestartFromSnapshotPlusTheLogAfterIt) {
  Script s({1, 2, 3});
  s.elect(1);
  for (int i = 0; i < 6; ++i) s.propose(1, "p" + std::to_string(i));
  s.stabilize();
  s.compact(2);
  s.propose(1, "later");
  s.stabilize();
  s.restart(2);
  auto st = s.status(2);
  EXPECT_EQ(st.first_index, 8u) << "the snapshot covers 1..7" << s.trail();
  EXPECT_EQ(st.last_index, 8u) << "and the log after it is still there" << s.trail();
  s.tick(2);
  EXPECT_EQ(data_of(s.applied(2)), std::vector<std::string>{"later"})
      << "a restart applies only what follows the snapshot" << s.trail();
}

TEST(SnapshotRules, NothingIsAppliedWhileAReceivedSnapshotWaits) {
  Script s({1, 2, 3});
  // Node 1 holds 1..5, of which 1..3 are committed and applied.
  std::vector<Entry> five;
  for (uint64_t i = 1; i <= 5; ++i) five.push_back(Entry{i, 1, EntryType::kNormal, "e"});
  Message app;
  app.type = MessageType::kAppend;
  app.from = 2;
  app.to = 1;
  app.term = 1;
  app.entries = five;
  app.commit = 3;
  s.step(app);
  ASSERT_EQ(s.status(1).applied, 3u) << s.trail();
  bool applied_with_snapshot = false;
  s.on_ready([&](NodeId, const Ready& rd, const LogStorage&) {
    applied_with_snapshot |= rd.snapshot.has_value() && !rd.committed_entries.empty();
  });
  // The leader of term 2 sends a snapshot at 10 (its log disagrees with node 1's 4 and 5).
  s.step(snapshot_message(3, 1, 2, SnapshotMeta{10, 2, {{1, 2, 3}, {}}}));
  EXPECT_FALSE(applied_with_snapshot)
      << "while a received snapshot waits in a Ready, no committed entry is handed out: the "
         "state machine is restored from the snapshot first, and the entries it covers must "
         "not be applied again"
      << s.trail();
  EXPECT_EQ(s.status(1).applied, 10u) << "applying starts again after the snapshot" << s.trail();
}

TEST(SnapshotRules, FailedSnapshotTransferIsRetried) {
  Script s({1, 2, 3});
  // A heartbeat: node 3 answers, and the leader sends it the snapshot. The transfer fails: the
  // message is lost and the driver says so.
  snapshot_on_its_way_to_3(s);
  ASSERT_EQ(s.status(1).progress.at(3).state, ProgressStatus::State::kSnapshot) << s.trail(30);
  uint64_t match = s.status(1).progress.at(3).match;
  s.raft(1).report_snapshot(3, false);
  EXPECT_EQ(s.status(1).progress.at(3).state, ProgressStatus::State::kProbe)
      << "report_snapshot(to, false): the leader leaves the snapshot state and probes again; "
         "otherwise it waits for an answer that never comes and sends node 3 nothing, ever"
      << s.trail(30);
  EXPECT_EQ(s.status(1).progress.at(3).next, match + 1) << "from match + 1" << s.trail(30);
  for (int i = 0; i < 3; ++i) {
    s.tick(1);
    s.stabilize();
  }
  EXPECT_EQ(s.status(3).first_index, 12u)
      << "a second snapshot goes out and is installed" << s.trail(30);
}

}  // namespace etcdlab::lab2
