// Lab 2, part D: what a follower answers to a snapshot it does not install. Its answer is a
// promise about its log, so it names only what it knows matches the leader: its commit index.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {
namespace {

// Node 1 of {1, 2, 3} holds entries 1..5 of term 1 from leader 2, of which 1..`commit` are
// committed.
void five_entries_on_node_1(Script& s, uint64_t commit) {
  Message app;
  app.type = MessageType::kAppend;
  app.from = 2;
  app.to = 1;
  app.term = 1;
  for (uint64_t i = 1; i <= 5; ++i) app.entries.push_back(Entry{i, 1, EntryType::kNormal, "e"});
  app.commit = commit;
  s.step(app);
  s.take();
}

}  // namespace

TEST(SnapshotRules, ASnapshotTheFollowerAlreadyHasIsAnsweredWithItsCommitIndex) {
  Script s({1, 2, 3});
  five_entries_on_node_1(s, 3);
  s.step(snapshot_message(2, 1, 1, SnapshotMeta{2, 1, {{1, 2, 3}, {}}}));
  auto replies = s.take();
  ASSERT_EQ(replies.size(), 1u) << s.trail();
  EXPECT_EQ(replies[0].type, MessageType::kAppendResponse) << s.trail();
  EXPECT_FALSE(replies[0].reject) << s.trail();
  EXPECT_EQ(replies[0].index, 3u)
      << "a snapshot at 2, below the commit index 3, is ignored; the answer says 3, what is "
         "known to match the leader, not 5, the end of a log whose tail may differ"
      << s.trail();
  EXPECT_EQ(s.status(1).last_index, 5u) << s.trail();
}

TEST(SnapshotRules, ASnapshotMatchingTheLogCommitsUpToItAndIsAnsweredWithIt) {
  Script s({1, 2, 3});
  five_entries_on_node_1(s, 2);
  s.step(snapshot_message(2, 1, 1, SnapshotMeta{4, 1, {{1, 2, 3}, {}}}));
  EXPECT_EQ(s.commit(1), 4u) << "the snapshot's last entry is in the log: commit up to it"
                             << s.trail();
  EXPECT_EQ(s.status(1).first_index, 1u) << "the log is kept" << s.trail();
  EXPECT_EQ(s.status(1).last_index, 5u) << s.trail();
  auto replies = s.take();
  ASSERT_EQ(replies.size(), 1u) << s.trail();
  EXPECT_EQ(replies[0].index, 4u)
      << "the answer is the new commit index, 4: entry 5 was never vouched for by the leader"
      << s.trail();
}

TEST(SnapshotRules, AnOlderSnapshotIsIgnoredEvenWhenTheLogWasCompactedPastIt) {
  Script s({1, 2, 3});
  s.elect(1);
  for (int i = 0; i < 5; ++i) s.propose(1, "p" + std::to_string(i));
  s.stabilize();
  s.compact(2);  // node 2's own snapshot at 6: its log before 7 is gone
  ASSERT_EQ(s.status(2).first_index, 7u) << s.trail();
  s.step(snapshot_message(1, 2, 1, SnapshotMeta{3, 1, {{1, 2, 3}, {}}}));  // a delayed one
  EXPECT_EQ(s.status(2).first_index, 7u)
      << "a snapshot at 3 holds less than node 2 has committed (6): it is ignored, even though "
         "node 2 can no longer compare it with its log"
      << s.trail();
  EXPECT_EQ(s.commit(2), 6u) << s.trail();
  EXPECT_EQ(s.status(2).applied, 6u) << s.trail();
}

}  // namespace etcdlab::lab2
