// Lab 2, part D: when a leader sends a snapshot, and when it holds one back.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {
namespace {

size_t snapshots_to(Script& s, NodeId id) {
  size_t n = 0;
  for (const auto& m : s.in_flight()) n += m.type == MessageType::kSnapshot && m.to == id;
  return n;
}

}  // namespace

TEST(SnapshotRules, NoSnapshotIsStreamedToAFollowerNotHeardFromRecently) {
  Script::Options o;
  o.check_quorum = true;
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.propose(1, "a");
  s.stabilize();
  s.isolate(3);
  // Two election timeouts with node 2 answering: the quorum checks pass, and node 3, silent
  // since the first, is no longer recently active.
  for (int i = 0; i < 2 * o.election_ticks; ++i) {
    s.tick(1);
    s.stabilize();
  }
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail(30);
  for (int i = 0; i < 5; ++i) s.propose(1, "p" + std::to_string(i));
  s.stabilize();
  s.raft(1).report_unreachable(3);  // probe node 3 from its match
  s.compact(1);                     // which is now inside the snapshot
  ASSERT_LT(s.status(1).progress.at(3).next, s.status(1).first_index)
      << "what node 3 needs next is compacted away" << s.trail(30);
  s.heal();
  s.propose(1, "b");
  EXPECT_EQ(snapshots_to(s, 3), 0u)
      << "node 3 has not answered for an election timeout: it is probably down, and a "
         "snapshot (possibly large) is not streamed to a node that is down"
      << s.trail(30);
  EXPECT_EQ(s.status(1).progress.at(3).state, ProgressStatus::State::kProbe) << s.trail(30);
  // Node 3 answers a heartbeat: now it gets the snapshot and catches up.
  s.tick(1);
  s.stabilize();
  EXPECT_EQ(s.status(3).first_index, s.status(1).first_index) << s.trail(30);
  EXPECT_EQ(s.commit(3), s.commit(1)) << s.trail(30);
}

TEST(SnapshotRules, AFollowerThatAnswersFromBehindTheSnapshotGetsItAtOnce) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "p0");
  // The append carrying entry 2 to node 3 is delayed on the way; the rest to 3 are lost.
  std::vector<Message> held = s.take([](const Message& m) { return m.to == 3; });
  s.cut(1, 3);
  for (int i = 1; i < 10; ++i) s.propose(1, "p" + std::to_string(i));
  s.stabilize();
  s.heal();
  s.compact(1);                     // snapshot at 11
  s.raft(1).report_unreachable(3);  // probe node 3 from its match (1)
  ASSERT_EQ(s.status(1).progress.at(3).next, 2u) << s.trail(30);
  ASSERT_FALSE(held.empty());
  ASSERT_EQ(held[0].index, 1u) << "the first delayed append carries entry 2" << s.trail(30);
  s.step(held[0]);  // arrives late; node 3 acknowledges 2
  for (const auto& m : s.take([](const Message& m) { return m.to == 1; })) s.step(m);
  EXPECT_EQ(s.status(1).progress.at(3).match, 2u) << s.trail(30);
  EXPECT_EQ(snapshots_to(s, 3), 1u)
      << "node 3 needs entry 3 next, which the leader has compacted: the answer itself makes the "
         "leader send the snapshot, without waiting for a heartbeat"
      << s.trail(30);
  EXPECT_EQ(s.status(1).progress.at(3).state, ProgressStatus::State::kSnapshot) << s.trail(30);
}

TEST(SnapshotRules, AFollowerThatAcknowledgesTheSnapshotIsPipelinedAgain) {
  Script s({1, 2, 3});
  compact_past_3(s);  // snapshot at 11
  s.tick(1);
  s.stabilize();
  ASSERT_EQ(s.status(3).first_index, 12u) << "node 3 installed the snapshot" << s.trail(30);
  ProgressStatus p = s.status(1).progress.at(3);
  EXPECT_EQ(p.match, 11u) << s.trail(30);
  EXPECT_EQ(p.state, ProgressStatus::State::kReplicate)
      << "the follower's answer to the snapshot says where its log ends: the leader knows, and "
         "replicates to it (no need to probe)"
      << s.trail(30);
  EXPECT_EQ(p.next, 12u) << s.trail(30);
}

TEST(SnapshotRules, AnOldAcknowledgementDoesNotEndASnapshotTransfer) {
  Script s({1, 2, 3});
  snapshot_on_its_way_to_3(s);  // snapshot at 11
  ASSERT_EQ(s.status(1).progress.at(3).state, ProgressStatus::State::kSnapshot) << s.trail(30);
  ASSERT_EQ(s.status(1).progress.at(3).match, 1u) << s.trail(30);
  s.take();  // whatever is still on its way is lost
  // A delayed acknowledgement of entry 2 (sent before node 3 was cut off) arrives.
  Message ack;
  ack.type = MessageType::kAppendResponse;
  ack.from = 3;
  ack.to = 1;
  ack.term = 1;
  ack.index = 2;
  s.step(ack);
  EXPECT_EQ(s.status(1).progress.at(3).match, 2u) << s.trail(30);
  EXPECT_EQ(s.status(1).progress.at(3).state, ProgressStatus::State::kSnapshot)
      << "node 3 holds 2, still short of the snapshot at 11 that is on its way: the leader "
         "keeps waiting for it"
      << s.trail(30);
  EXPECT_EQ(snapshots_to(s, 3), 0u) << "and sends no second snapshot" << s.trail(30);
}

}  // namespace etcdlab::lab2
