// Lab 2, parts B-D: the log a node has not persisted yet. A driver may step several messages
// before it asks for the next Ready (ready.h forbids steps only between ready() and advance()),
// so entries and a received snapshot that are not in the storage yet must count exactly as if
// they were: appends match them, replace them, and build on them.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {
namespace {

Entry entry(uint64_t index, uint64_t term) {
  return Entry{index, term, EntryType::kNormal,
               "e" + std::to_string(index) + "/" + std::to_string(term)};
}

// Steps `m` into its node and leaves the Ready alone: what it appends stays unpersisted.
void step_only(Script& s, const Message& m) {
  s.note("deliver, Ready not handled yet: " + to_string(m));
  s.raft(m.to).step(m);
}

std::vector<Message> append_responses(const Ready& rd) {
  std::vector<Message> out;
  for (const auto& m : rd.messages) {
    if (m.type == MessageType::kAppendResponse) out.push_back(m);
  }
  return out;
}

std::vector<std::pair<uint64_t, uint64_t>> index_terms(const std::vector<Entry>& entries) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const auto& e : entries) out.push_back({e.index, e.term});
  return out;
}

}  // namespace

TEST(ReplicationRules, UnpersistedEntriesAreMatchedAndReplacedLikePersistedOnes) {
  Script s({1, 2, 3});
  step_only(s, append(2, 1, 1, 0, 0, {entry(1, 1), entry(2, 1), entry(3, 1)}, 0));
  // Each of these checks (prev index, prev term) against entries that are not persisted yet.
  step_only(s, append(2, 1, 1, 3, 1, {entry(4, 1)}, 0));  // after the last one, 3/1
  step_only(s, append(3, 1, 2, 1, 1, {entry(2, 2)}, 0));  // after the first; 2/2 replaces 2..4
  step_only(s, append(3, 1, 2, 2, 2, {entry(3, 2)}, 0));  // after the replacing 2/2
  step_only(s, append(3, 1, 2, 5, 2, {entry(6, 2)}, 0));  // after 5: past the end
  Ready rd = s.raft(1).ready();
  auto r = append_responses(rd);
  ASSERT_EQ(r.size(), 5u) << s.trail();
  EXPECT_FALSE(r[0].reject) << s.trail();
  EXPECT_EQ(r[0].index, 3u) << s.trail();
  EXPECT_FALSE(r[1].reject) << "entry 3/1 is the node's last entry, persisted or not: the append "
                               "after it matches"
                            << s.trail();
  EXPECT_EQ(r[1].index, 4u) << s.trail();
  EXPECT_FALSE(r[2].reject) << "entry 1/1 is the first unpersisted entry: the append after it "
                               "matches"
                            << s.trail();
  EXPECT_EQ(r[2].index, 2u) << "§5.3: the conflicting 2/1 and everything after it are deleted"
                            << s.trail();
  EXPECT_FALSE(r[3].reject) << "2/2 replaced 2/1 (unpersisted): an append after 2/2 matches"
                            << s.trail();
  EXPECT_EQ(r[3].index, 3u) << s.trail();
  EXPECT_TRUE(r[4].reject) << "the log ends at 3: nothing matches at 5" << s.trail();
  EXPECT_EQ(r[4].reject_hint, 3u) << "the hint is the node's last index" << s.trail();
  EXPECT_EQ(r[4].log_term, 2u) << "and the term there" << s.trail();
  EXPECT_EQ(index_terms(rd.entries),
            (std::vector<std::pair<uint64_t, uint64_t>>{{1, 1}, {2, 2}, {3, 2}}))
      << "the Ready persists the log as it now is" << s.trail();
  EXPECT_EQ(s.status(1).last_index, 3u) << s.trail();
}

TEST(ReplicationRules, AConflictBelowTheUnpersistedEntriesReplacesThemAll) {
  Script s({1, 2, 3});
  s.step(append(2, 1, 1, 0, 0, {entry(1, 1), entry(2, 1), entry(3, 1)}, 0));  // persisted
  s.take();
  step_only(s, append(2, 1, 1, 3, 1, {entry(4, 1), entry(5, 1)}, 0));  // 4 and 5 are not
  // A leader of term 2 holds 3/2: entry 3 (persisted) conflicts, and 4 and 5 go with it.
  step_only(s, append(3, 1, 2, 2, 1, {entry(3, 2)}, 0));
  Ready rd = s.raft(1).ready();
  EXPECT_EQ(index_terms(rd.entries), (std::vector<std::pair<uint64_t, uint64_t>>{{3, 2}}))
      << "§5.3: the conflicting entry and all that follow it are deleted, persisted or not"
      << s.trail();
  EXPECT_EQ(s.status(1).last_index, 3u) << s.trail();
}

TEST(SnapshotRules, AnAppendRightAfterAReceivedSnapshotBuildsOnIt) {
  Script s({1, 2, 3});
  step_only(s, append(3, 1, 1, 0, 0, {entry(1, 1), entry(2, 1), entry(3, 1)}, 0));
  // The leader of term 2 has compacted its log up to 10: it sends a snapshot, which replaces
  // the unpersisted 1..3 (they disagree with it) before they are ever persisted.
  SnapshotMeta meta{10, 2, ConfState{{1, 2, 3}, {}}};
  step_only(s, snapshot_message(2, 1, 2, meta));
  RaftStatus st = s.status(1);
  EXPECT_EQ(st.first_index, 11u) << "the snapshot replaces the log at once: it starts after 10"
                                 << s.trail();
  EXPECT_EQ(st.last_index, 10u) << s.trail();
  EXPECT_EQ(st.hard_state.commit, 10u) << "a snapshot holds only committed entries" << s.trail();
  step_only(s, append(2, 1, 2, 12, 2, {entry(13, 2)}, 10));  // past the snapshot: no match
  step_only(s, append(2, 1, 2, 10, 2, {entry(11, 2)}, 11));  // on the snapshot's last entry
  step_only(s, append(2, 1, 2, 11, 2, {entry(12, 2)}, 11));
  Ready rd = s.raft(1).ready();
  auto r = append_responses(rd);
  ASSERT_EQ(r.size(), 5u) << s.trail();  // 1..3, the snapshot, then the three appends
  r.erase(r.begin());
  EXPECT_EQ(r[0].index, 10u) << "the snapshot is acknowledged at its index" << s.trail();
  EXPECT_TRUE(r[1].reject) << "the log ends at 10: nothing matches at 12" << s.trail();
  EXPECT_EQ(r[1].reject_hint, 10u) << s.trail();
  EXPECT_EQ(r[1].log_term, 2u)
      << "the term of the snapshot's last entry is known although the entry is gone" << s.trail();
  EXPECT_FALSE(r[2].reject)
      << "an append after (10, 2), the snapshot's last entry, matches before the snapshot is "
         "persisted"
      << s.trail();
  EXPECT_EQ(r[2].index, 11u) << s.trail();
  EXPECT_FALSE(r[3].reject) << s.trail();
  EXPECT_EQ(r[3].index, 12u) << s.trail();
  ASSERT_TRUE(rd.snapshot.has_value()) << s.trail();
  EXPECT_EQ(rd.snapshot->index, 10u) << s.trail();
  EXPECT_EQ(index_terms(rd.entries), (std::vector<std::pair<uint64_t, uint64_t>>{{11, 2}, {12, 2}}))
      << "the Ready installs the snapshot and appends what followed it; 1..3 are gone" << s.trail();
  EXPECT_TRUE(rd.committed_entries.empty())
      << "entry 11 is committed, but nothing is handed out to apply in the Ready that installs "
         "the snapshot (as in NothingIsAppliedWhileAReceivedSnapshotWaits)"
      << s.trail();
}

}  // namespace etcdlab::lab2
