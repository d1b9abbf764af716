// Lab 2, parts B and D: what a follower does with what a leader (or another follower) sends it:
// whom it takes for the leader, what its rejections hint, where it passes on requests that are
// not its to serve, and what a snapshot's configuration does to it.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {
namespace {

std::vector<Entry> entries_of_terms(uint64_t first_index, std::vector<uint64_t> terms) {
  std::vector<Entry> out;
  for (uint64_t t : terms) {
    out.push_back(Entry{first_index, t, EntryType::kNormal, "e" + std::to_string(first_index)});
    ++first_index;
  }
  return out;
}

// A vote request of `term` that node `to` refuses (its log is longer), so that it adopts the
// term without knowing a leader or voting.
Message refused_vote_request(NodeId from, NodeId to, uint64_t term) {
  Message m = msg(MessageType::kVote, from, to, term);
  m.index = 0;
  m.log_term = 0;
  return m;
}

}  // namespace

TEST(ReplicationRules, AShortLogsRejectionHintsItsLastEntry) {
  Script s({1, 2, 3});
  s.step(append(2, 1, 1, 0, 0, entries_of_terms(1, {1, 1}), 0));
  s.take();
  s.step(append(2, 1, 2, 5, 2, entries_of_terms(6, {2}), 0));  // entry 6 after 5/2
  auto r = s.take();
  ASSERT_EQ(r.size(), 1u) << s.trail();
  EXPECT_TRUE(r[0].reject) << s.trail();
  EXPECT_EQ(r[0].index, 5u) << "the rejection names the append it answers (after 5)" << s.trail();
  EXPECT_EQ(r[0].reject_hint, 2u) << "node 1 has nothing past 2: the leader should look there"
                                  << s.trail();
  EXPECT_EQ(r[0].log_term, 1u) << "with the term of node 1's entry 2" << s.trail();
}

TEST(ReplicationRules, ARejectionHintSkipsTheFollowersEntriesOfLaterTerms) {
  Script s({1, 2, 3});
  s.step(append(2, 1, 4, 0, 0, entries_of_terms(1, {1, 4, 4}), 1));
  s.take();
  // A leader of term 5 whose entry 3 is of term 3 (node 1's is of term 4).
  s.step(append(3, 1, 5, 3, 3, entries_of_terms(4, {5}), 1));
  auto r = s.take();
  ASSERT_EQ(r.size(), 1u) << s.trail();
  EXPECT_TRUE(r[0].reject) << s.trail();
  EXPECT_EQ(r[0].reject_hint, 1u)
      << "node 1's entries 2 and 3 are of term 4, later than the leader's term 3 at 3: neither "
         "can match, so the hint is the last entry of a term <= 3, entry 1"
      << s.trail();
  EXPECT_EQ(r[0].log_term, 1u) << s.trail();
}

TEST(ReplicationRules, AnAppendBelowTheCommitIndexIsAnsweredWithTheCommitIndex) {
  Script s({1, 2, 3});
  s.step(append(2, 1, 1, 0, 0, entries_of_terms(1, {1, 1, 1, 1}), 3));
  s.take();
  s.step(append(2, 1, 1, 1, 1, entries_of_terms(2, {1}), 3));  // a delayed copy: entry 2 after 1
  auto r = s.take();
  ASSERT_EQ(r.size(), 1u) << s.trail();
  EXPECT_FALSE(r[0].reject) << s.trail();
  EXPECT_EQ(r[0].index, 3u) << "everything up to the commit index 3 matches the leader's log: "
                               "the answer says so"
                            << s.trail();
  EXPECT_EQ(s.status(1).last_index, 4u) << "and nothing is truncated" << s.trail();
}

TEST(ReplicationRules, AFollowerLearnsTheLeaderFromAHeartbeat) {
  Script s({1, 2, 3});
  s.step(refused_vote_request(3, 1, 2));  // node 1 moves to term 2, knowing no leader
  ASSERT_EQ(s.term(1), 2u) << s.trail();
  ASSERT_EQ(s.leader_of(1), kNoNode) << s.trail();
  s.take();
  Message hb = msg(MessageType::kHeartbeat, 2, 1, 2);
  s.step(hb);
  EXPECT_EQ(s.leader_of(1), 2u) << "a heartbeat of its term comes from that term's leader"
                                << s.trail();
}

TEST(SnapshotRules, AFollowerLearnsTheLeaderFromASnapshot) {
  Script s({1, 2, 3});
  s.step(refused_vote_request(3, 1, 2));
  ASSERT_EQ(s.leader_of(1), kNoNode) << s.trail();
  s.take();
  s.step(snapshot_message(2, 1, 2, SnapshotMeta{5, 2, {{1, 2, 3}, {}}}));
  EXPECT_EQ(s.leader_of(1), 2u) << "only the leader of a term sends snapshots in it" << s.trail();
}

TEST(SnapshotRules, AnInstalledSnapshotBringsItsConfiguration) {
  Script s({1, 2, 3});
  s.step(snapshot_message(2, 1, 1, SnapshotMeta{5, 1, {{1, 2, 3, 4}, {5}}}));
  EXPECT_EQ(s.status(1).conf.voters, (std::vector<NodeId>{1, 2, 3, 4}))
      << "the snapshot's configuration replaces the follower's" << s.trail();
  EXPECT_EQ(s.status(1).conf.learners, std::vector<NodeId>{5}) << s.trail();
}

TEST(ReadIndexRules, AReadForwardedToAFollowerGoesOnToItsLeaderOrIsDropped) {
  Script s({1, 2, 3});
  Message read = msg(MessageType::kReadIndex, 3, 2, 0);
  read.context = "r";
  s.step(read);  // node 2 knows no leader
  EXPECT_TRUE(s.in_flight().empty()) << "no leader to pass it to: dropped" << s.trail();
  s.elect(1);
  s.step(read);  // node 3 still took node 2 for the leader
  auto sent = s.take();
  ASSERT_EQ(sent.size(), 1u) << s.trail();
  EXPECT_EQ(sent[0].type, MessageType::kReadIndex) << s.trail();
  EXPECT_EQ(sent[0].to, 1u) << "node 2 passes it on to its leader" << s.trail();
  EXPECT_EQ(sent[0].context, "r") << s.trail();
}

TEST(ElectionRules, ALatePreVoteResponseIsIgnoredByTheCandidate) {
  Script::Options o;
  o.pre_vote = true;
  Script s({1, 2, 3}, o);
  s.campaign(1);  // pre-candidate: pre-votes to 2 and 3
  auto prevotes = s.take();
  ASSERT_EQ(prevotes.size(), 2u) << s.trail();
  for (const auto& m : prevotes) s.step(m);
  auto answers = s.take([](const Message& m) { return m.type == MessageType::kPreVoteResponse; });
  ASSERT_EQ(answers.size(), 2u) << s.trail();
  s.step(answers[0]);  // one grant and its own: node 1 wins the pre-vote and campaigns
  ASSERT_EQ(s.role(1), Role::kCandidate) << s.trail();
  ASSERT_EQ(s.term(1), 1u) << s.trail();
  s.step(answers[1]);  // the other grant arrives late
  EXPECT_EQ(s.role(1), Role::kCandidate) << s.trail();
  EXPECT_EQ(s.term(1), 1u)
      << "a pre-vote answer means nothing to a candidate: it must not be counted as a vote, nor "
         "start another campaign at a higher term"
      << s.trail();
  s.stabilize();
  EXPECT_EQ(s.role(1), Role::kLeader) << s.trail();
  EXPECT_EQ(s.term(1), 1u) << s.trail();
}

TEST(ElectionRules, ALateVoteResponseIsIgnoredByAPreCandidate) {
  Script::Options o;
  o.pre_vote = true;
  Script s({1, 2, 3}, o);
  s.campaign(1);
  for (const auto& m : s.take()) s.step(m);  // pre-votes granted
  for (const auto& m : s.take()) s.step(m);  // node 1 campaigns at term 1
  ASSERT_EQ(s.role(1), Role::kCandidate) << s.trail();
  for (const auto& m : s.take()) s.step(m);  // votes granted by 2 and 3 ...
  auto late = s.take([](const Message& m) { return m.type == MessageType::kVoteResponse; });
  ASSERT_EQ(late.size(), 2u) << s.trail();  // ... but the answers are delayed
  s.tick(1, 2 * o.election_ticks);  // the candidate times out and starts over with a pre-vote
  ASSERT_EQ(s.role(1), Role::kPreCandidate) << s.trail();
  s.take();
  for (const auto& m : late) s.step(m);
  EXPECT_EQ(s.role(1), Role::kPreCandidate)
      << "votes of the earlier campaign are no pre-votes: counting them would make node 1 "
         "leader without a pre-vote round or a campaign"
      << s.trail();
}

}  // namespace etcdlab::lab2
