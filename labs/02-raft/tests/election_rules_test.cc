// Lab 2, part A: election. Each test checks one rule, most of them sentences of the Raft paper
// (§5.1, §5.2, §5.4.1) or of its thesis (§9.6 pre-vote, §6.2 check-quorum), on a scripted
// network (raft_script.h).
#include <gtest/gtest.h>

#include <set>

#include "raft_script.h"

namespace etcdlab::lab2 {
namespace {

// Node 1, leader of term 1, sends node 2 its snapshot at index 10.
Message snapshot_from_leader() {
  return snapshot_message(1, 2, 1, SnapshotMeta{10, 1, {{1, 2, 3}, {}}});
}

size_t count(const std::vector<Message>& ms, MessageType type) {
  size_t n = 0;
  for (const auto& m : ms) n += m.type == type;
  return n;
}

}  // namespace

TEST(ElectionRules, NodesStartAsFollowers) {
  Script s({1, 2, 3});
  for (NodeId id : {1, 2, 3}) {
    EXPECT_EQ(s.role(id), Role::kFollower) << "§5.2: servers start up as followers" << s.trail();
    EXPECT_EQ(s.term(id), 0u);
  }
}

TEST(ElectionRules, FollowerStartsElectionAfterTimeout) {
  Script s({1, 2, 3});
  for (int i = 0; i < 2 * 10 && s.role(1) == Role::kFollower; ++i) s.tick(1);
  EXPECT_EQ(s.role(1), Role::kCandidate)
      << "§5.2: a follower that hears nothing for an election timeout becomes candidate"
      << s.trail();
  EXPECT_EQ(s.term(1), 1u) << "it increments its term";
  EXPECT_EQ(s.status(1).hard_state.vote, 1u) << "and votes for itself";
  auto sent = s.take();
  EXPECT_EQ(count(sent, MessageType::kVote), 2u) << "and asks every other voter" << s.trail();
  for (const auto& m : sent) {
    EXPECT_EQ(m.term, 1u);
    EXPECT_EQ(m.index, 0u) << "the request carries its last log index";
  }
}

TEST(ElectionRules, ElectionTimeoutIsRandomizedWithinOneToTwoTimeouts) {
  std::set<int> timeouts;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    Script::Options o;
    o.seed = seed;
    Script s({1, 2, 3}, o);
    int ticks = 0;
    while (s.role(1) == Role::kFollower && ticks < 100) {
      s.tick(1);
      ticks++;
    }
    EXPECT_GE(ticks, 10) << "never before election_ticks (seed " << seed << ")";
    EXPECT_LT(ticks, 20) << "always before 2 x election_ticks (seed " << seed << ")";
    timeouts.insert(ticks);
  }
  EXPECT_GE(timeouts.size(), 3u) << "§5.2: timeouts are chosen randomly, so split votes are rare";
}

TEST(ElectionRules, CandidateWithMajorityBecomesLeader) {
  Script s({1, 2, 3, 4, 5});
  s.cut(1, 4);
  s.cut(1, 5);  // only 2 and 3 answer: 3 votes of 5 with its own
  s.elect(1);
  EXPECT_EQ(s.role(1), Role::kLeader) << "§5.2: a majority of votes wins" << s.trail();
  EXPECT_EQ(s.term(1), 1u);
}

TEST(ElectionRules, CandidateWithoutMajorityDoesNotWin) {
  Script s({1, 2, 3, 4, 5});
  s.cut(1, 3);
  s.cut(1, 4);
  s.cut(1, 5);
  s.elect(1);
  EXPECT_EQ(s.role(1), Role::kCandidate) << "2 votes of 5 do not make a leader" << s.trail();
}

TEST(ElectionRules, EachNodeVotesAtMostOncePerTerm) {
  Script s({1, 2, 3});
  s.step(msg(MessageType::kVote, 2, 1, 1));
  s.step(msg(MessageType::kVote, 3, 1, 1));
  auto replies = s.take([](const Message& m) { return m.type == MessageType::kVoteResponse; });
  ASSERT_EQ(replies.size(), 2u) << s.trail();
  EXPECT_FALSE(replies[0].reject) << "first come, first served (§5.2)" << s.trail();
  EXPECT_TRUE(replies[1].reject) << "at most one vote per term" << s.trail();
  s.step(msg(MessageType::kVote, 2, 1, 1));
  auto again = s.take();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_FALSE(again[0].reject) << "asking again for the same candidate gets the same answer";
}

// Gives node `id` a log of entries 1..last with the given terms, as if it had been
// replicated, and restarts it from that storage.
void give_log(Script& s, NodeId id, std::vector<uint64_t> terms) {
  std::vector<Entry> entries;
  for (size_t i = 0; i < terms.size(); ++i) {
    entries.push_back(Entry{i + 1, terms[i], EntryType::kNormal, "e" + std::to_string(i + 1)});
  }
  s.storage(id).append(entries);
  s.storage(id).set_hard_state({terms.back(), kNoNode, 0});
  s.restart(id);
}

TEST(ElectionRules, VoteIsRefusedToACandidateWithAStaleLog) {
  Script s({1, 2, 3});
  give_log(s, 2, {1, 1});  // node 2 holds entries 1 and 2 of term 1
  // Node 3 asks for votes at term 5 claiming only entry 1: its log is behind node 2's.
  Message vote = msg(MessageType::kVote, 3, 2, 5);
  vote.index = 1;
  vote.log_term = 1;
  s.step(vote);
  auto replies = s.take([](const Message& m) { return m.type == MessageType::kVoteResponse; });
  ASSERT_EQ(replies.size(), 1u) << s.trail();
  EXPECT_TRUE(replies[0].reject)
      << "§5.4.1: a voter denies its vote if its own log is more up to date" << s.trail();
  EXPECT_EQ(s.term(2), 5u) << "the higher term is still adopted";
  // A log that ends in a higher term is more up to date, however long the other one is.
  Message longer = msg(MessageType::kVote, 3, 2, 6);
  longer.index = 10;
  longer.log_term = 0;
  s.step(longer);
  replies = s.take();
  ASSERT_EQ(replies.size(), 1u) << s.trail();
  EXPECT_TRUE(replies[0].reject) << "last term 0 < 1: stale, even with 10 entries" << s.trail();
}

TEST(ElectionRules, VoteIsGrantedToAnEquallyUpToDateCandidate) {
  Script s({1, 2, 3});
  give_log(s, 2, {1, 1});
  Message vote = msg(MessageType::kVote, 3, 2, 5);
  vote.index = 2;
  vote.log_term = 1;
  s.step(vote);
  auto replies = s.take();
  ASSERT_EQ(replies.size(), 1u) << s.trail();
  EXPECT_FALSE(replies[0].reject) << "same last term and index: up to date" << s.trail();
}

TEST(ElectionRules, HigherTermMakesAnyNodeAFollower) {
  Script s({1, 2, 3});
  s.elect(1);
  ASSERT_EQ(s.role(1), Role::kLeader);
  s.step(msg(MessageType::kHeartbeat, 2, 1, 7));
  EXPECT_EQ(s.role(1), Role::kFollower)
      << "§5.1: a server that sees a larger term reverts to follower" << s.trail();
  EXPECT_EQ(s.term(1), 7u) << "and adopts the term";
  EXPECT_EQ(s.leader_of(1), 2u) << "a heartbeat of that term names the leader";
}

TEST(ElectionRules, StaleTermMessagesAreIgnored) {
  Script s({1, 2, 3});
  s.elect(1);
  s.step(msg(MessageType::kHeartbeat, 2, 1, 7));  // node 1 is now a follower at term 7
  s.take();
  Message old = msg(MessageType::kAppend, 3, 1, 2);
  old.entries = {Entry{1, 2, EntryType::kNormal, "stale"}};
  s.step(old);
  EXPECT_EQ(s.term(1), 7u) << "§5.1: a request with a stale term is rejected" << s.trail();
  EXPECT_EQ(s.status(1).last_index, 1u) << "and its entries are not taken" << s.trail();
}

TEST(ElectionRules, CandidateStepsDownForALeaderOfItsTerm) {
  Script s({1, 2, 3});
  s.campaign(1);
  ASSERT_EQ(s.role(1), Role::kCandidate);
  s.take();
  s.step(msg(MessageType::kHeartbeat, 2, 1, 1));
  EXPECT_EQ(s.role(1), Role::kFollower)
      << "§5.2: a candidate that hears from a leader of its term returns to follower" << s.trail();
  EXPECT_EQ(s.leader_of(1), 2u);
  auto answer = s.take();
  ASSERT_EQ(answer.size(), 1u) << "and answers the heartbeat, as a follower does" << s.trail();
  EXPECT_EQ(answer[0].type, MessageType::kHeartbeatResponse);

  // The same for an append, and for a snapshot: the candidate steps down, then takes it.
  Script a({1, 2, 3});
  a.campaign(1);
  a.take();
  Message app = msg(MessageType::kAppend, 3, 1, 1);
  app.entries = {Entry{1, 1, EntryType::kNormal, "from 3"}};
  a.step(app);
  EXPECT_EQ(a.role(1), Role::kFollower) << a.trail();
  EXPECT_EQ(a.leader_of(1), 3u) << a.trail();
  EXPECT_EQ(a.status(1).last_index, 1u) << "the append's entry is taken" << a.trail();
  auto acks = a.take();
  ASSERT_EQ(acks.size(), 1u) << a.trail();
  EXPECT_EQ(acks[0].type, MessageType::kAppendResponse);
  EXPECT_FALSE(acks[0].reject);

  Script sn({1, 2, 3});
  sn.campaign(1);
  sn.take();
  sn.step(snapshot_message(2, 1, 1, SnapshotMeta{10, 1, {{1, 2, 3}, {}}}));
  EXPECT_EQ(sn.role(1), Role::kFollower) << sn.trail();
  EXPECT_EQ(sn.leader_of(1), 2u) << sn.trail();
  EXPECT_EQ(sn.status(1).first_index, 11u) << "the snapshot is installed" << sn.trail();
}

TEST(ElectionRules, AppendsHeartbeatsOrSnapshotsAloneKeepAFollowerFromCampaigning) {
  for (MessageType only : {MessageType::kAppend, MessageType::kHeartbeat}) {
    SCOPED_TRACE(to_string(only));
    Script s({1, 2, 3});
    s.elect(1);
    for (int i = 0; i < 5 * 10; ++i) {
      s.tick(1);
      s.propose(1, "p");
      for (const auto& m : s.take()) {
        if (m.to != 2 || m.type == only) s.step(m);  // node 2 hears only `only` messages
      }
      s.tick(2);
    }
    EXPECT_EQ(s.role(2), Role::kFollower) << s.trail(10);
    EXPECT_EQ(s.term(2), 1u) << "each message from the leader resets the election timer"
                             << s.trail(10);
  }
  // Node 2 hears nothing but the leader's snapshot, every 5 ticks (the same one: stale after
  // the first, and still a message from its leader).
  Script s({1, 2, 3});
  s.elect(1);
  s.take();
  for (int i = 0; i < 5 * 10; ++i) {
    if (i % 5 == 0) s.step(snapshot_from_leader());
    s.take();
    s.tick(2);
  }
  EXPECT_EQ(s.role(2), Role::kFollower) << s.trail(10);
  EXPECT_EQ(s.term(2), 1u) << "a snapshot from the leader resets the election timer too"
                           << s.trail(10);
}

TEST(ElectionRules, ARestartedFollowerLearnsItsLeaderFromItsMessages) {
  for (MessageType only : {MessageType::kAppend, MessageType::kHeartbeat}) {
    SCOPED_TRACE(to_string(only));
    Script s({1, 2, 3});
    s.elect(1);
    s.restart(2);
    ASSERT_EQ(s.leader_of(2), kNoNode) << s.trail();
    s.tick(1);
    s.propose(1, "p");
    for (const auto& m : s.take()) {
      if (m.to != 2 || m.type == only) s.step(m);
    }
    EXPECT_EQ(s.leader_of(2), 1u) << "an append or a heartbeat of its term names the leader"
                                  << s.trail();
  }
  Script s({1, 2, 3});
  s.elect(1);
  s.restart(2);
  s.step(snapshot_from_leader());
  EXPECT_EQ(s.leader_of(2), 1u) << "and so does a snapshot" << s.trail();
}

TEST(ElectionRules, SplitVoteStartsANewElectionAfterTimeout) {
  Script s({1, 2, 3});
  s.isolate(1);
  s.campaign(1);
  s.stabilize();
  ASSERT_EQ(s.role(1), Role::kCandidate);
  for (int i = 0; i < 2 * 10 && s.term(1) == 1; ++i) s.tick(1);
  EXPECT_EQ(s.role(1), Role::kCandidate) << s.trail();
  EXPECT_EQ(s.term(1), 2u)
      << "§5.2: without a winner the candidate times out and starts a new election" << s.trail();
}

TEST(ElectionRules, NewLeaderAppendsAnEmptyEntryOfItsTerm) {
  Script s({1, 2, 3});
  s.campaign(1);
  for (const auto& m : s.take()) s.step(m);  // the vote requests
  for (const auto& m : s.take()) s.step(m);  // the votes
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  ASSERT_EQ(s.status(1).last_index, 1u) << s.trail();
  EXPECT_EQ(s.storage(1).term(1), 1u)
      << "§8: a new leader appends an empty entry of its term (and persists it)" << s.trail();
  size_t appends = 0;
  for (const auto& m : s.in_flight()) {
    appends += m.type == MessageType::kAppend && m.entries.size() == 1;
  }
  EXPECT_EQ(appends, 2u) << "and sends it to every follower at once" << s.trail();
}

TEST(ElectionRules, LeaderSendsHeartbeatsEveryHeartbeatTimeout) {
  Script s({1, 2, 3});
  s.elect(1);
  s.take();
  s.tick(1);
  auto sent = s.take();
  EXPECT_EQ(count(sent, MessageType::kHeartbeat), 2u)
      << "a leader heartbeats every heartbeat_ticks to hold its authority" << s.trail();

  Script::Options o;
  o.heartbeat_ticks = 3;
  Script three({1, 2, 3}, o);
  three.elect(1);
  three.take();
  std::vector<size_t> per_tick;
  for (int i = 0; i < 6; ++i) {
    three.tick(1);
    per_tick.push_back(count(three.take(), MessageType::kHeartbeat));
  }
  EXPECT_EQ(per_tick, (std::vector<size_t>{0, 0, 2, 0, 0, 2}))
      << "with heartbeat_ticks = 3: one round every third tick" << three.trail();
}

TEST(ElectionRules, ANewLeaderStartsEveryFollowerAtItsLastIndexPlusOne) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "x");
  s.stabilize();  // node 1 leads term 1 with entries 1..2
  s.isolate(1);
  s.campaign(2);
  for (const auto& m : s.take([](const Message& m) { return m.to == 3; })) s.step(m);
  for (const auto& m : s.take([](const Message& m) { return m.to == 2; })) s.step(m);
  ASSERT_EQ(s.role(2), Role::kLeader) << s.trail();
  for (NodeId f : {1, 3}) {
    ProgressStatus p = s.status(2).progress.at(f);
    EXPECT_EQ(p.state, ProgressStatus::State::kProbe) << "node " << f << s.trail();
    EXPECT_EQ(p.match, 0u) << "nothing is known of node " << f << " yet" << s.trail();
    EXPECT_EQ(p.next, 3u) << "next = the leader's last index (2, before its empty entry) + 1"
                          << s.trail();
  }
  // Node 1 comes back, node 2 leads on; then node 1 is elected again (term 3): what it knew
  // of its followers as the leader of term 1 is forgotten.
  s.heal();
  s.stabilize();
  s.isolate(2);
  s.campaign(1);
  for (const auto& m : s.take([](const Message& m) { return m.to == 3; })) s.step(m);
  for (const auto& m : s.take([](const Message& m) { return m.to == 1; })) s.step(m);
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  ProgressStatus p = s.status(1).progress.at(3);
  EXPECT_EQ(p.match, 0u) << "a new term, a new start" << s.trail();
  EXPECT_EQ(p.state, ProgressStatus::State::kProbe) << s.trail();
}

TEST(ElectionRules, ACandidateKnowsNoLeaderAndWaitsATimeoutPerTerm) {
  Script s({1, 2, 3});
  s.elect(1);
  s.isolate(2);
  s.campaign(2);
  EXPECT_EQ(s.leader_of(2), kNoNode) << "a candidate knows no leader" << s.trail();
  uint64_t start = s.term(2);
  for (int i = 0; i < 10 * 10; ++i) s.tick(2);
  EXPECT_LE(s.term(2), start + 10)
      << "100 ticks are at most 10 election timeouts: a term per timeout, not per tick"
      << s.trail(10);
  EXPECT_GE(s.term(2), start + 5) << s.trail(10);
}

TEST(ElectionRules, ANewLeaderWaitsAnElectionTimeoutBeforeItsFirstQuorumCheck) {
  Script::Options o;
  o.check_quorum = true;
  Script s({1, 2, 3}, o);
  s.campaign(1);
  auto votes = s.take();
  for (int i = 0; i < 9; ++i) s.tick(1);  // a slow election: the votes take 9 ticks
  for (const auto& m : votes) s.step(m);
  for (const auto& m : s.take([](const Message& m) { return m.to == 1; })) s.step(m);
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  s.take();
  for (int i = 0; i < 5; ++i) s.tick(1);
  EXPECT_EQ(s.role(1), Role::kLeader)
      << "the leader checks its quorum an election timeout after it became leader, not after "
         "it became candidate"
      << s.trail();
}

TEST(ElectionRules, AnIsolatedPreCandidateTriesOncePerTimeout) {
  Script::Options o;
  o.pre_vote = true;
  Script s({1, 2, 3}, o);
  s.isolate(1);
  size_t pre_votes = 0;
  for (int i = 0; i < 10 * 10; ++i) {
    s.tick(1);
    pre_votes += count(s.take(), MessageType::kPreVote);
  }
  EXPECT_LE(pre_votes, 2u * 10)
      << "100 ticks are at most 10 election timeouts: at most 10 pre-vote rounds of 2 "
         "messages, not a round every tick (an unanswered round waits a whole timeout, and "
         "a pre-candidate's term does not move, so nothing else restarts its timer)"
      << s.trail(10);
  EXPECT_GE(pre_votes, 2u * 5) << "but it does keep trying" << s.trail(10);
}

TEST(ElectionRules, CheckQuorumLooksBackAWholeElectionTimeout) {
  Script::Options o;
  o.check_quorum = true;
  Script s({1, 2, 3}, o);
  s.elect(1);
  for (int i = 0; i < 4 * 10; ++i) {
    s.tick(1);
    if (i % 3 == 0) {
      s.stabilize();  // the followers answer on one tick in three
    } else {
      s.take();
    }
  }
  EXPECT_EQ(s.role(1), Role::kLeader)
      << "each election timeout the leader heard from a quorum: it stays, whatever it heard "
         "since the last tick"
      << s.trail(10);
}

TEST(ElectionRules, FollowerHearingFromLeaderDoesNotCampaign) {
  Script s({1, 2, 3});
  s.elect(1);
  for (int i = 0; i < 50; ++i) {
    s.tick(1);
    s.tick(2);
    s.tick(3);
    s.stabilize();
  }
  EXPECT_EQ(s.role(1), Role::kLeader) << "heartbeats keep followers from timing out" << s.trail();
  EXPECT_EQ(s.term(2), 1u) << s.trail();
}

TEST(ElectionRules, PreVoteDoesNotRaiseTheTerm) {
  Script::Options o;
  o.pre_vote = true;
  Script s({1, 2, 3}, o);
  s.isolate(3);
  for (int round = 0; round < 5; ++round) {
    s.tick(3, 20);
    s.stabilize();
  }
  EXPECT_EQ(s.term(3), 0u)
      << "§9.6: a node that cannot win a pre-vote never raises its term, so it cannot "
         "disrupt the cluster when it rejoins"
      << s.trail();
  EXPECT_EQ(s.role(3), Role::kPreCandidate) << s.trail();
}

TEST(ElectionRules, PreVoteThenVoteElectsALeader) {
  Script::Options o;
  o.pre_vote = true;
  Script s({1, 2, 3}, o);
  s.elect(1);
  EXPECT_EQ(s.role(1), Role::kLeader) << s.trail();
  EXPECT_EQ(s.term(1), 1u) << "the pre-vote round does not use up a term" << s.trail();
}

TEST(ElectionRules, CheckQuorumLeaderStepsDownWithoutAQuorum) {
  Script::Options o;
  o.check_quorum = true;
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.isolate(1);
  for (int i = 0; i < 2 * 10 + 1; ++i) {
    s.tick(1);
    s.stabilize();
  }
  EXPECT_EQ(s.role(1), Role::kFollower)
      << "§6.2: a leader that hears from no quorum for an election timeout steps down" << s.trail();
}

TEST(ElectionRules, CheckQuorumLeaderWithAQuorumStays) {
  Script::Options o;
  o.check_quorum = true;
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.isolate(3);
  for (int i = 0; i < 5 * 10; ++i) {
    s.tick(1);
    s.stabilize();
  }
  EXPECT_EQ(s.role(1), Role::kLeader) << "node 2 still answers: a quorum" << s.trail();
}

TEST(ElectionRules, FollowerWithALiveLeaderIgnoresVoteRequests) {
  Script::Options o;
  o.check_quorum = true;
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.take();
  Message vote = msg(MessageType::kVote, 3, 2, 9);
  vote.index = 100;
  vote.log_term = 9;
  s.step(vote);
  EXPECT_EQ(s.term(2), 1u)
      << "with check-quorum, a follower that heard from its leader within an election "
         "timeout ignores vote requests (the leader lease), term included"
      << s.trail();
  EXPECT_TRUE(s.take().empty()) << s.trail();
}

TEST(ElectionRules, TimeoutsDifferBetweenTheNodesOfOneCluster) {
  // Every node of a cluster gets the same config.seed: the Rng must be seeded with the id too,
  // or all of them time out at the same tick and split the vote again and again.
  for (uint64_t seed : {1, 2, 3}) {
    Script::Options o;
    o.seed = seed;
    Script s({1, 2, 3, 4, 5}, o);
    std::set<int> timeouts;
    for (NodeId id : {1, 2, 3, 4, 5}) {
      int ticks = 0;
      while (s.role(id) == Role::kFollower && ticks < 4 * 10) {
        s.tick(id);
        ticks++;
      }
      timeouts.insert(ticks);
    }
    EXPECT_GT(timeouts.size(), 1u) << "seed " << seed << ": all five nodes timed out after "
                                   << *timeouts.begin() << " ticks" << s.trail(20);
  }
}

TEST(ElectionRules, RejectedVoteRequestsDoNotResetTheElectionTimer) {
  Script::Options o;
  o.pre_vote = true;
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.isolate(3);
  s.propose(1, "3 lacks this");
  s.stabilize();
  s.isolate(1);  // the leader is gone; node 2 must take over
  Message pre_vote = msg(MessageType::kPreVote, 3, 2, s.term(3) + 1);
  pre_vote.index = 1;  // node 3's log is behind node 2's: refused
  pre_vote.log_term = 1;
  for (int i = 0; i < 3 * 10 && s.role(2) == Role::kFollower; ++i) {
    s.step(pre_vote);
    s.tick(2);
  }
  EXPECT_NE(s.role(2), Role::kFollower)
      << "a node with a stale log asked node 2 for a (pre-)vote before every tick; refusing "
         "must not reset the election timer, or such a node keeps everyone from taking over"
      << s.trail(20);
}

TEST(ElectionRules, VoteOfAnOlderTermIsNotCounted) {
  Script s({1, 2, 3});
  s.campaign(1);  // term 1
  s.take();
  s.campaign(1);  // term 2: the first election went nowhere
  s.take();
  ASSERT_EQ(s.term(1), 2u) << s.trail();
  Message late = msg(MessageType::kVoteResponse, 2, 1, 1);  // node 2's vote of term 1
  s.step(late);
  EXPECT_EQ(s.role(1), Role::kCandidate)
      << "a vote granted in term 1 says nothing about term 2: counting it would let two "
         "candidates win one term"
      << s.trail();
}

TEST(ElectionRules, DuplicatedVoteIsCountedOnce) {
  Script s({1, 2, 3, 4, 5});
  s.campaign(1);
  s.take();
  Message grant = msg(MessageType::kVoteResponse, 2, 1, 1);
  for (int i = 0; i < 3; ++i) s.step(grant);  // the network duplicated it
  EXPECT_EQ(s.role(1), Role::kCandidate)
      << "two votes of five (its own and node 2's), however often node 2's arrives" << s.trail();
}

TEST(ElectionRules, LeaderUnderTheLeaseIgnoresVoteRequestsToo) {
  Script::Options o;
  o.check_quorum = true;
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.take();
  Message vote = msg(MessageType::kVote, 3, 1, 9);
  vote.index = 100;
  vote.log_term = 9;
  s.step(vote);
  EXPECT_EQ(s.role(1), Role::kLeader)
      << "with check-quorum the leader heard from a quorum within an election timeout: a vote "
         "request then is ignored, by the leader as by its followers"
      << s.trail();
  EXPECT_EQ(s.term(1), 1u) << "its term included" << s.trail();
}

TEST(ElectionRules, StalePreVoteIsRejectedWithTheVotersTerm) {
  Script::Options o;
  o.pre_vote = true;
  Script s({1, 2, 3}, o);
  s.step(msg(MessageType::kHeartbeat, 1, 2, 5));  // node 2 follows a leader of term 5
  s.take();
  s.campaign(3);  // node 3, at term 0, asks for term 1
  auto asks = s.take([](const Message& m) { return m.type == MessageType::kPreVote && m.to == 2; });
  ASSERT_EQ(asks.size(), 1u) << s.trail();
  s.step(asks[0]);
  auto answers = s.take([](const Message& m) { return m.to == 3; });
  ASSERT_EQ(answers.size(), 1u)
      << "a pre-vote of an older term gets an answer: a rejection at the voter's own term"
      << s.trail();
  EXPECT_TRUE(answers[0].reject) << s.trail();
  EXPECT_EQ(answers[0].term, 5u) << s.trail();
  s.step(answers[0]);
  EXPECT_EQ(s.term(3), 5u)
      << "the pre-candidate adopts the higher term, so its next pre-vote asks for a term that "
         "can win; unanswered, it would ask for term 1 forever"
      << s.trail();
}

TEST(ElectionRules, AMajorityOfRejectionsEndsTheElectionAtOnce) {
  Script s({1, 2, 3});
  s.elect(2);  // entry 1 of term 1 on every node
  s.isolate(1);
  s.propose(2, "1 lacks this");
  s.stabilize();
  s.heal();
  s.take();
  s.campaign(1);  // term 2, with a stale log
  ASSERT_EQ(s.role(1), Role::kCandidate) << s.trail();
  s.stabilize();
  EXPECT_EQ(s.role(1), Role::kFollower)
      << "two of three voters refused: node 1 lost, and becomes a follower without waiting for "
         "a timeout"
      << s.trail();
}

TEST(ElectionRules, AnEvenClusterNeedsAStrictMajority) {
  Script s({1, 2, 3, 4});
  s.campaign(1);
  s.take();
  s.step(msg(MessageType::kVoteResponse, 2, 1, 1));
  EXPECT_EQ(s.role(1), Role::kCandidate) << "2 votes of 4 are no majority" << s.trail();
  s.step(msg(MessageType::kVoteResponse, 3, 1, 1));
  EXPECT_EQ(s.role(1), Role::kLeader) << "3 of 4 are" << s.trail();
}

TEST(ElectionRules, RefusalsAreCountedAsAMajorityToo) {
  Script s({1, 2, 3, 4, 5});
  s.campaign(1);
  s.take();
  Message no = msg(MessageType::kVoteResponse, 2, 1, 1);
  no.reject = true;
  s.step(no);
  no.from = 3;
  s.step(no);
  EXPECT_EQ(s.role(1), Role::kCandidate) << "2 refusals of 5: it may still win" << s.trail();
  no.from = 4;
  s.step(no);
  EXPECT_EQ(s.role(1), Role::kFollower) << "3 refusals of 5: it cannot" << s.trail();
}

}  // namespace etcdlab::lab2
