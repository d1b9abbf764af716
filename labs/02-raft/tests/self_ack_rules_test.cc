// Lab 2, part B: a leader counts itself toward a commit only up to what it has persisted
// (ready.h). A node can win an election before the driver has persisted what it last received:
// entries that replace part of its stored log, or a snapshot that replaces all of it. Neither
// the new entries nor the stored ones they replace count as the leader's until the Ready that
// writes them is done.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {
namespace {

Entry entry(uint64_t index, uint64_t term) {
  return Entry{index, term, EntryType::kNormal, "e" + std::to_string(index)};
}

void step_only(Script& s, const Message& m) {
  s.note("deliver, Ready not handled yet: " + to_string(m));
  s.raft(m.to).step(m);
}

// Node 1 campaigns and wins with the votes of 2 and 3, all before its Ready is handled.
void win_before_persisting(Script& s) {
  s.note("campaign on node 1, Ready not handled yet");
  s.raft(1).campaign();
  for (NodeId voter : {2, 3}) {
    Message v;
    v.type = MessageType::kVoteResponse;
    v.from = voter;
    v.to = 1;
    v.term = s.term(1);
    step_only(s, v);
  }
}

}  // namespace

TEST(ReplicationRules, ANewLeaderDoesNotCountStoredEntriesItHasReplaced) {
  Script s({1, 2, 3});
  s.storage(1).append({entry(1, 1), entry(2, 1), entry(3, 1)});
  s.storage(1).set_hard_state({1, kNoNode, 1});
  s.restart(1);
  // The leader of term 2 replaces 2/1 and 3/1 with 2/2; node 1 has not persisted it yet.
  Message app;
  app.type = MessageType::kAppend;
  app.from = 2;
  app.to = 1;
  app.term = 2;
  app.index = 1;
  app.log_term = 1;
  app.entries = {entry(2, 2)};
  app.commit = 1;
  step_only(s, app);
  win_before_persisting(s);
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  EXPECT_EQ(s.status(1).progress.at(1).match, 1u)
      << "node 1 has persisted 1/1 only: 2/1 and 3/1 in its storage are replaced, and 2/2 is "
         "not written yet; counting itself at 2 or 3 could commit what it would lose in a crash"
      << s.trail();
}

TEST(SnapshotRules, ANewLeaderDoesNotCountAStoredLogAReceivedSnapshotReplaced) {
  Script s({1, 2, 3});
  s.storage(1).append({entry(1, 1), entry(2, 1), entry(3, 1)});
  s.storage(1).set_hard_state({1, kNoNode, 0});
  s.restart(1);
  SnapshotMeta meta{10, 2, ConfState{{1, 2, 3}, {}}};
  step_only(s, snapshot_message(2, 1, 2, meta));
  win_before_persisting(s);
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  EXPECT_EQ(s.status(1).progress.at(1).match, 0u)
      << "the snapshot replaces the stored 1..3 and is not installed yet: nothing node 1 "
         "holds durably is part of its log now"
      << s.trail();
}

TEST(SnapshotRules, ALeaderSendsTheSnapshotItHasNotPersistedYet) {
  Script s({1, 2, 3});
  SnapshotMeta meta{10, 2, ConfState{{1, 2, 3}, {}}};
  step_only(s, snapshot_message(2, 1, 2, meta));
  win_before_persisting(s);
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  // Node 2 has nothing: it rejects the first append and hints index 0.
  Message reject;
  reject.type = MessageType::kAppendResponse;
  reject.from = 2;
  reject.to = 1;
  reject.term = s.term(1);
  reject.index = 10;
  reject.reject = true;
  step_only(s, reject);
  Ready rd = s.raft(1).ready();
  std::vector<Message> snapshots;
  for (const auto& m : rd.messages) {
    if (m.type == MessageType::kSnapshot && m.to == 2) snapshots.push_back(m);
  }
  ASSERT_EQ(snapshots.size(), 1u) << "node 2 needs entries before 11, which only the snapshot holds"
                                  << s.trail();
  EXPECT_EQ(snapshots[0].snapshot.index, 10u)
      << "the leader's latest snapshot is the one it received, installed or not" << s.trail();
}

}  // namespace etcdlab::lab2
