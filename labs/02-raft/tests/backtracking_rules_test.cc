// Lab 2, part B: fast backtracking (§5.3, "the leader can decrement nextIndex to bypass all of
// the conflicting entries in that term"), as etcd does it: a follower that rejects an append
// hints the last index at or below the append's whose term is at most the append's previous
// term, and the leader skips back over every entry of its own whose term is above the hint's.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {
namespace {

std::vector<Entry> log_of_terms(const std::vector<uint64_t>& terms) {
  std::vector<Entry> out;
  for (uint64_t t : terms) {
    uint64_t index = out.size() + 1;
    out.push_back(Entry{index, t, EntryType::kNormal, "e" + std::to_string(index)});
  }
  return out;
}

// Node 1's answer to an append after (prev_index, prev_term) from a leader of term 3.
Message answer(Script& s, uint64_t prev_index, uint64_t prev_term) {
  s.step(append(3, 1, 3, prev_index, prev_term, {}, 0));
  auto r = s.take([](const Message& m) { return m.type == MessageType::kAppendResponse; });
  EXPECT_EQ(r.size(), 1u) << s.trail();
  return r.empty() ? Message{} : r.back();
}

}  // namespace

TEST(ReplicationRules, ARejectionHintsTheLastEntryWhoseTermIsAtMostTheAppendsPrevTerm) {
  Script s({1, 2, 3});
  // Node 1 holds 1/1 2/1 3/2 4/2 5/2.
  s.step(append(2, 1, 2, 0, 0, log_of_terms({1, 1, 2, 2, 2}), 0));
  s.take();

  Message r = answer(s, 5, 3);  // the leader's entry 5 is of term 3; ours is of term 2
  EXPECT_TRUE(r.reject) << s.trail();
  EXPECT_EQ(r.reject_hint, 5u) << "our entry 5 (term 2) is at most term 3: the hint is 5"
                               << s.trail();
  EXPECT_EQ(r.log_term, 2u) << "with its term" << s.trail();

  r = answer(s, 4, 1);  // the leader's entry 4 is of term 1
  EXPECT_TRUE(r.reject) << s.trail();
  EXPECT_EQ(r.reject_hint, 2u)
      << "entries 4 and 3 are of term 2, above term 1: the hint skips them, to entry 2 (term 1)"
      << s.trail();
  EXPECT_EQ(r.log_term, 1u) << s.trail();

  r = answer(s, 8, 2);  // past our last entry
  EXPECT_TRUE(r.reject) << s.trail();
  EXPECT_EQ(r.reject_hint, 5u) << "the hint starts from our last index" << s.trail();
  EXPECT_EQ(r.log_term, 2u) << s.trail();
}

TEST(ReplicationRules, ALeaderSkipsItsEntriesOfTermsAboveTheHintsTerm) {
  Script s({1, 2, 3});
  // Node 1 holds 1/1 2/1 3/2 4/2 5/2; node 2 holds 1/1 .. 6/1 from a leader of term 1 whose
  // entries 3..6 never reached a majority.
  s.storage(1).append(log_of_terms({1, 1, 2, 2, 2}));
  s.storage(1).set_hard_state({2, kNoNode, 0});
  s.storage(2).append(log_of_terms({1, 1, 1, 1, 1, 1}));
  s.storage(2).set_hard_state({1, kNoNode, 0});
  s.restart(1);
  s.restart(2);
  std::vector<Message> appends_to_2;
  int rejections = 0;
  s.on_ready([&](NodeId id, const Ready& rd, const LogStorage&) {
    for (const auto& m : rd.messages) {
      if (id == 1 && m.to == 2 && m.type == MessageType::kAppend) appends_to_2.push_back(m);
      if (id == 2 && m.type == MessageType::kAppendResponse && m.reject) rejections++;
    }
  });
  s.elect(1);  // term 3; its first append to node 2 is after 5/2, which node 2 does not hold
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  EXPECT_EQ(rejections, 1)
      << "node 2 hints 5/1; the leader's entries 5, 4 and 3 are of term 2 > 1, so it retries "
         "after 2/1 at once instead of one entry per round trip"
      << s.trail();
  ASSERT_GE(appends_to_2.size(), 2u) << s.trail();
  EXPECT_EQ(appends_to_2[1].index, 2u) << "the retry follows entry 2" << s.trail();
  EXPECT_EQ(s.status(2).last_index, 6u) << s.trail();
  EXPECT_EQ(s.storage(2).term(3), 2u) << "node 2's log is now the leader's" << s.trail();
}

}  // namespace etcdlab::lab2
