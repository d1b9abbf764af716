// Lab 2, part B: when a leader stops pipelining to a follower and probes it instead, it starts
// again from what the follower is known to hold, not from where the pipeline had got to.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {
namespace {

Message rejection(NodeId from, NodeId to, uint64_t term, uint64_t index, uint64_t hint,
                  uint64_t hint_term) {
  Message m;
  m.type = MessageType::kAppendResponse;
  m.from = from;
  m.to = to;
  m.term = term;
  m.index = index;
  m.reject = true;
  m.reject_hint = hint;
  m.log_term = hint_term;
  return m;
}

}  // namespace

TEST(ReplicationRules, ProbingRestartsFromMatchPlusOneNotFromThePipelinesNext) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "a");
  s.propose(1, "b");
  // The appends of 2 and 3 to node 2 are in flight (pipelined): next ran ahead to 4.
  s.take([](const Message& m) { return m.to == 2; });
  ProgressStatus p = s.status(1).progress.at(2);
  ASSERT_EQ(p.state, ProgressStatus::State::kReplicate) << s.trail();
  ASSERT_EQ(p.match, 1u) << s.trail();
  ASSERT_EQ(p.next, 4u) << s.trail();
  s.raft(1).report_unreachable(2);
  p = s.status(1).progress.at(2);
  EXPECT_EQ(p.state, ProgressStatus::State::kProbe) << s.trail();
  EXPECT_EQ(p.next, 2u)
      << "the appends in flight may be lost: probing starts after what node 2 acknowledged "
         "(match 1), not at the pipeline's next (4), which would leave a gap"
      << s.trail();
  s.stabilize();
  EXPECT_EQ(s.status(2).last_index, 3u) << s.trail();
}

TEST(ReplicationRules, ARejectionAtTheMatchedIndexIsStale) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "a");
  s.propose(1, "b");
  s.stabilize();
  ProgressStatus before = s.status(1).progress.at(2);
  ASSERT_EQ(before.state, ProgressStatus::State::kReplicate) << s.trail();
  ASSERT_EQ(before.match, 3u) << s.trail();
  // Node 2 once rejected an append after entry 3; since then it acknowledged 3.
  s.step(rejection(2, 1, s.term(1), 3, 2, 1));
  ProgressStatus after = s.status(1).progress.at(2);
  EXPECT_EQ(after.state, ProgressStatus::State::kReplicate)
      << "a rejection of an append after an entry the follower has acknowledged is an old "
         "answer (the network reorders): the leader keeps pipelining"
      << s.trail();
  EXPECT_EQ(after.next, before.next) << s.trail();
  EXPECT_TRUE(s.take([](const Message& m) { return m.type == MessageType::kAppend; }).empty())
      << "and resends nothing" << s.trail();
}

TEST(ReplicationRules, AProbeIgnoresARejectionOfAnotherAppend) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "a");
  s.propose(1, "b");
  s.stabilize();
  s.campaign(2);                             // a new leader probes everyone from its last index + 1
  for (const auto& m : s.take()) s.step(m);  // the vote requests
  for (const auto& m : s.take()) s.step(m);  // the votes
  ASSERT_EQ(s.role(2), Role::kLeader) << s.trail();
  s.take();  // the probes (after entry 3) are in flight
  ProgressStatus before = s.status(2).progress.at(3);
  ASSERT_EQ(before.state, ProgressStatus::State::kProbe) << s.trail();
  ASSERT_EQ(before.next, 4u) << s.trail();
  // A rejection of an append after entry 7, which this leader never sent: it is not the answer
  // to the probe in flight.
  s.step(rejection(3, 2, s.term(2), 7, 1, 1));
  EXPECT_EQ(s.status(2).progress.at(3).next, 4u)
      << "while probing, only the answer to the append in flight (after next - 1 = 3) moves "
         "next; a rejection of another append is stale"
      << s.trail();
}

TEST(ReplicationRules, AStaleRejectionWhileProbingSendsNothing) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "a");
  s.stabilize();
  s.raft(1).report_unreachable(2);              // probing from next 3; nothing in flight yet
  s.step(rejection(2, 1, s.term(1), 1, 0, 0));  // an old answer, about the append after 1
  EXPECT_TRUE(s.take([](const Message& m) { return m.type == MessageType::kAppend; }).empty())
      << "the rejection is not about the probe position (after 2): it changes nothing and "
         "causes no send"
      << s.trail();
  EXPECT_EQ(s.status(1).progress.at(2).next, 3u) << s.trail();
}

TEST(ReplicationRules, AnOlderAcknowledgementNeverMovesMatchBack) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "a");
  s.propose(1, "b");
  s.stabilize();
  ASSERT_EQ(s.status(1).progress.at(2).match, 3u) << s.trail();
  Message old;  // node 2's acknowledgement of entry 1, delayed by the network
  old.type = MessageType::kAppendResponse;
  old.from = 2;
  old.to = 1;
  old.term = s.term(1);
  old.index = 1;
  s.step(old);
  EXPECT_EQ(s.status(1).progress.at(2).match, 3u)
      << "match only grows: node 2 holds 3 durably whatever an old answer says" << s.trail();
}

TEST(ReplicationRules, AHeartbeatResponseFreesASlotOfAFullPipeline) {
  Script::Options o;
  o.max_inflight = 2;
  Script s({1, 2, 3}, o);
  s.elect(1);
  for (int i = 0; i < 3; ++i) s.propose(1, "p" + std::to_string(i));
  auto lost = s.take([](const Message& m) { return m.type == MessageType::kAppend && m.to == 2; });
  ASSERT_EQ(lost.size(), 2u) << "the pipeline to node 2 is full, and both appends are lost"
                             << s.trail();
  s.tick(1);  // a heartbeat; node 2 answers it
  for (const auto& hb : s.take([](const Message& m) { return m.to == 2; })) s.step(hb);
  for (const auto& r : s.take([](const Message& m) { return m.from == 2; })) s.step(r);
  auto sent = s.take([](const Message& m) { return m.type == MessageType::kAppend && m.to == 2; });
  EXPECT_EQ(sent.size(), 1u)
      << "node 2 is alive but acknowledges nothing: its appends were lost. The heartbeat "
         "response frees one slot so that an append goes out, or the pipeline stays full forever"
      << s.trail();
}

}  // namespace etcdlab::lab2
