// Lab 2, part C: persistence and restart. What Raft promises in a message must be durable
// before the message leaves (ready.h), and a restarted node must resume from what it persisted.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {

TEST(PersistenceRules, ReadyAsksToSyncWhenTermVoteOrEntriesChange) {
  Script s({1, 2, 3});
  s.campaign(1);
  ASSERT_FALSE(s.readys().empty());
  const Ready& rd = s.readys().back().second;
  ASSERT_TRUE(rd.hard_state.has_value()) << "a new term and vote are hard state" << s.trail();
  EXPECT_EQ(rd.hard_state->term, 1u);
  EXPECT_EQ(rd.hard_state->vote, 1u);
  EXPECT_TRUE(rd.must_sync) << "term and vote must reach the disk before votes are asked";
  s.stabilize();
  s.tick(1);
  s.stabilize();
  for (auto it = s.readys().rbegin(); it != s.readys().rend(); ++it) {
    const Ready& r = it->second;
    if (r.entries.empty() && r.hard_state && r.hard_state->term == 1 && !r.snapshot &&
        r.hard_state->vote == s.status(it->first).hard_state.vote) {
      EXPECT_FALSE(r.must_sync) << "a change of commit index alone needs no fsync" << s.trail();
      break;
    }
  }
}

TEST(PersistenceRules, VoteIsPersistedBeforeItIsSent) {
  Script s({1, 2, 3});
  std::string problem;
  s.on_ready([&](NodeId id, const Ready& rd, const LogStorage& storage) {
    HardState after = rd.hard_state ? *rd.hard_state : storage.hard_state();
    for (const auto& m : rd.messages) {
      if (m.type == MessageType::kVoteResponse && !m.reject &&
          (after.term != m.term || after.vote != m.to)) {
        problem = "node " + std::to_string(id) + " grants its vote to " + std::to_string(m.to) +
                  " at term " + std::to_string(m.term) + " but persists " + to_string(after);
      }
    }
  });
  s.elect(1);
  s.restart(2);
  s.restart(3);
  s.elect(2);
  EXPECT_EQ(problem, "")
      << "a vote must be in the hard state of the same Ready that sends it (Figure 2: "
         "persistent state is updated before responding)"
      << s.trail();
}

TEST(PersistenceRules, AcknowledgedEntriesArePersistedInTheSameReady) {
  Script s({1, 2, 3});
  std::string problem;
  s.on_ready([&](NodeId id, const Ready& rd, const LogStorage& storage) {
    uint64_t durable = rd.entries.empty() ? storage.last_index()
                                          : std::max(storage.last_index(), rd.entries.back().index);
    for (const auto& m : rd.messages) {
      if (m.type == MessageType::kAppendResponse && !m.reject && m.index > durable) {
        problem = "node " + std::to_string(id) + " acknowledges index " + std::to_string(m.index) +
                  " but only " + std::to_string(durable) + " is being persisted";
      }
    }
  });
  s.elect(1);
  for (int i = 0; i < 10; ++i) s.propose(1, "p" + std::to_string(i));
  s.stabilize();
  EXPECT_EQ(problem, "") << "an acknowledgement promises the entries are durable" << s.trail(20);
}

TEST(PersistenceRules, RestartedNodeResumesItsTermVoteAndLog) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "a");
  s.propose(1, "b");
  s.stabilize();
  auto before = s.status(2);
  s.restart(2);
  auto after = s.status(2);
  EXPECT_EQ(after.hard_state.term, before.hard_state.term) << s.trail();
  EXPECT_EQ(after.hard_state.vote, before.hard_state.vote) << s.trail();
  EXPECT_EQ(after.last_index, before.last_index) << s.trail();
  EXPECT_EQ(after.soft_state.role, Role::kFollower) << "every node restarts as a follower";
}

TEST(PersistenceRules, RestartedNodeDoesNotVoteTwiceInATerm) {
  Script s({1, 2, 3});
  s.campaign(1);
  for (const auto& m : s.take([](const Message& m) { return m.to == 2; })) s.step(m);
  s.take();
  ASSERT_EQ(s.status(2).hard_state.vote, 1u) << s.trail();
  s.restart(2);
  Message vote;
  vote.type = MessageType::kVote;
  vote.from = 3;
  vote.to = 2;
  vote.term = 1;
  s.step(vote);
  auto replies = s.take();
  ASSERT_EQ(replies.size(), 1u) << s.trail();
  EXPECT_TRUE(replies[0].reject)
      << "node 2 voted for node 1 in term 1 before restarting: it must not vote for node 3 in "
         "the same term (two leaders of one term could follow)"
      << s.trail();
}

TEST(PersistenceRules, RestartedNodeReappliesItsCommittedEntries) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "x");
  s.propose(1, "y");
  s.stabilize();
  s.restart(2);
  s.tick(2);
  EXPECT_EQ(data_of(s.applied(2)), (std::vector<std::string>{"x", "y"}))
      << "a restarted node hands out its committed entries again (its state machine was in "
         "memory)"
      << s.trail();
}

TEST(PersistenceRules, RestartWithAppliedSkipsWhatWasAppliedButKeepsItsConfiguration) {
  MemoryStorage storage;
  ConfChange add4{ConfChange::Type::kAddVoter, 4, ""};
  storage.append({Entry{1, 1, EntryType::kNormal, "a"},
                  Entry{2, 1, EntryType::kConfChange, encode_value(add4)},
                  Entry{3, 1, EntryType::kNormal, "b"}, Entry{4, 1, EntryType::kNormal, "c"}});
  storage.set_hard_state({1, kNoNode, 4});
  RaftConfig c;
  c.id = 1;
  c.voters = {1, 2, 3};
  c.storage = &storage;
  c.applied = 3;  // the application already applied entries 1..3
  Raft raft(c);
  Ready rd = raft.ready();
  ASSERT_EQ(rd.committed_entries.size(), 1u) << "only entry 4 is handed out again";
  EXPECT_EQ(rd.committed_entries[0].index, 4u);
  auto voters = raft.status().conf.voters;
  EXPECT_EQ(voters, (std::vector<NodeId>{1, 2, 3, 4}))
      << "the configuration change at index 2 was applied before the restart: it must be in "
         "effect even though the entry is not handed out again";

  c.applied = 2;  // the change itself was the last entry applied
  Raft at_change(c);
  EXPECT_EQ(at_change.status().conf.voters, (std::vector<NodeId>{1, 2, 3, 4}))
      << "config.applied = 2 includes the change at 2";
  EXPECT_EQ(at_change.ready().committed_entries.size(), 2u) << "entries 3 and 4 again";
}

TEST(PersistenceRules, AppliedStartsAtTheSnapshotWhenConfigAppliedIsBelowIt) {
  MemoryStorage storage;
  storage.append({Entry{1, 1, EntryType::kNormal, "a"}, Entry{2, 1, EntryType::kNormal, "b"},
                  Entry{3, 1, EntryType::kNormal, "c"}});
  storage.set_hard_state({1, kNoNode, 3});
  storage.begin_snapshot({2, 1, {{1, 2, 3}, {}}})->commit();
  RaftConfig c;
  c.id = 1;
  c.voters = {1, 2, 3};
  c.storage = &storage;
  c.applied = 1;  // older than the snapshot: the snapshot's index wins
  Raft raft(c);
  EXPECT_EQ(raft.status().applied, 2u) << "applied is the snapshot's index, or config.applied "
                                          "if that is higher";
  Ready rd = raft.ready();
  ASSERT_EQ(rd.committed_entries.size(), 1u);
  EXPECT_EQ(rd.committed_entries[0].index, 3u);
}

TEST(PersistenceRules, ARestartedNodesFirstReadyCarriesNoUnchangedHardState) {
  MemoryStorage storage;
  storage.append({Entry{1, 3, EntryType::kNormal, "a"}});
  storage.set_hard_state({3, 2, 1});
  RaftConfig c;
  c.id = 1;
  c.voters = {1, 2, 3};
  c.storage = &storage;
  Raft raft(c);
  Ready rd = raft.ready();
  EXPECT_FALSE(rd.hard_state.has_value())
      << "hard_state is set when term, vote or commit changed: the restarted node's are the "
         "storage's";
  EXPECT_FALSE(rd.must_sync);
  EXPECT_EQ(rd.committed_entries.size(), 1u);
}

TEST(PersistenceRules, WholeClusterRestartsAndCarriesOn) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "before");
  s.stabilize();
  for (NodeId id : {1, 2, 3}) s.restart(id);
  s.elect(2);
  ASSERT_EQ(s.role(2), Role::kLeader) << s.trail();
  s.propose(2, "after");
  s.stabilize();
  EXPECT_EQ(data_of(s.applied(3)), (std::vector<std::string>{"before", "after"})) << s.trail();
}

}  // namespace etcdlab::lab2
