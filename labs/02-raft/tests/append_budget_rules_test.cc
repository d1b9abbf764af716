// Lab 2, part B: what one append carries to a follower that is behind. Its entries are
// consecutive, start at the follower's next index and fill max_append_bytes (entry_size() each,
// at least one entry), whether the leader has persisted them yet or not: a leader sends while
// its own write is in flight (ready.h), so an append often spans both.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {
namespace {

// Leader 1 of {1, 2, 3} pauses node 2 (a probe is lost) at next index 2. Then entries of the
// given data sizes are proposed: `persisted` ones with their Readys handled, then `unpersisted`
// ones without. A heartbeat response from node 2 then unpauses it: returns the indexes of the
// entries that the append sent to node 2 at that moment carries.
std::vector<uint64_t> append_to_a_lagging_follower(const std::vector<size_t>& persisted,
                                                   const std::vector<size_t>& unpersisted,
                                                   uint64_t max_append_bytes) {
  Script::Options o;
  o.max_append_bytes = max_append_bytes;
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.raft(1).report_unreachable(2);
  for (size_t size : persisted) {
    s.propose(1, std::string(size, 'p'));
    s.take([](const Message& m) { return m.to == 2; });  // lost
  }
  for (size_t size : unpersisted) {
    s.note("propose " + std::to_string(size) + " bytes on node 1, Ready not handled yet");
    s.raft(1).propose(std::string(size, 'u'));
  }
  Message hb;
  hb.type = MessageType::kHeartbeatResponse;
  hb.from = 2;
  hb.to = 1;
  hb.term = s.term(1);
  s.note("deliver, Ready not handled yet: " + to_string(hb));
  s.raft(1).step(hb);
  Ready rd = s.raft(1).ready();
  std::vector<uint64_t> out;
  for (const auto& m : rd.messages) {
    if (m.type != MessageType::kAppend || m.to != 2) continue;
    out.clear();  // the last one is the answer to the heartbeat response
    for (const auto& e : m.entries) out.push_back(e.index);
  }
  return out;
}

using Indexes = std::vector<uint64_t>;

}  // namespace

TEST(ReplicationRules, AnAppendSpansPersistedAndUnpersistedEntries) {
  // Entries 2 and 3 persisted, 4 and 5 not; the budget holds them all.
  EXPECT_EQ(append_to_a_lagging_follower({1, 1}, {1, 1}, 1 << 20), (Indexes{2, 3, 4, 5}))
      << "one append carries everything from next on that fits, persisted or not";
}

TEST(ReplicationRules, AnAppendCutByTheBudgetLeavesNoGap) {
  // Entry 2 (17 bytes) fits a budget of 100, entry 3 (216 bytes, persisted) does not; entry 4
  // (17 bytes, not persisted) would.
  EXPECT_EQ(append_to_a_lagging_follower({1, 200}, {1}, 100), (Indexes{2}))
      << "the entries of an append are consecutive: once one does not fit, none after it goes";
}

TEST(ReplicationRules, UnpersistedEntriesFillTheBudgetExactly) {
  // Three entries of 17 bytes each (1 byte of data + 16), none persisted; a budget of 34.
  EXPECT_EQ(append_to_a_lagging_follower({}, {1, 1, 1}, 34), (Indexes{2, 3}))
      << "entries fit while their total is at most max_append_bytes: two of 17 fit 34, a third "
         "does not";
}

TEST(ReplicationRules, AnEntryOverTheBudgetTravelsAlone) {
  // A 116-byte entry, then a 17-byte one, none persisted; a budget of 34.
  EXPECT_EQ(append_to_a_lagging_follower({}, {100, 1}, 34), (Indexes{2}))
      << "an append carries at least one entry, however big, and nothing after it if that is "
         "over the budget already";
}

}  // namespace etcdlab::lab2
