// Lab 2, part B: replication and commit (§5.3, §5.4.2), on a scripted network.
#include <gtest/gtest.h>

#include "raft_script.h"

namespace etcdlab::lab2 {
namespace {

Entry entry(uint64_t index, uint64_t term, std::string data = "") {
  return Entry{index, term, EntryType::kNormal, data.empty() ? "e" + std::to_string(index) : data};
}

Message append_response(NodeId from, NodeId to, uint64_t term, uint64_t index) {
  Message m;
  m.type = MessageType::kAppendResponse;
  m.from = from;
  m.to = to;
  m.term = term;
  m.index = index;
  return m;
}

// Delivers every message of one type now in flight.
void deliver(Script& s, MessageType type) {
  for (const auto& m : s.take([&](const Message& m) { return m.type == type; })) s.step(m);
}

std::vector<Message> responses(Script& s) {
  return s.take([](const Message& m) { return m.type == MessageType::kAppendResponse; });
}

}  // namespace

TEST(ReplicationRules, NewLeadersEmptyEntryCommits) {
  Script s({1, 2, 3});
  s.elect(1);
  EXPECT_EQ(s.commit(1), 1u) << "the leader's empty entry commits once a majority has it"
                             << s.trail();
  EXPECT_EQ(s.commit(2), 1u) << "and followers learn the commit index" << s.trail();
}

TEST(ReplicationRules, LeaderReplicatesAndCommitsAProposal) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "x");
  s.stabilize();
  for (NodeId id : {1, 2, 3}) {
    EXPECT_EQ(data_of(s.applied(id)), std::vector<std::string>{"x"})
        << "§5.3: once committed, every node applies it (node " << id << ")" << s.trail();
  }
  EXPECT_EQ(s.commit(1), 2u);
}

TEST(ReplicationRules, EntryCommitsOnceAMajorityHasIt) {
  Script s({1, 2, 3, 4, 5});
  s.elect(1);
  s.cut(1, 3);
  s.cut(1, 4);
  s.cut(1, 5);
  s.propose(1, "x");
  s.stabilize();
  EXPECT_EQ(s.commit(1), 1u) << "2 of 5 is not a majority: not committed" << s.trail();
  s.heal();
  s.tick(1);  // a heartbeat brings the others back; the leader resends the entry
  s.stabilize();
  EXPECT_EQ(s.commit(1), 2u) << "§5.3: committed once replicated on a majority" << s.trail();
}

TEST(ReplicationRules, FollowerRejectsAnAppendWhosePreviousEntryDiffers) {
  Script s({1, 2, 3});
  s.step(append(2, 1, 3, 0, 0, {entry(1, 1), entry(2, 1)}, 0));
  responses(s);
  // The leader claims entry 2 has term 3; ours has term 1.
  s.step(append(2, 1, 3, 2, 3, {entry(3, 3)}, 0));
  auto r = responses(s);
  ASSERT_EQ(r.size(), 1u) << s.trail();
  EXPECT_TRUE(r[0].reject)
      << "§5.3: if the log has no entry at prevLogIndex whose term matches prevLogTerm, "
         "reply false"
      << s.trail();
  EXPECT_EQ(s.status(1).last_index, 2u) << "and append nothing" << s.trail();
}

TEST(ReplicationRules, FollowerReplacesConflictingEntries) {
  Script s({1, 2, 3});
  s.step(append(2, 1, 1, 0, 0, {entry(1, 1), entry(2, 1, "old2"), entry(3, 1, "old3")}, 1));
  responses(s);
  s.step(append(3, 1, 2, 1, 1, {entry(2, 2, "new2")}, 1));
  auto r = responses(s);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_FALSE(r[0].reject) << s.trail();
  EXPECT_EQ(s.status(1).last_index, 2u)
      << "§5.3: a conflicting entry and all that follow it are deleted" << s.trail();
  EXPECT_EQ(s.storage(1).term(2), 2u) << s.trail();
}

TEST(ReplicationRules, StaleAppendDoesNotTruncateMatchingEntries) {
  Script s({1, 2, 3});
  s.step(append(2, 1, 1, 0, 0, {entry(1, 1), entry(2, 1), entry(3, 1)}, 0));
  // A delayed copy of an earlier, shorter append arrives after the longer one.
  s.step(append(2, 1, 1, 0, 0, {entry(1, 1)}, 0));
  EXPECT_EQ(s.status(1).last_index, 3u)
      << "only a conflict truncates: entries that match stay (a reordered append must not "
         "shorten the log)"
      << s.trail();
}

TEST(ReplicationRules, FollowerCommitsUpToTheLeadersCommitAndWhatItHas) {
  Script s({1, 2, 3});
  s.step(append(2, 1, 1, 0, 0, {entry(1, 1), entry(2, 1)}, 5));
  EXPECT_EQ(s.commit(1), 2u) << "§5.3: commitIndex = min(leaderCommit, index of last new entry)"
                             << s.trail();
  EXPECT_EQ(s.applied(1).size(), 2u) << "committed entries are applied" << s.trail();
}

// Figure 8 of the Raft paper, as a rule: a leader of term 3 whose log holds an entry of term 2
// must not commit it by counting replicas, however many nodes have it; it commits once an
// entry of term 3 is on a majority (§5.4.2).
TEST(ReplicationRules, FollowerCommitsOnlyWhatTheAppendVouchedFor) {
  Script s({1, 2, 3});
  // Node 1 holds 1..5 of term 1 from an old leader; none is committed.
  s.step(
      append(2, 1, 1, 0, 0, {entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1), entry(5, 1)}, 0));
  // The leader of term 2 holds 1/1 2/1 3/2 4/2 and has committed 4. Probing, it sends entry 2
  // after 1/1.
  s.step(append(3, 1, 2, 1, 1, {entry(2, 1)}, 4));
  EXPECT_EQ(s.commit(1), 2u)
      << "this append vouches for entries up to 2 only; node 1's 3..5 (term 1) conflict with "
         "the leader's 3 and 4 (term 2): commit = min(leader's commit 4, 1 + 1 entry) = 2, not "
         "min(4, own last index 5)"
      << s.trail();
}

TEST(ReplicationRules, OldReorderedRejectionIsIgnored) {
  Script s({1, 2, 3});
  s.elect(1);
  for (int i = 0; i < 5; ++i) s.propose(1, "p" + std::to_string(i));
  s.stabilize();
  ProgressStatus before = s.status(1).progress.at(2);
  ASSERT_EQ(before.state, ProgressStatus::State::kReplicate) << s.trail();
  Message old = append_response(2, 1, 1, 1);  // node 2 once rejected an append at 1
  old.reject = true;
  s.step(old);
  ProgressStatus after = s.status(1).progress.at(2);
  EXPECT_EQ(after.match, before.match) << s.trail();
  EXPECT_EQ(after.next, before.next)
      << "node 2 has matched " << before.match << ": a rejection of index 1 is an old answer "
      << "the network reordered, not news; acting on it sends next back and resends entries"
      << s.trail();
  EXPECT_TRUE(s.take([](const Message& m) { return m.type == MessageType::kAppend; }).empty())
      << "nothing is resent" << s.trail();
}

TEST(ReplicationRules, LeaderCommitsOnlyCurrentTermEntriesByCounting) {
  Script s({1, 2, 3});
  s.storage(1).append({entry(1, 1), entry(2, 2)});
  s.storage(1).set_hard_state({2, kNoNode, 0});
  s.restart(1);
  s.campaign(1);  // term 3
  deliver(s, MessageType::kVote);
  deliver(s, MessageType::kVoteResponse);
  ASSERT_EQ(s.role(1), Role::kLeader) << s.trail();
  ASSERT_EQ(s.term(1), 3u) << s.trail();
  s.take();  // the appends carrying the new empty entry 3/3 are lost
  Message ack = append_response(2, 1, 3, 2);
  s.step(ack);
  EXPECT_EQ(s.commit(1), 0u)
      << "entry 2 (term 2) is on nodes 1 and 2, a majority, but a leader of term 3 must not "
         "commit it by counting: in Figure 8 such an entry is later overwritten"
      << s.trail();
  s.step(append_response(2, 1, 3, 3));
  EXPECT_EQ(s.commit(1), 3u)
      << "once entry 3 (term 3) is on a majority, it and everything before it commit" << s.trail();
}

TEST(ReplicationRules, OlderEntriesCommitWithAnEntryOfTheCurrentTerm) {
  Script s({1, 2, 3});
  s.elect(1);
  s.isolate(2);
  s.isolate(3);
  s.propose(1, "old");
  s.stabilize();
  s.heal();
  s.elect(1);  // term 2, with the entry of term 1 still uncommitted
  s.propose(1, "new");
  s.stabilize();
  EXPECT_EQ(data_of(s.applied(2)), (std::vector<std::string>{"old", "new"}))
      << "§5.4.2: committing an entry of the current term commits every entry before it"
      << s.trail();
}

TEST(ReplicationRules, ProposalOnAFollowerIsForwardedToTheLeader) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(2, "via-follower");
  s.stabilize();
  EXPECT_EQ(data_of(s.applied(1)), std::vector<std::string>{"via-follower"}) << s.trail();
}

TEST(ReplicationRules, ProposalWithoutALeaderIsRefused) {
  Script s({1, 2, 3});
  EXPECT_THROW(s.propose(1, "nowhere"), ProposalDropped)
      << "with no leader known a proposal is refused so the client can retry elsewhere";
  s.campaign(1);
  EXPECT_THROW(s.propose(1, "candidate"), ProposalDropped) << "a candidate knows no leader";
}

TEST(ReplicationRules, AFollowerForwardsToItsLeaderAndDropsWithoutOne) {
  Script s({1, 2, 3});
  s.elect(1);
  s.take();
  // A proposal forwarded by node 3 reaches node 2, a follower: it goes on to the leader.
  Message p;
  p.type = MessageType::kPropose;
  p.from = 3;
  p.to = 2;
  p.entries = {Entry{0, 0, EntryType::kNormal, "via 3 and 2"}};
  s.step(p);
  auto fwd = s.take();
  ASSERT_EQ(fwd.size(), 1u) << s.trail();
  EXPECT_EQ(fwd[0].to, 1u) << s.trail();
  EXPECT_EQ(fwd[0].type, MessageType::kPropose) << s.trail();
  Message r;
  r.type = MessageType::kReadIndex;
  r.from = 3;
  r.to = 2;
  r.context = "read via 2";
  s.step(r);
  fwd = s.take();
  ASSERT_EQ(fwd.size(), 1u) << s.trail();
  EXPECT_EQ(fwd[0].to, 1u) << "a forwarded read goes on to the leader too" << s.trail();
  // A node that knows no leader drops what is forwarded to it (the client retries).
  Script alone({1, 2, 3});
  alone.step(r);
  alone.step(p);
  EXPECT_TRUE(alone.take().empty()) << alone.trail();
}

// The "Backup" scenario: nodes 1 and 2 hold 60 uncommitted entries of term 1 when a leader of
// term 2 on the other side commits 30 entries of its own. On healing, the new leader must skip
// back over the whole conflicting stretch in a few round trips, not one entry at a time.
TEST(ReplicationRules, FastBacktrackingSkipsATermPerRoundTrip) {
  Script s({1, 2, 3, 4, 5});
  s.elect(1);
  for (NodeId a : {1, 2}) {
    for (NodeId b : {3, 4, 5}) s.cut(a, b);
  }
  for (int i = 0; i < 60; ++i) s.propose(1, "lost" + std::to_string(i));
  s.stabilize();  // on nodes 1 and 2 only
  s.elect(3);
  ASSERT_EQ(s.role(3), Role::kLeader) << s.trail(20);
  for (int i = 0; i < 30; ++i) s.propose(3, "kept" + std::to_string(i));
  s.stabilize();
  s.heal();
  int rejections = 0;
  s.on_ready([&](NodeId id, const Ready& rd, const LogStorage&) {
    for (const auto& m : rd.messages) {
      if (id == 2 && m.type == MessageType::kAppendResponse && m.reject) rejections++;
    }
  });
  s.tick(3);
  s.stabilize();
  EXPECT_EQ(s.status(2).last_index, s.status(3).last_index) << s.trail(20);
  EXPECT_EQ(s.commit(2), s.commit(3)) << "node 2 caught up with the leader" << s.trail(20);
  EXPECT_LE(rejections, 3)
      << "with reject hints by term, the leader skips the conflicting stretch in a few round "
         "trips (it took "
      << rejections << ")" << s.trail(20);
}

TEST(ReplicationRules, AppendMessagesRespectTheByteLimit) {
  Script::Options o;
  o.max_append_bytes = 2000;
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.isolate(2);
  for (int i = 0; i < 20; ++i) s.propose(1, std::string(500, 'b'));
  s.stabilize();
  s.heal();
  size_t biggest = 0;
  s.on_ready([&](NodeId, const Ready& rd, const LogStorage&) {
    for (const auto& m : rd.messages) {
      if (m.type == MessageType::kAppend) biggest = std::max(biggest, m.entries.size());
    }
  });
  s.tick(1);
  s.stabilize();
  EXPECT_LE(biggest, 4u) << "max_append_bytes bounds the entries per message" << s.trail(10);
  EXPECT_EQ(s.commit(2), s.commit(1)) << "and the follower still catches up" << s.trail(10);
}

TEST(ReplicationRules, InflightAppendsAreBounded) {
  Script::Options o;
  o.max_inflight = 3;
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.take();
  for (int i = 0; i < 10; ++i) s.propose(1, "p" + std::to_string(i));
  auto sent = s.take([](const Message& m) { return m.type == MessageType::kAppend && m.to == 2; });
  EXPECT_LE(sent.size(), 3u)
      << "flow control: no more than max_inflight unacknowledged appends per follower" << s.trail();
  EXPECT_GE(sent.size(), 2u) << "but appends are pipelined, not one at a time" << s.trail();
}

// The progress of follower `id` as leader 1 sees it.
ProgressStatus progress(Script& s, NodeId id) {
  return s.status(1).progress.at(id);
}

size_t appends_to(Script& s, NodeId id) {
  size_t n = 0;
  for (const auto& m : s.in_flight()) n += m.type == MessageType::kAppend && m.to == id;
  return n;
}

TEST(ReplicationRules, ProbeSendsOneAppendAtATimeUntilAnAnswer) {
  Script s({1, 2, 3});
  s.elect(1);
  ASSERT_EQ(progress(s, 2).match, 1u) << s.trail();
  s.raft(1).report_unreachable(2);
  EXPECT_EQ(progress(s, 2).state, ProgressStatus::State::kProbe) << s.trail();
  EXPECT_EQ(progress(s, 2).next, 2u) << "probing starts from match + 1" << s.trail();
  s.propose(1, "a");
  s.propose(1, "b");
  EXPECT_EQ(appends_to(s, 2), 1u)
      << "in probe state one append is in flight until the follower answers" << s.trail();
  EXPECT_EQ(progress(s, 2).next, 2u) << "next does not run ahead while probing" << s.trail();
  s.stabilize();
  EXPECT_EQ(progress(s, 2).state, ProgressStatus::State::kReplicate) << s.trail();
  EXPECT_EQ(progress(s, 2).match, 3u) << s.trail();
  EXPECT_EQ(progress(s, 2).next, 4u)
      << "next = match + 1 once everything is acknowledged" << s.trail();
}

TEST(ReplicationRules, AHeartbeatResponseUnpausesAProbe) {
  Script s({1, 2, 3});
  s.elect(1);
  s.raft(1).report_unreachable(2);
  s.propose(1, "a");
  s.take([](const Message& m) { return m.to == 2; });  // the probe is lost
  s.propose(1, "b");
  ASSERT_EQ(appends_to(s, 2), 0u) << "paused: waiting for an answer" << s.trail();
  s.tick(1);  // a heartbeat
  for (const auto& hb :
       s.take([](const Message& m) { return m.type == MessageType::kHeartbeat && m.to == 2; })) {
    s.step(hb);
  }
  for (const auto& r : s.take([](const Message& m) { return m.to == 1 && m.from == 2; })) {
    s.step(r);
  }
  auto sent = s.take([](const Message& m) { return m.type == MessageType::kAppend && m.to == 2; });
  ASSERT_EQ(sent.size(), 1u)
      << "a heartbeat response proves the follower is alive: the probe goes out again" << s.trail();
  EXPECT_EQ(sent[0].index, 1u) << "from next = 2: the entry before is 1" << s.trail();
}

TEST(ReplicationRules, AcknowledgementsFreeInflightSlots) {
  Script::Options o;
  o.max_inflight = 2;
  Script s({1, 2, 3}, o);
  s.elect(1);
  s.take();
  for (int i = 0; i < 4; ++i) s.propose(1, "p" + std::to_string(i));
  auto first = s.take([](const Message& m) { return m.type == MessageType::kAppend && m.to == 2; });
  ASSERT_EQ(first.size(), 2u) << "two appends in flight, the limit" << s.trail();
  s.step(first[0]);
  for (const auto& r : s.take([](const Message& m) { return m.to == 1 && m.from == 2; })) {
    s.step(r);
  }
  EXPECT_EQ(appends_to(s, 2), 1u)
      << "the acknowledgement of the first append frees one slot: one more append goes out"
      << s.trail();
  EXPECT_EQ(progress(s, 2).match, first[0].index + first[0].entries.size()) << s.trail();
}

TEST(ReplicationRules, ARejectionMovesNextBackToTheHintButNeverBelowMatch) {
  Script s({1, 2, 3});
  s.elect(1);
  for (int i = 0; i < 5; ++i) s.propose(1, "p" + std::to_string(i));
  s.stabilize();  // node 2 matches 6
  s.raft(1).report_unreachable(2);
  s.propose(1, "q");  // the probe: entry 7 after 6
  auto probe = s.take([](const Message& m) { return m.type == MessageType::kAppend && m.to == 2; });
  ASSERT_EQ(probe.size(), 1u) << s.trail();
  ASSERT_EQ(probe[0].index, 6u) << s.trail();
  Message reject = append_response(2, 1, 1, 6);
  reject.reject = true;
  reject.reject_hint = 3;  // a follower that claims to hold only 3 (a lie: it matched 6)
  reject.log_term = 1;
  s.step(reject);
  EXPECT_EQ(progress(s, 2).next, 7u)
      << "next never moves below match + 1: node 2 is known to hold 6" << s.trail();
}

TEST(ReplicationRules, UnreachableFollowerIsProbedInsteadOfPipelined) {
  Script s({1, 2, 3});
  s.elect(1);
  s.propose(1, "x");
  s.stabilize();
  ASSERT_EQ(s.status(1).progress.at(2).state, ProgressStatus::State::kReplicate) << s.trail();
  s.raft(1).report_unreachable(2);
  EXPECT_EQ(s.status(1).progress.at(2).state, ProgressStatus::State::kProbe)
      << "after the driver reports a follower unreachable, the leader stops pipelining to it "
         "and probes (one append at a time) until it answers"
      << s.trail();
  s.propose(1, "y");
  s.stabilize();
  EXPECT_EQ(s.status(1).progress.at(2).state, ProgressStatus::State::kReplicate)
      << "once it acknowledges an append it is pipelined again" << s.trail();
}

TEST(ReplicationRules, LeaderCountsItselfOnlyAfterPersisting) {
  Script s({1});
  bool committed_unpersisted = false;
  s.on_ready([&](NodeId, const Ready& rd, const LogStorage& storage) {
    // The storage holds what earlier Readys persisted; this Ready's own entries are not in it
    // yet. A leader counts itself only once advance() said its entries are persisted, so what
    // a Ready commits was persisted by an earlier Ready.
    for (const auto& e : rd.committed_entries)
      committed_unpersisted |= e.index > storage.last_index();
    if (rd.hard_state) committed_unpersisted |= rd.hard_state->commit > storage.last_index();
  });
  s.campaign(1);
  ASSERT_EQ(s.role(1), Role::kLeader);
  s.propose(1, "solo");
  EXPECT_FALSE(committed_unpersisted)
      << "a single node commits an entry in the Ready that asks to persist it: it counted "
         "itself at its appended index, before advance() said the entry was synced "
         "(ready.h; etcd#14370 acknowledged writes before fsync this way)"
      << s.trail();
  EXPECT_EQ(data_of(s.applied(1)), std::vector<std::string>{"solo"}) << s.trail();
}

TEST(ReplicationRules, CommittedEntriesAreAppliedOnceInOrder) {
  Script s({1, 2, 3});
  s.elect(1);
  for (int i = 0; i < 20; ++i) {
    s.propose(1, "c" + std::to_string(i));
    if (i % 3 == 0) s.stabilize();
  }
  s.stabilize();
  for (NodeId id : {1, 2, 3}) {
    const auto& applied = s.applied(id);
    for (size_t k = 0; k < applied.size(); ++k) {
      ASSERT_EQ(applied[k].index, k + 1) << "node " << id << s.trail(10);
    }
    EXPECT_EQ(data_of(applied).size(), 20u) << "node " << id;
  }
}

TEST(ReplicationRules, OnlyCommittedEntriesAreHandedOutToApply) {
  Script s({1, 2, 3});
  s.elect(1);
  s.isolate(2);
  s.isolate(3);
  bool early = false;
  s.on_ready([&](NodeId id, const Ready& rd, const LogStorage&) {
    uint64_t commit = rd.hard_state ? rd.hard_state->commit : 0;
    for (const auto& e : rd.committed_entries) {
      if (id == 1 && e.index > std::max<uint64_t>(commit, 1)) early = true;
    }
  });
  s.propose(1, "not-yet");
  s.stabilize();
  EXPECT_FALSE(early) << "an entry without a majority must not be applied" << s.trail();
  EXPECT_TRUE(data_of(s.applied(1)).empty()) << s.trail();
}

}  // namespace etcdlab::lab2
