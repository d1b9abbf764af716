// Lab 2, parts A and F: terms (§5.1), the leader lease (§9.6, check-quorum) and pre-vote. A
// higher term from a leader is always followed, the lease lasts exactly an election timeout and
// only a transfer overrides it, a stale leader is told the newer term, other stale messages get
// no answer, and only a voter that is not leader yet campaigns.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {
namespace {

}  // namespace

TEST(ElectionRules, AFollowerInItsLeaseStillFollowsANewLeaderOfAHigherTerm) {
  Script::Options o;
  o.check_quorum = true;
  o.pre_vote = true;
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.propose(1, "x");
  s.stabilize();
  s.isolate(3);  // node 3 misses the transfer: for it, leader 1 is alive
  s.transfer_leader(1, 2);
  s.stabilize();
  ASSERT_EQ(s.role(2), Role::kLeader) << s.trail();
  s.heal();
  s.tick(2);  // leader 2's heartbeat, of term 2, reaches node 3
  s.stabilize();
  EXPECT_EQ(s.term(3), s.term(2))
      << "the lease only makes a follower ignore vote requests; a leader of a higher term is "
         "followed at once"
      << s.trail();
  EXPECT_EQ(s.leader_of(3), 2u) << s.trail();
}

TEST(ElectionRules, TheLeaseEndsAfterExactlyAnElectionTimeout) {
  Script::Options o;
  o.check_quorum = true;
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.take();
  Message vote = msg(MessageType::kVote, 3, 2, 2);
  vote.index = 100;
  vote.log_term = 1;
  s.tick(2, 9);
  s.take();
  ASSERT_EQ(s.role(2), Role::kFollower) << s.trail();
  s.step(vote);
  EXPECT_EQ(s.term(2), 1u) << "9 ticks after hearing from its leader node 2 is in its lease"
                           << s.trail();
  s.tick(2);
  s.take();
  ASSERT_EQ(s.role(2), Role::kFollower) << s.trail();
  s.step(vote);
  EXPECT_EQ(s.term(2), 2u)
      << "after election_ticks (10) ticks without a word from the leader, the lease is over: "
         "the vote request is considered"
      << s.trail();
  auto r = s.take([](const Message& m) { return m.type == MessageType::kVoteResponse; });
  ASSERT_EQ(r.size(), 1u) << s.trail();
  EXPECT_FALSE(r[0].reject) << s.trail();
}

TEST(ElectionRules, WithPreVoteAloneAStaleLeaderLearnsTheNewTerm) {
  Script::Options o;
  o.pre_vote = true;  // check_quorum off: the old leader never steps down by itself
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.isolate(1);
  s.elect(2);
  ASSERT_EQ(s.role(2), Role::kLeader) << s.trail();
  ASSERT_EQ(s.term(3), 2u) << s.trail();
  s.heal();
  s.take();
  s.tick(1);  // the stale leader's heartbeats, of term 1
  for (const auto& hb : s.take([](const Message& m) { return m.to == 3; })) s.step(hb);
  auto answer = s.take([](const Message& m) { return m.from == 3; });
  ASSERT_EQ(answer.size(), 1u)
      << "with pre-vote on, node 3 answers a heartbeat of an older term: otherwise the stale "
         "leader keeps its term, and its pre-votes (for term 2) never win"
      << s.trail();
  EXPECT_EQ(answer[0].term, 2u) << s.trail();
  s.step(answer[0]);
  EXPECT_EQ(s.role(1), Role::kFollower) << s.trail();
  EXPECT_EQ(s.term(1), 2u) << s.trail();
  EXPECT_EQ(s.leader_of(1), kNoNode)
      << "node 3 is not a leader: node 1 knows no leader until leader 2 speaks" << s.trail();
}

TEST(ElectionRules, AStaleMessageOtherThanAnAppendOrPreVoteGetsNoAnswer) {
  Script::Options o;
  o.pre_vote = true;
  o.check_quorum = true;
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.transfer_leader(1, 2);
  s.stabilize();
  ASSERT_EQ(s.term(3), 2u) << s.trail();
  s.take();
  for (MessageType type :
       {MessageType::kVoteResponse, MessageType::kAppendResponse, MessageType::kHeartbeatResponse,
        MessageType::kVote, MessageType::kTimeoutNow}) {
    s.step(msg(type, 1, 3, 1));
  }
  EXPECT_TRUE(s.take().empty()) << "messages of an older term are dropped without an answer"
                                << s.trail();
  EXPECT_EQ(s.term(3), 2u) << s.trail();
}

TEST(ElectionRules, AStalePreVoteIsAnsweredWithAPreVoteRejection) {
  Script::Options o;
  o.pre_vote = true;
  Script s({1, 2, 3}, o);
  s.step(msg(MessageType::kHeartbeat, 1, 2, 5));  // node 2 follows a leader of term 5
  s.take();
  s.campaign(3);  // node 3, at term 0, asks for term 1
  for (const auto& m : s.take([](const Message& m) { return m.to == 2; })) s.step(m);
  auto answers = s.take([](const Message& m) { return m.to == 3; });
  ASSERT_EQ(answers.size(), 1u) << s.trail();
  EXPECT_EQ(answers[0].type, MessageType::kPreVoteResponse)
      << "the answer is a pre-vote rejection, nothing that claims leadership" << s.trail();
  s.step(answers[0]);
  EXPECT_EQ(s.term(3), 5u) << s.trail();
  EXPECT_EQ(s.leader_of(3), kNoNode) << "node 2 is not a leader: node 3 knows none" << s.trail();
}

TEST(ElectionRules, APreVoteForTheVotersOwnTermIsRefusedWhileItFollowsALeader) {
  Script::Options o;
  o.pre_vote = true;  // check_quorum off: no lease, only the pre-vote rule itself
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.take();
  Message pv = msg(MessageType::kPreVote, 3, 2, s.term(2));  // asks for term 1, node 2's own
  pv.index = 100;
  pv.log_term = 1;
  s.step(pv);
  auto r = s.take([](const Message& m) { return m.type == MessageType::kPreVoteResponse; });
  ASSERT_EQ(r.size(), 1u) << s.trail();
  EXPECT_TRUE(r[0].reject)
      << "a pre-vote is granted regardless of vote and leader only for a term above the "
         "voter's; in its own term node 2 follows leader 1 and would not vote for node 3"
      << s.trail();
}

TEST(ElectionRules, APreVoteIsGrantedAtTheTermTheCandidateAskedFor) {
  Script::Options o;
  o.pre_vote = true;
  Script s({1, 2, 3}, o);
  s.step(msg(MessageType::kHeartbeat, 2, 1, 2));  // node 1 is at term 2
  s.step(msg(MessageType::kHeartbeat, 3, 2, 1));  // nodes 2 and 3 at term 1
  s.step(msg(MessageType::kHeartbeat, 2, 3, 1));
  s.take();
  s.campaign(1);  // pre-vote for term 3
  s.stabilize();
  EXPECT_EQ(s.role(1), Role::kLeader)
      << "nodes 2 and 3, at term 1, grant the pre-vote with the term asked for (3): a grant "
         "carrying their own term 1 would be dropped as stale by node 1 at term 2"
      << s.trail();
  EXPECT_EQ(s.term(1), 3u) << s.trail();
}

TEST(ElectionRules, GrantingAVoteRestartsTheElectionTimer) {
  Script s({1, 2, 3});
  // Node 2 moves to term 1 by refusing node 3, whose log is behind node 2's.
  s.storage(2).append({Entry{1, 1, EntryType::kNormal, "x"}});
  s.restart(2);
  Message stale = msg(MessageType::kVote, 3, 2, 1);
  s.step(stale);
  s.take();
  ASSERT_EQ(s.term(2), 1u) << s.trail();
  s.tick(2, 9);
  ASSERT_EQ(s.role(2), Role::kFollower) << s.trail();
  Message good = msg(MessageType::kVote, 1, 2, 1);  // same term, an up-to-date log
  good.index = 1;
  good.log_term = 1;
  s.step(good);
  auto r = s.take([](const Message& m) { return m.type == MessageType::kVoteResponse; });
  ASSERT_EQ(r.size(), 1u) << s.trail();
  ASSERT_FALSE(r[0].reject) << s.trail();
  s.tick(2, 9);
  EXPECT_EQ(s.role(2), Role::kFollower)
      << "granting a vote restarts the election timer (§5.2): node 2 waits a whole timeout "
         "for the candidate it voted for before it campaigns itself"
      << s.trail();
}

TEST(ElectionRules, ANewLeaderWaitsAWholeHeartbeatIntervalBeforeItsFirstHeartbeat) {
  Script::Options o;
  o.heartbeat_ticks = 3;
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.tick(1, 2);                                               // two ticks into a heartbeat interval
  s.step(msg(MessageType::kHeartbeat, 2, 1, s.term(1) + 1));  // a newer leader: 1 steps down
  ASSERT_EQ(s.role(1), Role::kFollower) << s.trail();
  s.take();
  s.elect(1);  // leader again
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  s.take();
  s.tick(1);
  auto hb = [](const Message& m) { return m.type == MessageType::kHeartbeat; };
  EXPECT_TRUE(s.take(hb).empty())
      << "one tick into its leadership: the heartbeat interval (3 ticks) starts at the "
         "election, not where its previous leadership left off"
      << s.trail();
  s.tick(1, 2);
  EXPECT_EQ(s.take(hb).size(), 2u) << "at 3 ticks it heartbeats both followers" << s.trail();
}

TEST(ElectionRules, CampaignOnALeaderDoesNothing) {
  Script s({1, 2, 3});
  s.elect(1);
  uint64_t term = s.term(1);
  s.take();
  s.campaign(1);
  EXPECT_EQ(s.role(1), Role::kLeader) << "a leader has no election to start" << s.trail();
  EXPECT_EQ(s.term(1), term) << s.trail();
  EXPECT_TRUE(s.take().empty()) << s.trail();
}

TEST(ElectionRules, AnOrdinaryCampaignDoesNotOverrideTheLease) {
  Script::Options o;
  o.check_quorum = true;
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.take();
  s.campaign(3);  // node 3 times out early (or is told to campaign): no transfer
  for (const auto& m : s.take([](const Message& m) { return m.to == 2; })) s.step(m);
  EXPECT_EQ(s.term(2), 1u)
      << "only a leader transfer's vote requests override the lease; node 2 heard from leader "
         "1 less than an election timeout ago and ignores this one"
      << s.trail();
}

TEST(MembershipRules, ALearnerToldToCampaignDoesNot) {
  Script s({1, 2, 3});
  s.elect(1);
  s.add_node(4);
  s.change(1, ConfChange::Type::kAddLearner, 4);
  s.stabilize();
  s.campaign(4);
  EXPECT_EQ(s.role(4), Role::kFollower)
      << "a learner cannot be elected: it does not campaign" << s.trail();
  EXPECT_TRUE(s.take().empty()) << s.trail();
  s.step(msg(MessageType::kTimeoutNow, 1, 4, s.term(1)));
  EXPECT_EQ(s.role(4), Role::kFollower) << "not even when a leader tells it to" << s.trail();
}

}  // namespace etcdlab::lab2
