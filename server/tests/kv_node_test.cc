// KvNode (server/node/kv_node.h): Raft + the state machine + request tracking, driven the way
// the server's pump() drives it, over MemoryStorage and in-memory stores. No clocks: time is
// tick(), and the network is a queue this file delivers.
#include "kv_node_fixture.h"

#include <gtest/gtest.h>

#include <set>

namespace etcdlab::server {

using namespace kvtest;

TEST(KvNode, ProposedPutCompletesWithItsRevision) {
  auto n = single();
  EXPECT_EQ(n->node->applied_index(), 2u) << "the bootstrap conf change and the leader's entry";
  Done first = write(*n, put("foo", "bar"));
  EXPECT_TRUE(first.completion.result.ok());
  EXPECT_EQ(first.completion.result.revision, 2);
  EXPECT_EQ(std::get<mvcc::PutResult>(first.completion.result.value).revision, 2);

  PutRequest again = put("foo", "baz");
  again.options.prev_kv = true;
  Done second = write(*n, again);
  EXPECT_EQ(second.completion.result.revision, 3);
  EXPECT_EQ(std::get<mvcc::PutResult>(second.completion.result.value).prev_kv->value, "bar");
  EXPECT_NE(first.completion.id, second.completion.id);
  EXPECT_EQ(n->node->store().range({"foo", ""}).kvs.at(0).value, "baz");
  EXPECT_EQ(n->done.size(), 2u) << "each request completes once";
  EXPECT_EQ(n->node->members().size(), 1u);
  EXPECT_EQ(n->node->members()[0].name, "n1");
}

TEST(KvNode, RequestsWaitForALeaderThenFailWithNoLeaderAtTheirDeadline) {
  TestNode n;
  n.id = 1;
  bootstrap(*n.storage, {1, 2, 3});  // two other voters that never answer: no leader
  n.open({1, 2, 3}, 1, 0);
  EXPECT_EQ(n.node->leader(), kNoNode);
  uint64_t w = n.node->submit(put("k", "v"));
  uint64_t r = n.node->read_index();
  n.pump();
  EXPECT_TRUE(n.done.empty()) << "a request waits for a leader";
  EXPECT_EQ(n.node->pending_requests(), 2u);
  // etcd's request timeout: 5 s plus two election timeouts, in ticks of 100 ms.
  const int deadline = (5000 + 2 * 10 * 100) / 100;
  for (int i = 0; i < deadline - 1; ++i) {
    n.node->tick();
    n.pump();
  }
  EXPECT_TRUE(n.done.empty()) << "answered before its deadline";
  n.node->tick();
  n.pump();
  for (uint64_t id : {w, r}) {
    const Done* d = n.find(id);
    ASSERT_NE(d, nullptr) << "no answer at the deadline";
    ASSERT_TRUE(d->completion.error);
    EXPECT_STREQ(d->completion.error->what(), "etcdserver: no leader");
    EXPECT_EQ(d->completion.error->code(), GrpcCode::kUnavailable);
    EXPECT_FALSE(d->completion.proposed) << "it never reached the log: it never applies";
  }
  EXPECT_EQ(n.node->pending_requests(), 0u);
}

TEST(KvNode, ReadIndexCompletesOnlyOnceApplyReachesIt) {
  auto n = single();
  // Idle leader: the read point is already applied, so the read is ready in the next cycle.
  uint64_t idle = n->node->read_index();
  n->pump();
  ASSERT_NE(n->find(idle), nullptr);
  EXPECT_EQ(n->find(idle)->completion.kind, Completion::Kind::kReadReady);

  // A put that is committed (its entry persisted, advance() done) but not yet applied.
  uint64_t w = n->node->submit(put("k", "v"));
  Ready persist = n->node->ready();
  n->storage->append(persist.entries);
  if (persist.hard_state) n->storage->set_hard_state(*persist.hard_state);
  n->node->apply(persist);
  n->node->advance(persist);
  uint64_t r = n->node->read_index();
  Ready rd = n->node->ready();
  ASSERT_EQ(rd.read_states.size(), 1u);
  ASSERT_FALSE(rd.committed_entries.empty());
  ASSERT_GT(rd.read_states[0].index, n->node->applied_index()) << "premise: a read ahead of apply";
  if (rd.hard_state) n->storage->set_hard_state(*rd.hard_state);

  // The Ready's parts one at a time: the read state alone does not complete the read...
  Ready reads_only = rd;
  reads_only.committed_entries.clear();
  n->node->apply(reads_only);
  n->collect();
  EXPECT_EQ(n->find(r), nullptr) << "read completed at applied " << n->node->applied_index()
                                 << " < read index " << rd.read_states[0].index;
  // ...applying up to its index does, together with the write.
  Ready entries_only = rd;
  entries_only.read_states.clear();
  n->node->apply(entries_only);
  n->node->advance(rd);
  n->collect();
  ASSERT_NE(n->find(r), nullptr);
  EXPECT_EQ(n->find(r)->completion.kind, Completion::Kind::kReadReady);
  EXPECT_GE(n->find(r)->applied, rd.read_states[0].index);
  ASSERT_NE(n->find(w), nullptr);
  EXPECT_EQ(n->find(r)->store_revision, 2) << "the read sees the write committed before it";
}

TEST(KvNode, APutNamingAnUnknownLeaseIsRefusedWithLeaseNotFound) {
  auto n = single();
  PutRequest p = put("k", "v");
  p.lease = 42;
  Done d = write(*n, p);
  EXPECT_EQ(d.completion.result.lease_error, lease::LeaseError::Code::kNotFound);
  EXPECT_EQ(d.completion.result.revision, 1);
  EXPECT_EQ(n->node->store().key_count(), 0);
}

TEST(KvNode, PhysicalCompactionCompletesOnlyAfterThePurge) {
  auto n = single(1, 1, 0, /*compaction_batch=*/1);
  for (int i = 0; i < 6; ++i) write(*n, put("k", std::to_string(i)));  // revisions 2..7
  uint64_t id = n->node->submit(CompactionRequest{6, true});
  n->pump();
  ASSERT_TRUE(n->node->compaction_pending());
  int steps = 0;
  while (n->node->compaction_pending()) {
    EXPECT_EQ(n->find(id), nullptr) << "answered after " << steps << " steps, before the purge";
    n->node->compaction_step();
    n->collect();
    ASSERT_LT(++steps, 100);
  }
  const Done* d = n->find(id);
  ASSERT_NE(d, nullptr) << "the purge finished but the compaction was not answered";
  EXPECT_TRUE(d->completion.result.ok());
  EXPECT_EQ(d->completion.result.revision, 7);
  EXPECT_GT(steps, 1);
}

TEST(KvNode, PhysicalCompactionWaitsForItsPurgePastTheRequestDeadline) {
  auto n = single(1, 1, 0, /*compaction_batch=*/1);
  for (int i = 0; i < 6; ++i) write(*n, put("k", std::to_string(i)));  // revisions 2..7
  uint64_t id = n->node->submit(CompactionRequest{6, true});
  n->pump();
  ASSERT_TRUE(n->node->compaction_pending());
  EXPECT_TRUE(n->node->waits_for_purge(id));
  for (int i = 0; i < 1000; ++i) n->node->tick();  // far past the request deadline
  n->collect();
  EXPECT_EQ(n->find(id), nullptr) << "a purge that is still running is no timeout";
  while (n->node->compaction_pending()) n->node->compaction_step();
  n->collect();
  const Done* d = n->find(id);
  ASSERT_NE(d, nullptr);
  EXPECT_FALSE(d->completion.error.has_value()) << "no timeout";
  EXPECT_TRUE(d->completion.result.ok());
  EXPECT_FALSE(n->node->waits_for_purge(id));
}

TEST(KvNode, NonPhysicalCompactionCompletesAtOnce) {
  auto n = single(1, 1, 0, /*compaction_batch=*/1);
  for (int i = 0; i < 6; ++i) write(*n, put("k", std::to_string(i)));
  Done d = write(*n, CompactionRequest{6, false});
  EXPECT_TRUE(d.completion.result.ok());
  EXPECT_TRUE(n->node->compaction_pending()) << "answered while the purge still runs";

  Done refused = write(*n, CompactionRequest{6, true});  // same revision again: kCompacted
  EXPECT_EQ(refused.completion.result.store_error, mvcc::MvccError::Code::kCompacted)
      << "a refused physical compaction is answered at once, not held";
}

TEST(KvNode, SnapshotRebuildsAStoreThatIsBehind) {
  auto n = single(1, 1, /*snapshot_count=*/5);
  ASSERT_FALSE(n->node->wants_snapshot());
  write(*n, put("a", "1"));
  write(*n, put("b", "2"));
  EXPECT_FALSE(n->node->wants_snapshot()) << "applied " << n->node->applied_index();
  write(*n, put("a", "3"));
  EXPECT_TRUE(n->node->wants_snapshot()) << "applied " << n->node->applied_index();

  SnapshotMeta meta = n->node->snapshot_meta();
  EXPECT_EQ(meta.index, 5u);
  EXPECT_EQ(meta.term, n->node->status().hard_state.term);
  EXPECT_EQ(meta.conf.voters, std::vector<NodeId>{1});
  n->take_snapshot();
  EXPECT_FALSE(n->node->wants_snapshot());
  EXPECT_EQ(n->storage->first_index(), 6u) << "the log below the snapshot is released";
  write(*n, put("c", "4"));  // index 6: only in the log
  int64_t snapshot_revision = 4;
  uint32_t hash = n->node->store().hash_kv(0);
  int64_t revision = n->node->store().revision();

  // Restart over the same Raft storage with an empty store (the simulator's crash): the store
  // is rebuilt from the snapshot at once, then the log after it is applied again.
  TestNode again;
  again.id = 1;
  again.storage = std::move(n->storage);
  n->node.reset();
  again.open({1}, 2, 5);
  EXPECT_EQ(again.node->applied_index(), 5u);
  EXPECT_EQ(again.node->store().revision(), snapshot_revision);
  EXPECT_EQ(again.node->store().consistent_index(), 5u);
  ASSERT_EQ(again.node->members().size(), 1u) << "members come from the snapshot's header";
  EXPECT_EQ(again.node->members()[0].name, "n1");
  ASSERT_TRUE(lead_alone(again));
  EXPECT_EQ(again.node->store().revision(), revision);
  EXPECT_EQ(again.node->store().hash_kv(0), hash);
  EXPECT_TRUE(again.done.empty()) << "re-applied entries are not answered again";
}

TEST(KvNode, RequestIdsDifferAcrossNodesAndEpochs) {
  auto a = single(1, 1);
  auto b = single(1, 2);  // the same member after a restart
  auto c = single(2, 1);  // another member
  std::set<uint64_t> ids;
  for (auto* n : {a.get(), b.get(), c.get()}) {
    for (int i = 0; i < 3; ++i) {
      ids.insert(n->node->submit(put("k", "v")));
      ids.insert(n->node->read_index());
    }
    n->pump();
    EXPECT_EQ(n->done.size(), 6u);
  }
  EXPECT_EQ(ids.size(), 18u);
}

// ---- three members, messages routed in memory

TEST(KvNodeCluster, WriteThroughAFollowerCompletesOnThatFollower) {
  Cluster c;
  NodeId lead = c.elect();
  NodeId follower = lead % 3 + 1;
  uint64_t id = c.at(follower).node->submit(put("f", "1"));
  ASSERT_TRUE(c.tick_until([&] { return c.at(follower).find(id) != nullptr; }));
  const Done& d = *c.at(follower).find(id);
  EXPECT_TRUE(d.completion.result.ok());
  EXPECT_EQ(d.completion.result.revision, 2);
  EXPECT_EQ(c.at(lead).find(id), nullptr) << "only the proposer answers a request";

  // A linearizable read on the other follower, right after a write through the leader, sees it.
  NodeId other = 6 - lead - follower;
  uint64_t w = c.at(lead).node->submit(put("g", "2"));
  c.settle([&] { return c.at(lead).find(w) != nullptr; });
  ASSERT_NE(c.at(lead).find(w), nullptr);
  uint64_t write_index = c.at(lead).find(w)->applied;
  EXPECT_LT(c.at(other).node->applied_index(), write_index)
      << "premise: the follower has not applied the write when the read starts";
  uint64_t r = c.at(other).node->read_index();
  ASSERT_TRUE(c.tick_until([&] { return c.at(other).find(r) != nullptr; }));
  EXPECT_EQ(c.at(other).find(r)->completion.kind, Completion::Kind::kReadReady);
  EXPECT_GE(c.at(other).find(r)->store_revision, 3) << "the read was ready before the write";

  ASSERT_TRUE(c.tick_until([&] {
    return c.at(1).node->applied_index() == c.at(lead).node->applied_index() &&
           c.at(2).node->applied_index() == c.at(lead).node->applied_index() &&
           c.at(3).node->applied_index() == c.at(lead).node->applied_index();
  }));
  for (NodeId id2 : {1, 2, 3}) {
    EXPECT_EQ(c.at(id2).node->store().revision(), 3) << "member " << id2;
    EXPECT_EQ(c.at(id2).node->store().hash_kv(0), c.at(lead).node->store().hash_kv(0))
        << "member " << id2;
  }
}

TEST(KvNodeCluster, LaggingFollowerCatchesUpFromASnapshot) {
  Cluster c(/*snapshot_count=*/4);
  NodeId lead = c.elect();
  NodeId lagging = lead % 3 + 1;
  c.isolate(lagging);
  for (int i = 0; i < 12; ++i) {
    uint64_t id = c.at(lead).node->submit(put("k" + std::to_string(i % 4), std::to_string(i)));
    c.settle();
    ASSERT_NE(c.at(lead).find(id), nullptr) << "write " << i;
  }
  ASSERT_GT(c.at(lead).storage->snapshot().index, c.at(lagging).storage->last_index())
      << "premise: the entries the lagging member needs are only in the leader's snapshot";

  c.heal();
  uint64_t target = c.at(lead).node->applied_index();
  ASSERT_TRUE(c.tick_until([&] { return c.at(lagging).node->applied_index() >= target; }));
  EXPECT_GT(c.at(lagging).storage->snapshot().index, 0u) << "it installed the leader's snapshot";
  EXPECT_EQ(c.at(lagging).node->store().revision(), 13);
  EXPECT_EQ(c.at(lagging).node->store().hash_kv(0), c.at(lead).node->store().hash_kv(0));
  EXPECT_EQ(c.at(lagging).node->members().size(), 3u);
}

// ---- the node's own decisions: quota, alarms, membership, removal, publish, deadlines

TEST(KvNode, QuotaRaisesNoSpaceThroughTheLogAndRefusesPutsButNotDeletes) {
  auto n = single(1, 1, 0, 1000, [](NodeOptions& o) { o.quota_bytes = 64 << 10; });
  std::string big(4096, 'x');
  std::optional<Done> refused;
  for (int i = 0; i < 100 && !refused; ++i) {
    Done d = write(*n, put("k" + std::to_string(i), big));
    if (d.completion.error) refused = d;
  }
  ASSERT_TRUE(refused) << "no put was refused past the quota";
  EXPECT_STREQ(refused->completion.error->what(), "etcdserver: mvcc: database space exceeded");
  EXPECT_EQ(refused->completion.error->code(), GrpcCode::kResourceExhausted);
  EXPECT_FALSE(refused->completion.proposed) << "refused before the log";
  n->pump();
  ASSERT_EQ(n->node->alarms().size(), 1u) << "the alarm went through the log";
  EXPECT_EQ(n->node->alarms()[0], (Alarm{1, AlarmType::kNoSpace}));
  Done del = write(*n, DeleteRangeRequest{{"k0", ""}, false});
  EXPECT_TRUE(del.completion.result.ok()) << "deletes make room, so they still apply";
  // Cleared by an operator: etcd answers with the alarm it cleared.
  uint64_t id = n->node->change_alarm(false, Alarm{1, AlarmType::kNoSpace});
  n->pump();
  ASSERT_NE(n->find(id), nullptr);
  EXPECT_EQ(std::get<AlarmResult>(n->find(id)->completion.result.value).alarms,
            (std::vector<Alarm>{{1, AlarmType::kNoSpace}}));
  EXPECT_TRUE(n->node->alarms().empty());
}

TEST(KvNode, AlarmRequestsAnswerAsEtcd) {
  auto n = single();
  auto alarm = [&](bool activate, Alarm a) {
    uint64_t id = n->node->change_alarm(activate, a);
    n->pump();
    EXPECT_NE(n->find(id), nullptr);
    return std::get<AlarmResult>(n->find(id)->completion.result.value).alarms;
  };
  EXPECT_TRUE(alarm(false, {1, AlarmType::kCorrupt}).empty()) << "clearing what is not raised";
  EXPECT_EQ(alarm(true, {1, AlarmType::kCorrupt}), (std::vector<Alarm>{{1, AlarmType::kCorrupt}}));
  EXPECT_EQ(alarm(true, {0, AlarmType::kNone}), (std::vector<Alarm>{{1, AlarmType::kCorrupt}}))
      << "NONE lists them";
  EXPECT_FALSE(n->node->healthy()) << "an alarm makes the member unhealthy (/health)";
}

TEST(KvNode, PublishesItsNameAndClientUrlsOnceALeaderIsKnown) {
  auto n = std::make_unique<TestNode>();
  n->id = 1;
  n->tweak = [](NodeOptions& o) {
    o.name = "alpha";
    o.client_urls = {"http://10.1.1.1:2379"};
  };
  bootstrap(*n->storage, {1});
  n->open({1}, 1, 0);
  auto published = [&] {
    auto members = n->node->members();
    return members.size() == 1 && !members[0].client_urls.empty();
  };
  for (int i = 0; i < 100 && !published(); ++i) {
    n->node->tick();
    n->pump();
  }
  ASSERT_EQ(n->node->members().size(), 1u);
  EXPECT_EQ(n->node->members()[0].name, "alpha");
  EXPECT_EQ(n->node->members()[0].client_urls, std::vector<std::string>{"http://10.1.1.1:2379"});
  EXPECT_TRUE(n->done.empty()) << "the node's own requests are not answered to anyone";
}

TEST(KvNodeCluster, AMemberChangeOnAFollowerIsNoLeader) {
  Cluster c;
  NodeId lead = c.elect();
  NodeId follower = lead % 3 + 1;
  MemberChange change;
  change.kind = MemberChange::Kind::kRemove;
  change.id = lead;
  uint64_t id = c.at(follower).node->change_member(change);
  c.at(follower).pump();
  ASSERT_NE(c.at(follower).find(id), nullptr) << "refused at once";
  EXPECT_STREQ(c.at(follower).find(id)->completion.error->what(), "etcdserver: no leader");
}

TEST(KvNodeCluster, ARemovedMemberKnowsItMustStop) {
  Cluster c;
  NodeId lead = c.elect();
  NodeId gone = lead % 3 + 1;
  MemberChange change;
  change.kind = MemberChange::Kind::kRemove;
  change.id = gone;
  uint64_t id = c.at(lead).node->change_member(change);
  ASSERT_TRUE(c.tick_until([&] { return c.at(lead).find(id) != nullptr; }));
  const Done& d = *c.at(lead).find(id);
  ASSERT_FALSE(d.completion.error) << d.completion.error->what();
  EXPECT_EQ(std::get<MembershipResult>(d.completion.result.value).member.id, gone);
  ASSERT_TRUE(c.tick_until([&] { return c.at(gone).node->stop_reason().has_value(); }));
  EXPECT_EQ(*c.at(gone).node->stop_reason(),
            "the member has been permanently removed from the cluster");
  EXPECT_FALSE(c.at(lead).node->stop_reason());
  EXPECT_EQ(c.at(lead).node->members().size(), 2u);
  EXPECT_EQ(c.at(lead).node->removed(), std::set<NodeId>{gone});
}

TEST(KvNodeCluster, TheLeaderRemovesItselfAndTheOthersElectAnother) {
  Cluster c;
  NodeId lead = c.elect();
  MemberChange change;
  change.kind = MemberChange::Kind::kRemove;
  change.id = lead;
  uint64_t id = c.at(lead).node->change_member(change);
  ASSERT_TRUE(c.tick_until([&] { return c.at(lead).find(id) != nullptr; }));
  const Done& d = *c.at(lead).find(id);
  ASSERT_FALSE(d.completion.error) << d.completion.error->what();
  EXPECT_TRUE(c.at(lead).node->stop_reason()) << "it removed itself";
  NodeId a = lead % 3 + 1, b = (lead + 1) % 3 + 1;
  ASSERT_TRUE(c.tick_until([&] {
    NodeId l = c.at(a).node->leader();
    return l != kNoNode && l != lead && c.at(b).node->leader() == l &&
           c.at(a).node->applied_index() == c.at(b).node->applied_index();
  })) << "the two members left elect and agree";
  EXPECT_EQ(c.at(a).node->members().size(), 2u);
  EXPECT_EQ(c.at(b).node->members().size(), 2u);
}

TEST(KvNodeCluster, OfTwoVotersTheLeaderHandsOverBeforeRemovingItself) {
  Cluster c;
  NodeId lead = c.elect();
  NodeId third = lead % 3 + 1;
  MemberChange remove_third;
  remove_third.kind = MemberChange::Kind::kRemove;
  remove_third.id = third;
  uint64_t first = c.at(lead).node->change_member(remove_third);
  ASSERT_TRUE(c.tick_until([&] { return c.at(lead).find(first) != nullptr; }));
  c.isolate(third);  // gone
  NodeId other = 6 - lead - third;
  MemberChange change;
  change.kind = MemberChange::Kind::kRemove;
  change.id = lead;
  uint64_t id = c.at(lead).node->change_member(change);
  ASSERT_TRUE(c.tick_until([&] {
    return c.at(other).node->role() == Role::kLeader && c.at(other).node->members().size() == 1;
  })) << "the other voter leads and committed the removal alone";
  // The removed member may never learn that its removal committed (it is no longer
  // replicated to): then its peers tell it (the transport), which answers the request.
  c.at(lead).node->removed_by_peer(other);
  c.at(lead).collect();
  ASSERT_NE(c.at(lead).find(id), nullptr);
  EXPECT_FALSE(c.at(lead).find(id)->completion.error);
  EXPECT_TRUE(c.at(lead).node->stop_reason());
}

TEST(KvNodeCluster, ADuplicatedProposalIsAppliedOnce) {
  Cluster c;
  NodeId lead = c.elect();
  NodeId follower = lead % 3 + 1;
  c.duplicate_proposals(true);
  uint64_t id = c.at(follower).node->submit(put("once", "1"));
  ASSERT_TRUE(c.tick_until([&] { return c.at(follower).find(id) != nullptr; }));
  c.duplicate_proposals(false);
  ASSERT_TRUE(c.tick_until([&] {
    return c.at(1).node->applied_index() == c.at(lead).node->applied_index() &&
           c.at(2).node->applied_index() == c.at(lead).node->applied_index() &&
           c.at(3).node->applied_index() == c.at(lead).node->applied_index();
  }));
  for (NodeId m : {1, 2, 3}) {
    EXPECT_EQ(c.at(m).node->store().revision(), 2) << "member " << m << ": one put, one revision";
    EXPECT_EQ(c.at(m).node->state_machine().duplicates_skipped(), 1u) << "member " << m;
  }
  EXPECT_EQ(c.at(follower).done.size(), 1u) << "answered once";
}

TEST(KvNodeCluster, ARequestTimesOutOnceProposedAndMayStillApply) {
  Cluster c;
  NodeId lead = c.elect();
  c.isolate(lead);
  uint64_t id = c.at(lead).node->submit(put("late", "1"));
  c.at(lead).pump();
  const int deadline = (5000 + 2 * 10 * 100) / 100;
  for (int i = 0; i < deadline && c.at(lead).find(id) == nullptr; ++i) {
    c.at(lead).node->tick();
    c.at(lead).pump();
  }
  ASSERT_NE(c.at(lead).find(id), nullptr) << "no answer by the deadline";
  const Completion& done = c.at(lead).find(id)->completion;
  ASSERT_TRUE(done.error);
  EXPECT_STREQ(done.error->what(), "etcdserver: request timed out");
  EXPECT_TRUE(done.proposed) << "it is in the leader's log: it may still apply";
}

}  // namespace etcdlab::server
