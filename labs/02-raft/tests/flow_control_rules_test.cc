// Lab 2, part B: flow control. A follower in replicate state is sent appends back to back, as
// many as max_inflight_appends allows; every acknowledgement frees room and refills the window.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {
namespace {

std::vector<Message> appends_to(Script& s, NodeId id) {
  std::vector<Message> out;
  for (const auto& m : s.in_flight()) {
    if (m.type == MessageType::kAppend && m.to == id) out.push_back(m);
  }
  return out;
}

}  // namespace

TEST(ReplicationRules, AnAcknowledgedProbeRefillsThePipelineUpToTheInflightLimit) {
  Script::Options o;
  o.max_append_bytes = 1;  // one entry per append
  o.max_inflight = 3;
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.isolate(3);
  s.raft(1).report_unreachable(2);  // node 2 is probed: one append until it answers
  for (int i = 0; i < 6; ++i) s.propose(1, "p" + std::to_string(i));  // entries 2..7
  std::vector<Message> probe = appends_to(s, 2);
  ASSERT_EQ(probe.size(), 1u) << "probing: one append in flight" << s.trail();
  ASSERT_EQ(probe[0].entries.size(), 1u) << s.trail();
  s.take([](const Message& m) { return m.to == 2; });
  s.step(probe[0]);  // node 2 takes entry 2 ...
  for (const auto& m : s.take([](const Message& m) { return m.to == 1 && m.from == 2; })) {
    s.step(m);  // ... and its acknowledgement reaches the leader
  }
  ASSERT_EQ(s.status(1).progress.at(2).state, ProgressStatus::State::kReplicate) << s.trail();
  std::vector<Message> sent = appends_to(s, 2);
  ASSERT_EQ(sent.size(), 3u)
      << "the answer switches node 2 to replicate: the leader fills the window at once, three "
         "appends (max_inflight_appends) of one entry each, not one per acknowledgement"
      << s.trail();
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(sent[i].index, 2 + i) << "entries 3, 4, 5 back to back" << s.trail();
  }
}

TEST(ReplicationRules, ARejectedLeaderSkipsBackOverItsOwnEntriesOfLaterTerms) {
  Script s({1, 2, 3});
  // Node 1 led terms 1 and 3; node 2 led term 2 and wrote entries node 1 never saw.
  auto entries = [](std::vector<uint64_t> terms) {
    std::vector<Entry> out;
    for (uint64_t i = 0; i < terms.size(); ++i) {
      out.push_back(Entry{i + 1, terms[i], EntryType::kNormal, "t" + std::to_string(terms[i])});
    }
    return out;
  };
  s.storage(1).append(entries({1, 1, 3, 3, 3}));
  s.storage(1).set_hard_state({3, 1, 2});
  s.storage(2).append(entries({1, 1, 2, 2, 2, 2}));
  s.storage(2).set_hard_state({2, 2, 2});
  s.restart(1);
  s.restart(2);
  int rejections = 0;
  std::vector<uint64_t> probes;  // where node 1's appends to node 2 start, in order
  s.on_ready([&](NodeId id, const Ready& rd, const LogStorage&) {
    for (const auto& m : rd.messages) {
      if (id == 2 && m.type == MessageType::kAppendResponse && m.reject) rejections++;
      if (id == 1 && m.type == MessageType::kAppend && m.to == 2) probes.push_back(m.index);
    }
  });
  s.elect(1);  // term 4; its first append to node 2 follows 5/3, which node 2 does not have
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail(30);
  EXPECT_EQ(s.status(2).last_index, 6u) << s.trail(30);
  EXPECT_EQ(s.commit(2), 6u) << "node 2 took node 1's log" << s.trail(30);
  EXPECT_EQ(rejections, 1)
      << "node 2 rejects once, hinting 5/2 (its last entry at or below 5 of term <= 3): node 1 "
         "skips back over its own entries of terms above 2 (3..5) to 2/1 and matches at once, "
         "instead of one entry per round trip"
      << s.trail(30);
  ASSERT_GE(probes.size(), 2u) << s.trail(30);
  EXPECT_EQ(probes[0], 5u) << "the first append follows node 1's last entry of term 3"
                           << s.trail(30);
  EXPECT_EQ(probes[1], 2u) << "the second follows 2/1, where the logs agree (not 0: the hint "
                              "says how far back to go, no further)"
                           << s.trail(30);
}

TEST(ReplicationRules, AFollowerThatRejectsIsProbedNotPipelined) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "a");
  s.stabilize();
  ASSERT_EQ(s.status(1).progress.at(2).state, ProgressStatus::State::kReplicate) << s.trail();
  s.propose(1, "b");
  s.take([](const Message& m) { return m.to == 2; });  // entry 3 never reaches node 2
  s.propose(1, "c");
  std::vector<Message> sent = appends_to(s, 2);
  ASSERT_EQ(sent.size(), 1u) << s.trail();
  s.take([](const Message& m) { return m.to == 2; });
  s.step(sent[0]);  // entry 4 after 3/1: node 2 lacks 3 and rejects
  for (const auto& m : s.take([](const Message& m) { return m.to == 1 && m.from == 2; })) {
    ASSERT_TRUE(m.reject) << s.trail();
    s.step(m);
  }
  EXPECT_EQ(s.status(1).progress.at(2).state, ProgressStatus::State::kProbe)
      << "a rejection means the leader's guess of node 2's log was wrong: it stops pipelining "
         "and probes until it finds where they match"
      << s.trail();
  s.propose(1, "d");
  EXPECT_EQ(appends_to(s, 2).size(), 1u)
      << "probing: one append in flight, however much there is to send" << s.trail();
  s.stabilize();
  EXPECT_EQ(s.commit(2), s.commit(1)) << s.trail();
}

TEST(ReplicationRules, AHeartbeatResponseFreesASlotInAFullPipeline) {
  Script::Options o;
  o.max_inflight = 2;
  Script s({1, 2, 3}, o);
  s.elect(1);
  ASSERT_EQ(s.status(1).progress.at(2).state, ProgressStatus::State::kReplicate) << s.trail();
  s.propose(1, "a");
  s.propose(1, "b");
  s.take([](const Message& m) { return m.to == 2; });  // both appends to node 2 are lost
  s.propose(1, "c");
  ASSERT_TRUE(appends_to(s, 2).empty()) << "two unacknowledged appends: the window is full";
  s.stabilize();
  s.tick(1);  // a heartbeat; node 2 answers it
  for (const auto& m : s.take([](const Message& m) { return m.to == 2; })) s.step(m);
  for (const auto& m : s.take([](const Message& m) { return m.from == 2; })) s.step(m);
  EXPECT_EQ(appends_to(s, 2).size(), 1u)
      << "the heartbeat response shows node 2 is alive while its acknowledgements do not come: "
         "the leader frees one slot and sends again, or a lost window would stall it for good"
      << s.trail();
}

TEST(ReplicationRules, AHeartbeatResponseFreesNoSlotWhileThePipelineHasRoom) {
  Script::Options o;
  o.max_inflight = 2;
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.cut(1, 2);
  s.propose(1, "a");  // its append to node 2 is lost: one of node 2's two slots stays taken
  s.stabilize();
  s.heal();
  s.tick(1);  // a heartbeat; node 2 answers it
  for (const auto& m : s.take([](const Message& m) { return m.to == 2; })) s.step(m);
  for (const auto& m : s.take([](const Message& m) { return m.from == 2; })) s.step(m);
  s.take([](const Message& m) { return m.to == 2; });
  s.propose(1, "b");
  s.propose(1, "c");
  size_t with_entries = 0;
  for (const auto& m : appends_to(s, 2)) with_entries += !m.entries.empty();
  EXPECT_EQ(with_entries, 1u)
      << "a heartbeat response acknowledges no append: with one of two slots taken, one more "
         "append goes out, not two"
      << s.trail();
}

TEST(ReplicationRules, AProbedFollowerLearnsTheCommitIndexAsSoonAsItAnswers) {
  Script s({1, 2, 3});
  s.elect(1);
  s.raft(1).report_unreachable(3);
  s.propose(1, "x");  // entry 2; the probe to node 3 carries it with commit 1
  std::vector<Message> probe = appends_to(s, 3);
  ASSERT_EQ(probe.size(), 1u) << s.trail();
  s.take([](const Message& m) { return m.to == 3; });
  s.stabilize();  // node 2 acknowledges: entry 2 commits
  ASSERT_EQ(s.commit(1), 2u) << s.trail();
  s.step(probe[0]);
  for (const auto& m : s.take([](const Message& m) { return m.from == 3; })) s.step(m);
  // Only what the leader sends in answer to node 3 is delivered: no heartbeat.
  for (const auto& m : s.take([](const Message& m) { return m.to == 3; })) s.step(m);
  EXPECT_EQ(s.commit(3), 2u)
      << "node 3 answered a probe sent before entry 2 committed: nothing new is left to send "
         "it, yet the leader answers with an append that carries the commit index"
      << s.trail();
}

}  // namespace etcdlab::lab2
