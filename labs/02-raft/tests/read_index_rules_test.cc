// Lab 2, part E: linearizable reads (ReadIndex, thesis §6.4) and leader transfer (§3.10), on a
// scripted network.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {
namespace {

size_t heartbeats_with_context(Script& s) {
  size_t n = 0;
  for (const auto& m : s.in_flight()) n += m.type == MessageType::kHeartbeat && !m.context.empty();
  return n;
}

// A heartbeat of a later term, from a leader node `id` has not heard of, makes it step down.
void hear_of_a_later_term(Script& s, NodeId id, NodeId from, uint64_t term) {
  Message hb;
  hb.type = MessageType::kHeartbeat;
  hb.from = from;
  hb.to = id;
  hb.term = term;
  s.step(hb);
  s.take();  // (its answer goes nowhere)
  ASSERT_EQ(s.role(id), Role::kFollower) << s.trail();
}

}  // namespace

TEST(ReadIndexRules, LeaderAnswersOnlyAfterAHeartbeatQuorum) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "w");
  s.stabilize();
  s.read_index(1, "r1");
  EXPECT_TRUE(s.read_states(1).empty())
      << "§6.4: the leader must confirm it is still leader (a heartbeat round) before "
         "answering"
      << s.trail();
  EXPECT_EQ(heartbeats_with_context(s), 2u) << "it asks both followers" << s.trail();
  s.stabilize();
  ASSERT_EQ(s.read_states(1).size(), 1u) << s.trail();
  EXPECT_EQ(s.read_states(1)[0].context, "r1");
  EXPECT_EQ(s.read_states(1)[0].index, s.commit(1)) << "the read index is the commit index";
}

TEST(ReadIndexRules, DeposedLeaderCannotServeReads) {
  Script s({1, 2, 3});
  s.elect(1);
  s.isolate(1);
  s.elect(2);  // node 2 leads a new term; node 1 does not know
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  s.read_index(1, "stale?");
  s.stabilize();
  EXPECT_TRUE(s.read_states(1).empty())
      << "the classic bug (etcd#741): an old leader that answers reads from its own state "
         "serves stale data; without a heartbeat quorum it must not answer"
      << s.trail();
}

TEST(ReadIndexRules, NewLeaderWaitsForACommitInItsTerm) {
  Script s({1, 2, 3});
  s.campaign(1);
  // Deliver the votes but hold back every append: the leader's empty entry is not committed.
  for (const auto& m : s.take()) s.step(m);  // the vote requests
  for (const auto& m : s.take()) s.step(m);  // the votes
  s.take([](const Message& m) { return m.type == MessageType::kAppend; });
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  s.read_index(1, "early");
  s.stabilize();
  EXPECT_TRUE(s.read_states(1).empty())
      << "§6.4: until an entry of its term commits, a new leader does not know the commit index"
      << s.trail();
  s.tick(1);
  s.stabilize();
  ASSERT_EQ(s.read_states(1).size(), 1u) << s.trail();
  EXPECT_GE(s.read_states(1)[0].index, 1u) << s.trail();
}

TEST(ReadIndexRules, FollowerReadIsForwardedAndUsesTheLeadersCommitIndex) {
  Script s({1, 2, 3});
  s.elect(1);
  s.cut(1, 3);
  s.propose(1, "w");  // committed with node 2; node 3 does not have it
  s.stabilize();
  uint64_t write_index = s.commit(1);
  s.heal();
  s.read_index(3, "at-follower");
  // Let only the read go through: the request, one heartbeat round with node 2, the answer.
  auto req = s.take([](const Message& m) { return m.type == MessageType::kReadIndex; });
  ASSERT_EQ(req.size(), 1u) << s.trail();
  s.step(req[0]);
  for (const auto& hb : s.take([](const Message& m) { return m.to == 2; })) s.step(hb);
  for (const auto& r : s.take([](const Message& m) { return m.to == 1; })) s.step(r);
  for (const auto& r :
       s.take([](const Message& m) { return m.type == MessageType::kReadIndexResponse; })) {
    s.step(r);
  }
  ASSERT_EQ(s.read_states(3).size(), 1u) << s.trail();
  EXPECT_GE(s.read_states(3)[0].index, write_index)
      << "a follower's read must wait until it applies up to the leader's commit index, which "
         "covers the write it has not seen yet"
      << s.trail();
}

TEST(ReadIndexRules, ConcurrentReadsShareOneHeartbeatRound) {
  Script s({1, 2, 3});
  s.elect(1);
  s.take();
  for (int i = 0; i < 5; ++i) s.read_index(1, "r" + std::to_string(i));
  EXPECT_EQ(heartbeats_with_context(s), 2u)
      << "reads queued while no round is in flight share the next round (one heartbeat per "
         "follower), they do not each start one"
      << s.trail();
  s.stabilize();
  EXPECT_EQ(s.read_states(1).size(), 5u) << s.trail();
}

TEST(ReadIndexRules, ReadArrivingMidRoundWaitsForTheNextRound) {
  Script s({1, 2, 3});
  s.elect(1);
  s.take();
  s.read_index(1, "early");
  auto round1 = s.take();  // its heartbeats, in flight
  ASSERT_EQ(round1.size(), 2u) << s.trail();
  s.read_index(1, "late");  // arrives while round 1 is in flight
  for (const auto& hb : round1) s.step(hb);
  for (const auto& ack :
       s.take([](const Message& m) { return m.type == MessageType::kHeartbeatResponse; })) {
    s.step(ack);
  }
  ASSERT_EQ(s.read_states(1).size(), 1u) << s.trail();
  EXPECT_EQ(s.read_states(1)[0].context, "early")
      << "round 1's heartbeats left before \"late\" arrived, so their answers say nothing about "
         "a newer leader elected since: \"late\" waits for a round of its own"
      << s.trail();
  s.stabilize();
  EXPECT_EQ(s.read_states(1).size(), 2u) << "the next round answers it" << s.trail();
}

TEST(ReadIndexRules, AckOfAnOlderRoundDoesNotCount) {
  Script s({1, 2, 3});
  s.elect(1);
  s.take();
  s.read_index(1, "r1");
  auto round1 = s.take();
  ASSERT_EQ(round1.size(), 2u) << s.trail();
  s.step(round1[0]);  // node 2 answers round 1, which completes
  for (const auto& ack : s.take()) s.step(ack);
  ASSERT_EQ(s.read_states(1).size(), 1u) << s.trail();
  s.read_index(1, "r2");  // round 2; its heartbeats are lost
  s.take();
  s.step(round1[1]);  // node 3's copy of round 1 arrives late, and is answered
  for (const auto& ack : s.take()) s.step(ack);
  EXPECT_EQ(s.read_states(1).size(), 1u)
      << "node 3 answered round 1, which left before r2 arrived: its ack must not count "
         "toward r2's round"
      << s.trail();
}

TEST(ReadIndexRules, PeriodicHeartbeatsCarryTheRoundInFlight) {
  Script s({1, 2, 3});
  s.elect(1);
  s.take();
  s.read_index(1, "r");
  s.take();   // the round's own heartbeats are lost
  s.tick(1);  // heartbeat_ticks = 1: the periodic heartbeat
  EXPECT_EQ(heartbeats_with_context(s), 2u)
      << "the periodic heartbeats carry the round in flight" << s.trail();
  s.stabilize();
  EXPECT_EQ(s.read_states(1).size(), 1u)
      << "so a round whose first heartbeats were lost still completes" << s.trail();
}

TEST(ReadIndexRules, ALeaderThatStepsDownForgetsItsReads) {
  Script s({1, 2, 3});
  s.elect(1);
  s.take();
  s.read_index(1, "in-round");  // its round's heartbeats are lost
  s.take();
  s.read_index(1, "queued");  // waits for the next round
  // Node 1 hears of term 5 and steps down.
  hear_of_a_later_term(s, 1, 2, 5);
  // It wins term 6, but its first appends are lost: a read waits for an entry of its term to
  // commit. It steps down again.
  s.campaign(1);
  for (const auto& m : s.take([](const Message& m) { return m.to != 1; })) s.step(m);
  for (const auto& m : s.take([](const Message& m) { return m.to == 1; })) s.step(m);
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  s.take();
  s.read_index(1, "before-commit");
  hear_of_a_later_term(s, 1, 2, 8);
  // Elected once more, it serves the reads of its new term, and only those.
  s.elect(1);
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  s.read_index(1, "new");
  s.stabilize();
  std::vector<std::string> answered;
  for (const auto& r : s.read_states(1)) answered.push_back(r.context);
  EXPECT_EQ(answered, std::vector<std::string>{"new"})
      << "reads pending when a leader steps down are dropped (their clients retry); the new "
         "term's reads go through"
      << s.trail();
}

TEST(LeaderTransferRules, TransferToAnUpToDateFollower) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "x");
  s.stabilize();
  s.transfer_leader(1, 2);
  s.stabilize();
  EXPECT_EQ(s.role(2), Role::kLeader)
      << "the leader tells an up-to-date target to campaign at once (TimeoutNow)" << s.trail();
  EXPECT_EQ(s.term(2), 2u) << s.trail();
  EXPECT_EQ(s.role(1), Role::kFollower) << s.trail();
}

TEST(LeaderTransferRules, TransferToALaggingFollowerCatchesItUpFirst) {
  Script s({1, 2, 3});
  s.elect(1);
  s.isolate(3);
  for (int i = 0; i < 5; ++i) s.propose(1, "p" + std::to_string(i));
  s.stabilize();
  s.heal();
  s.transfer_leader(1, 3);
  s.stabilize();
  EXPECT_EQ(s.role(3), Role::kLeader) << "after catching up, node 3 takes over" << s.trail();
  EXPECT_EQ(data_of(s.applied(3)).size(), 5u) << s.trail();
}

TEST(LeaderTransferRules, TransferOvercomesTheLeaderLease) {
  Script::Options o;
  o.check_quorum = true;
  o.pre_vote = true;
  Script s({1, 2, 3}, o);
  s.elect(1);
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  s.propose(1, "x");
  s.stabilize();
  s.transfer_leader(1, 2);
  s.stabilize();
  EXPECT_EQ(s.role(2), Role::kLeader)
      << "node 3 and the old leader heard from the leader less than an election timeout ago, so "
         "they ignore ordinary vote requests; node 2's are marked as a transfer and answered"
      << s.trail();
}

TEST(LeaderTransferRules, AFollowerForwardsATransferToItsLeader) {
  Script s({1, 2, 3});
  s.elect(1);
  s.take();
  s.transfer_leader(3, 2);
  auto fwd = s.take();
  ASSERT_EQ(fwd.size(), 1u) << s.trail();
  EXPECT_EQ(fwd[0].type, MessageType::kTransferLeader);
  EXPECT_EQ(fwd[0].to, 1u) << "to the leader node 3 knows" << s.trail();
  EXPECT_EQ(fwd[0].index, 2u) << "index names the transferee" << s.trail();
  s.step(fwd[0]);
  s.stabilize();
  EXPECT_EQ(s.role(2), Role::kLeader) << s.trail();
  Script alone({1, 2, 3});
  EXPECT_THROW(alone.transfer_leader(2, 3), ProposalDropped) << "no leader known";
}

TEST(LeaderTransferRules, RemovingTheTransfereeAbortsTheTransfer) {
  Script s({1, 2, 3});
  s.elect(1);
  s.isolate(3);
  s.propose(1, "x");
  s.stabilize();
  s.transfer_leader(1, 3);  // node 3 lags and is unreachable: the transfer waits
  ASSERT_EQ(s.status(1).lead_transferee, 3u) << s.trail();
  // (The changes are applied directly, as a driver would once they committed.)
  s.raft(1).apply_conf_change({ConfChange::Type::kAddLearner, 4, ""});
  EXPECT_EQ(s.status(1).lead_transferee, 3u)
      << "a change that leaves the transferee a voter leaves the transfer under way" << s.trail();
  s.raft(1).apply_conf_change({ConfChange::Type::kRemoveNode, 3, ""});
  EXPECT_EQ(s.status(1).lead_transferee, kNoNode)
      << "the transferee is no voter any more: the transfer is abandoned at once, not after an "
         "election timeout"
      << s.trail();
  s.propose(1, "after");  // and proposals are taken again
}

TEST(LeaderTransferRules, ALeaderThatStepsDownForgetsItsTransfer) {
  Script s({1, 2, 3});
  s.elect(1);
  s.isolate(3);
  s.propose(1, "x");
  s.stabilize();
  s.transfer_leader(1, 3);  // waits: node 3 is unreachable
  hear_of_a_later_term(s, 1, 2, 5);
  s.elect(1);  // node 3 still unreachable: a new term, and no transfer asked in it
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  EXPECT_EQ(s.status(1).lead_transferee, kNoNode)
      << "a transfer belongs to the term it was asked in: a leader of a new term has none"
      << s.trail();
  s.propose(1, "new term, no transfer");  // must not throw ProposalDropped
}

TEST(LeaderTransferRules, ProposalsAreRefusedDuringATransfer) {
  Script s({1, 2, 3});
  s.elect(1);
  s.isolate(2);
  s.transfer_leader(1, 2);  // cannot finish: node 2 is unreachable
  EXPECT_THROW(s.propose(1, "during"), ProposalDropped)
      << "while handing over, the leader takes no new proposals" << s.trail();
}

TEST(LeaderTransferRules, TransferAbortsAfterAnElectionTimeout) {
  Script s({1, 2, 3});
  s.elect(1);
  s.isolate(2);
  s.transfer_leader(1, 2);
  s.tick(1, 2 * 10);
  s.stabilize();
  EXPECT_EQ(s.role(1), Role::kLeader) << s.trail();
  EXPECT_EQ(s.status(1).lead_transferee, kNoNode)
      << "a transfer that does not finish within an election timeout is abandoned" << s.trail();
  s.propose(1, "again");  // and proposals are taken again
}

}  // namespace etcdlab::lab2
