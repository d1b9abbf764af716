// KvNode's view of itself for the live cluster view (node_view.h): its Raft state and log tail
// (view_state), and the ring of its last completed client requests (recent_requests).
#include <gtest/gtest.h>

#include "../node/request_log.h"
#include "kv_node_fixture.h"

namespace etcdlab::server {
namespace {

using kvtest::Cluster;
using kvtest::put;
using kvtest::single;
using kvtest::write;

// Every text field of a record, to look for what must never be in one.
std::string all_text(const std::vector<RequestRecord>& records) {
  std::string out;
  for (const auto& r : records) out += r.kind + "|" + r.text + "|" + r.outcome + "\n";
  return out;
}

TEST(KvNodeView, AnElectedSingleVoterShowsItselfLeadingWithItsWholeLog) {
  auto n = single();
  NodeView v = n->node->view_state();
  EXPECT_EQ(v.id, 1u);
  EXPECT_EQ(v.role, Role::kLeader);
  EXPECT_EQ(v.leader, 1u);
  EXPECT_EQ(v.vote, 1u) << "a leader voted for itself";
  EXPECT_GE(v.term, 2u) << "the bootstrap entries are term 1; the election is later";
  EXPECT_EQ(v.voters, std::vector<NodeId>{1});
  EXPECT_TRUE(v.learners.empty());
  EXPECT_TRUE(v.member);
  EXPECT_EQ(v.first_index, 1u);
  EXPECT_EQ(v.snapshot_index, 0u);
  EXPECT_EQ(v.commit, v.last_index);
  EXPECT_EQ(v.applied, v.last_index);
  ASSERT_EQ(v.log_from, 1u) << "a short log is shown whole";
  ASSERT_EQ(v.log_terms.size(), v.last_index);
  EXPECT_EQ(v.log_terms.front(), 1u) << "the bootstrap entry";
  EXPECT_EQ(v.log_terms.back(), v.term) << "the new leader's empty entry";
}

TEST(KvNodeView, TheLogTailIsTheLast64EntriesTerms) {
  auto n = single();
  for (int i = 0; i < 100; ++i) write(*n, put("k" + std::to_string(i), "v"));
  NodeView v = n->node->view_state();
  ASSERT_EQ(v.log_terms.size(), kViewLogTerms);
  EXPECT_EQ(v.log_from, v.last_index - kViewLogTerms + 1);
  EXPECT_EQ(v.last_index, n->storage->last_index());
  for (size_t i = 0; i < v.log_terms.size(); ++i) {
    EXPECT_EQ(v.log_terms[i], n->storage->term(v.log_from + i)) << "entry " << v.log_from + i;
  }
}

TEST(KvNodeView, ASnapshotThatFoldedTheWholeLogLeavesNoTermsToShow) {
  auto n = single();
  for (int i = 0; i < 5; ++i) write(*n, put("k", "v"));
  n->take_snapshot();
  NodeView v = n->node->view_state();
  EXPECT_EQ(v.snapshot_index, v.applied);
  EXPECT_EQ(v.first_index, v.snapshot_index + 1);
  EXPECT_EQ(v.last_index, v.snapshot_index);
  EXPECT_TRUE(v.log_terms.empty());
  EXPECT_EQ(v.log_from, v.last_index + 1);
  // New entries after it are shown from the first one still in the log.
  write(*n, put("k", "v"));
  v = n->node->view_state();
  EXPECT_EQ(v.log_from, v.snapshot_index + 1);
  EXPECT_EQ(v.log_terms.size(), v.last_index - v.snapshot_index);
}

TEST(KvNodeView, EveryMemberOfAClusterShowsTheSameLeaderTermAndVoters) {
  Cluster c;
  NodeId lead = c.elect();
  uint64_t term = c.at(lead).node->view_state().term;
  for (NodeId id = 1; id <= 3; ++id) {
    NodeView v = c.at(id).node->view_state();
    EXPECT_EQ(v.id, id);
    EXPECT_EQ(v.leader, lead) << "member " << id;
    EXPECT_EQ(v.term, term) << "member " << id;
    EXPECT_EQ(v.role, id == lead ? Role::kLeader : Role::kFollower) << "member " << id;
    EXPECT_EQ(v.voters, (std::vector<NodeId>{1, 2, 3}));
    EXPECT_TRUE(v.member);
  }
  EXPECT_EQ(c.at(lead).node->view_state().vote, lead);
}

TEST(KvNodeView, TheClockIsTicksTimesTheTickLength) {
  auto n = single();
  int64_t before = n->node->view_state().now_ms;
  for (int i = 0; i < 7; ++i) n->node->tick();
  EXPECT_EQ(n->node->view_state().now_ms - before, 7 * n->node->options().tick_ms);
}

TEST(KvNodeRecentRequests, ACompletedPutIsRecordedWithItsKindOutcomeRevisionAndTimes) {
  auto n = single();
  for (int i = 0; i < 3; ++i) n->node->tick();
  int64_t now = n->node->view_state().now_ms;
  kvtest::Done d = write(*n, put("key", "value"));
  auto records = n->node->recent_requests();
  ASSERT_EQ(records.size(), 1u);
  const RequestRecord& r = records[0];
  EXPECT_EQ(r.id, d.completion.id);
  EXPECT_EQ(r.kind, "put");
  EXPECT_EQ(r.outcome, "ok");
  EXPECT_EQ(r.revision, d.completion.result.revision);
  EXPECT_GT(r.revision, 0);
  EXPECT_EQ(r.call_ms, now);
  EXPECT_EQ(r.return_ms, now) << "a single voter answers within the same tick";
}

TEST(KvNodeRecentRequests, WithoutTheViewNoRequestIsKept) {
  // NodeOptions::view_requests off (a member without --enable-view): nothing is described or
  // remembered on the request path.
  auto n = single(1, 1, 0, 1000, [](NodeOptions& o) { o.view_requests = false; });
  write(*n, put("key", "value"));
  n->node->read_index();
  n->pump();
  EXPECT_TRUE(n->node->recent_requests().empty());
}

TEST(KvNodeRecentRequests, ARequestThatWaitedIsTimedFromItsCallToItsAnswer) {
  Cluster c;
  // No leader yet: the put waits, and goes once one is elected, some ticks later.
  uint64_t id = c.at(1).node->submit(put("k", "v"));
  int64_t called = c.at(1).node->view_state().now_ms;
  c.elect();
  ASSERT_TRUE(c.tick_until([&] { return c.at(1).find(id) != nullptr; }));
  auto records = c.at(1).node->recent_requests();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].call_ms, called);
  EXPECT_GT(records[0].return_ms, records[0].call_ms);
  EXPECT_LE(records[0].return_ms, c.at(1).node->view_state().now_ms);
  EXPECT_EQ(records[0].outcome, "ok");
}

TEST(KvNodeRecentRequests, TheRingKeepsTheLast20OldestFirst) {
  auto n = single();
  std::vector<uint64_t> ids;
  for (int i = 0; i < 25; ++i) ids.push_back(write(*n, put("k", "v")).completion.id);
  auto records = n->node->recent_requests();
  ASSERT_EQ(records.size(), kViewRecentRequests);
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].id, ids[5 + i]) << "record " << i;
    if (i > 0) {
      EXPECT_GT(records[i].revision, records[i - 1].revision);
    }
  }
}

TEST(KvNodeRecentRequests, AFailedRequestShowsEtcdsErrorText) {
  auto n = single();
  write(*n, CompactionRequest{1000, false});
  write(*n, LeaseRevokeRequest{12345});
  auto records = n->node->recent_requests();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].kind, "compact");
  EXPECT_EQ(records[0].outcome, "etcdserver: mvcc: required revision is a future revision");
  EXPECT_EQ(records[1].kind, "lease_revoke");
  EXPECT_EQ(records[1].outcome, "etcdserver: requested lease not found");
}

TEST(KvNodeRecentRequests, ARequestRefusedAtOnceIsRecordedWithTheRefusal) {
  Cluster c;
  c.elect();
  NodeId follower = c.at(1).node->leader() == 1 ? 2 : 1;
  c.at(follower).node->move_leader(3);  // only the leader may
  c.at(follower).collect();
  auto records = c.at(follower).node->recent_requests();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind, "move_leader");
  EXPECT_EQ(records[0].outcome, "etcdserver: not leader");
}

TEST(KvNodeRecentRequests, ReadsAndTxnsAreRecordedByKind) {
  auto n = single();
  write(*n, put("k", "v"));
  uint64_t read = n->node->read_index();
  n->pump();
  ASSERT_NE(n->find(read), nullptr);
  uint64_t txn = n->node->txn(TxnRequest{});
  n->pump();
  ASSERT_NE(n->find(txn), nullptr);
  auto records = n->node->recent_requests();
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].kind, "read");
  EXPECT_EQ(records[1].outcome, "ok");
  EXPECT_EQ(records[1].revision, n->node->store().revision()) << "the revision it reads at";
  EXPECT_EQ(records[2].kind, "txn");
  EXPECT_EQ(records[2].id, txn);
}

TEST(KvNodeRecentRequests, ARequestTheDriverForgotIsNeverRecorded) {
  Cluster c;  // no leader: the put waits
  uint64_t id = c.at(1).node->submit(put("k", "v"));
  c.at(1).node->forget(id);
  c.elect();
  c.tick_until([] { return false; }, 5);
  EXPECT_TRUE(c.at(1).node->recent_requests().empty());
}

TEST(KvNodeRecentRequests, TheNodesOwnRequestsAreNotClientRequests) {
  // A named member publishes its client URLs (a request through the log) once it leads.
  auto n = single(1, 1, 0, 1000, [](NodeOptions& o) {
    o.name = "n1";
    o.client_urls = {"http://127.0.0.1:2379"};
  });
  for (int i = 0; i < 5; ++i) {
    n->node->tick();
    n->pump();
  }
  ASSERT_FALSE(n->node->members().empty());
  EXPECT_EQ(n->node->members()[0].client_urls.size(), 1u) << "it published";
  EXPECT_TRUE(n->node->recent_requests().empty());
}

TEST(KvNodeRecentRequests, NeitherKeysNorValuesAreEverRecorded) {
  auto n = single();
  write(*n, put("secret-key-1", "secret-value-1"));
  write(*n, DeleteRangeRequest{{"secret-key-1", "secret-key-9"}, false});
  TxnRequest t;
  t.success.push_back(txn::PutOp{"secret-key-2", "secret-value-2", 0, {}});
  n->node->txn(std::move(t));
  n->pump();
  auto records = n->node->recent_requests();
  ASSERT_EQ(records.size(), 3u);
  std::string text = all_text(records);
  EXPECT_EQ(text.find("secret"), std::string::npos) << text;
  EXPECT_EQ(records[0].text, "put, key 12 B") << "the key's length only";
}

TEST(KvNodeRecentRequests, TheLogOfRequestsInFlightIsBounded) {
  RequestLog log;
  for (uint64_t id = 1; id <= RequestLog::kMaxInFlight + 10; ++id) log.called(id, {"put", ""}, 0);
  EXPECT_EQ(log.in_flight(), RequestLog::kMaxInFlight);
  Completion oldest;
  oldest.id = 1;  // dropped: its completion is not recorded
  log.completed(oldest, 5, 0);
  EXPECT_TRUE(log.recent().empty());
  Completion newest;
  newest.id = RequestLog::kMaxInFlight + 10;
  log.completed(newest, 5, 0);
  ASSERT_EQ(log.recent().size(), 1u);
  EXPECT_EQ(log.recent()[0].outcome, "ok");
}

}  // namespace
}  // namespace etcdlab::server
