// Lab 2, part C: the Ready contract (ready.h) field by field. A driver persists what a Ready
// carries, syncs when it says so and shows the node's role from it: a field that is missing
// when it changed, or present when nothing changed, misleads the driver even when the Raft
// state itself is right.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {
namespace {

// The Readys node `id` was handed from position `from` of the script's list on.
std::vector<Ready> readys_of(Script& s, NodeId id, size_t from = 0) {
  std::vector<Ready> out;
  for (size_t i = from; i < s.readys().size(); ++i) {
    if (s.readys()[i].first == id) out.push_back(s.readys()[i].second);
  }
  return out;
}

}  // namespace

TEST(PersistenceRules, ReadyCarriesSoftAndHardStateOnlyWhenTheyChanged) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "x");
  s.stabilize();
  size_t mark = s.readys().size();
  s.tick(1);  // a heartbeat: nothing about roles, leaders, terms, votes or commits changes
  s.stabilize();
  ASSERT_FALSE(readys_of(s, 1, mark).empty()) << "the heartbeats go out in a Ready" << s.trail();
  for (NodeId id : {1, 2, 3}) {
    for (const Ready& rd : readys_of(s, id, mark)) {
      EXPECT_FALSE(rd.soft_state.has_value())
          << "node " << id << ": soft_state is set only when the leader or role changed"
          << s.trail();
      EXPECT_FALSE(rd.hard_state.has_value())
          << "node " << id << ": hard_state is set only when term, vote or commit changed"
          << s.trail();
      EXPECT_FALSE(rd.must_sync) << "node " << id << ": nothing to make durable" << s.trail();
    }
  }
}

TEST(PersistenceRules, ReadyReportsALeaderSteppingDownEvenWithNothingToSend) {
  Script::Options o;
  o.check_quorum = true;
  Script s({1, 2, 3}, o);
  s.elect(1);
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  s.isolate(2);
  s.isolate(3);
  size_t mark = s.readys().size();
  // No quorum heard from for an election timeout: the leader steps down (within two timeouts,
  // since the followers were active when it was elected).
  for (int i = 0; i < 3 * o.election_ticks && s.role(1) == Role::kLeader; ++i) s.tick(1);
  ASSERT_EQ(s.role(1), Role::kFollower) << s.trail();
  std::vector<Ready> rds = readys_of(s, 1, mark);
  ASSERT_FALSE(rds.empty()) << "stepping down is a change the driver must be told" << s.trail();
  const Ready& last = rds.back();
  ASSERT_TRUE(last.soft_state.has_value())
      << "the step-down sends nothing and changes no hard state, yet has_ready() must be true "
         "and the Ready must carry the new soft state: the driver stops acting as leader"
      << s.trail();
  EXPECT_EQ(last.soft_state->role, Role::kFollower) << s.trail();
  EXPECT_EQ(last.soft_state->leader, kNoNode) << s.trail();
  EXPECT_FALSE(s.raft(1).has_ready()) << "and once handed out, it is not handed out again";
}

TEST(PersistenceRules, ReadyAsksToSyncNewEntriesWithinATerm) {
  Script s({1, 2, 3});
  s.elect(1);
  size_t mark = s.readys().size();
  s.propose(1, "x");
  s.stabilize();
  int with_entries = 0;
  for (NodeId id : {1, 2, 3}) {
    for (const Ready& rd : readys_of(s, id, mark)) {
      if (rd.entries.empty()) continue;
      ++with_entries;
      EXPECT_TRUE(rd.must_sync) << "node " << id
                                << ": new entries must be synced before they are acknowledged, "
                                << "even when term and vote did not change" << s.trail();
    }
  }
  EXPECT_EQ(with_entries, 3) << "each node appended entry 2 once" << s.trail();
}

TEST(PersistenceRules, ReadyAsksToSyncAReceivedSnapshot) {
  Script s({1, 2, 3});
  compact_past_3(s, 5);
  size_t mark = s.readys().size();
  s.tick(1);
  s.stabilize();
  int with_snapshot = 0;
  for (const Ready& rd : readys_of(s, 3, mark)) {
    if (!rd.snapshot) continue;
    ++with_snapshot;
    EXPECT_TRUE(rd.entries.empty()) << s.trail();
    EXPECT_TRUE(rd.must_sync) << "a snapshot replaces the log: it must be durable before the "
                                 "follower says it has it, even within the same term"
                              << s.trail();
  }
  EXPECT_EQ(with_snapshot, 1) << "node 3 (of term 1 already) receives one snapshot" << s.trail();
}

TEST(PersistenceRules, LoneVoterPersistsCommitsAndAppliesWithNoOneToTalkTo) {
  Script s({1});
  s.elect(1);
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  s.propose(1, "x");
  EXPECT_EQ(s.commit(1), 2u) << "a single voter commits once its own entry is persisted: its "
                                "Readys carry entries and commits with no message at all"
                             << s.trail();
  EXPECT_EQ(data_of(s.applied(1)), std::vector<std::string>{"x"}) << s.trail();
  s.read_index(1, "r");
  ASSERT_EQ(s.read_states(1).size(), 1u)
      << "a lone voter's read is answered in a Ready that carries nothing else" << s.trail();
  EXPECT_EQ(s.read_states(1)[0], (ReadState{2, "r"})) << s.trail();
}

TEST(PersistenceRules, RestartedAppliedIsNeverAboveTheCommitIndex) {
  MemoryStorage storage;
  storage.append({Entry{1, 1, EntryType::kNormal, "a"}, Entry{2, 1, EntryType::kNormal, "b"},
                  Entry{3, 1, EntryType::kNormal, "c"}});
  storage.set_hard_state({1, kNoNode, 2});
  RaftConfig c;
  c.id = 1;
  c.voters = {1, 2, 3};
  c.storage = &storage;
  c.applied = 3;  // more than the persisted commit index says is committed
  Raft raft(c);
  EXPECT_EQ(raft.status().applied, 2u)
      << "applied is config.applied, but never above commit: invariant applied <= committed";
  EXPECT_EQ(raft.status().hard_state.commit, 2u);
}

TEST(PersistenceRules, ARestartedLoneVoterCommitsNothingUntilItLeads) {
  MemoryStorage storage;
  storage.append({Entry{1, 1, EntryType::kNormal, "a"}, Entry{2, 1, EntryType::kNormal, "b"}});
  storage.set_hard_state({1, 1, 0});  // the commit index was not saved before the restart
  RaftConfig c;
  c.id = 1;
  c.voters = {1};
  c.storage = &storage;
  Raft raft(c);
  raft.advance(raft.ready());  // a driver's loop may run a Ready with nothing in it
  raft.tick();
  while (raft.has_ready()) raft.advance(raft.ready());
  ASSERT_EQ(raft.status().soft_state.role, Role::kFollower);
  EXPECT_EQ(raft.status().hard_state.commit, 0u)
      << "a follower learns commits from a leader; even a lone voter commits only as leader";
  raft.campaign();
  while (raft.has_ready()) {
    Ready rd = raft.ready();
    if (!rd.entries.empty()) storage.append(rd.entries);
    raft.advance(rd);
  }
  EXPECT_EQ(raft.status().hard_state.commit, 3u)
      << "as leader of term 2 it commits its empty entry, and the two before it with it";
}

TEST(PersistenceRules, AFollowerCommitsOnlyWhatItsLeaderSays) {
  // Node 2 knows of no other voter (say it has applied a change the leader has not), so its own
  // copy would be a majority of its configuration: still, it is a follower, and a follower's
  // commit index comes from its leader alone (§5.3).
  MemoryStorage storage;
  RaftConfig c;
  c.id = 2;
  c.voters = {2};
  c.storage = &storage;
  Raft raft(c);
  Message app;
  app.type = MessageType::kAppend;
  app.from = 1;
  app.to = 2;
  app.term = 1;
  app.entries = {Entry{1, 1, EntryType::kNormal, "a"}, Entry{2, 1, EntryType::kNormal, "b"}};
  app.commit = 0;
  raft.step(app);
  while (raft.has_ready()) {
    Ready rd = raft.ready();
    if (!rd.entries.empty()) storage.append(rd.entries);
    if (rd.hard_state) storage.set_hard_state(*rd.hard_state);
    raft.advance(rd);
  }
  ASSERT_EQ(raft.status().soft_state.role, Role::kFollower);
  EXPECT_EQ(raft.status().hard_state.commit, 0u)
      << "the leader said commit 0: persisting the entries does not commit them";
}

}  // namespace etcdlab::lab2
