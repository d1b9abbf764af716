// KvNode::txn (server/node/kv_node.h, txn_rules.h): validation before the log, the read-only
// path without a log entry, writes through the log at one revision, the quota and the NOSPACE
// alarm, and the txn entry's codec.
#include <gtest/gtest.h>

#include "../node/txn_codec.h"
#include "../node/txn_rules.h"
#include "kv_node_fixture.h"

namespace etcdlab::server {
namespace {

using namespace kvtest;

txn::RequestOp txn_put(std::string key, std::string value) {
  txn::PutOp p;
  p.key = std::move(key);
  p.value = std::move(value);
  return p;
}
txn::RequestOp txn_get(std::string key, bool serializable = false) {
  txn::RangeOp r;
  r.range.key = std::move(key);
  r.serializable = serializable;
  return r;
}

// Runs a txn on the node to its completion.
Done run_txn(TestNode& n, TxnRequest t) {
  uint64_t id = n.node->txn(std::move(t));
  n.collect();
  if (n.find(id) == nullptr) n.pump();
  const Done* d = n.find(id);
  if (d == nullptr) {
    ADD_FAILURE() << "txn " << id << " did not complete";
    return {};
  }
  return *d;
}

const txn::TxnResult& result_of(const Done& d) { return std::get<txn::TxnResult>(d.completion.result.value); }

TEST(KvNodeTxn, AWritingTxnGoesThroughTheLogAtOneRevision) {
  auto n = single();
  uint64_t before = n->node->applied_index();
  Done d = run_txn(*n, TxnRequest{{}, {txn_put("a", "1"), txn_put("b", "2"), txn_get("a")}, {}});
  ASSERT_FALSE(d.completion.error);
  EXPECT_EQ(d.completion.result.revision, 2);
  EXPECT_EQ(n->node->applied_index(), before + 1) << "one log entry";
  EXPECT_TRUE(result_of(d).succeeded);
  EXPECT_EQ(std::get<mvcc::RangeResult>(result_of(d).responses[2]).kvs.at(0).value, "1");
  EXPECT_EQ(n->node->store().range({"b", ""}).kvs.at(0).mod_revision, 2);
}

TEST(KvNodeTxn, ARefusedTxnNeverReachesTheLog) {
  auto n = single();
  uint64_t before = n->node->applied_index();
  Done dup = run_txn(*n, TxnRequest{{}, {txn_put("a", "1"), txn_put("a", "2")}, {}});
  ASSERT_TRUE(dup.completion.error);
  EXPECT_EQ(dup.completion.error->code(), GrpcCode::kInvalidArgument);
  EXPECT_STREQ(dup.completion.error->what(), "etcdserver: duplicate key given in txn request");
  EXPECT_FALSE(dup.completion.proposed);
  Done empty_key = run_txn(*n, TxnRequest{{}, {txn_put("", "1")}, {}});
  EXPECT_EQ(empty_key.completion.result.store_error, mvcc::MvccError::Code::kEmptyKey);
  Done empty_op = run_txn(*n, TxnRequest{{}, {std::monostate{}}, {}});
  ASSERT_TRUE(empty_op.completion.error);
  EXPECT_STREQ(empty_op.completion.error->what(), "etcdserver: key not found");
  n->pump();
  EXPECT_EQ(n->node->applied_index(), before);
}

TEST(KvNodeTxn, TheLongestListIsLimitedByMaxTxnOps) {
  auto n = std::make_unique<TestNode>();
  n->id = 1;
  n->tweak = [](NodeOptions& o) { o.max_txn_ops = 2; };
  bootstrap(*n->storage, {1});
  n->open({1}, 1, 0);
  for (int i = 0; i < 100 && n->node->leader() != 1; ++i) {
    n->node->tick();
    n->pump();
  }
  Done two = run_txn(*n, TxnRequest{{}, {txn_put("a", "1"), txn_put("b", "1")}, {}});
  EXPECT_FALSE(two.completion.error);
  Done three = run_txn(*n, TxnRequest{{}, {txn_put("a", "1"), txn_put("b", "1"), txn_put("c", "1")}, {}});
  ASSERT_TRUE(three.completion.error);
  EXPECT_STREQ(three.completion.error->what(), "etcdserver: too many operations in txn request");
}

TEST(KvNodeTxn, ASerializableReadOnlyTxnIsAnsweredAtOnceWithoutTheLog) {
  auto n = single();
  write(*n, put("a", "1"));
  uint64_t before = n->node->applied_index();
  uint64_t id = n->node->txn(TxnRequest{{}, {txn_get("a", true)}, {txn_get("b", true)}});
  n->collect();
  const Done* d = n->find(id);
  ASSERT_NE(d, nullptr) << "answered without a Ready cycle";
  EXPECT_EQ(d->completion.kind, Completion::Kind::kWrite);
  EXPECT_EQ(std::get<mvcc::RangeResult>(result_of(*d).responses[0]).kvs.at(0).value, "1");
  EXPECT_EQ(d->completion.result.revision, 2);
  n->pump();
  EXPECT_EQ(n->node->applied_index(), before);
}

TEST(KvNodeTxn, ALinearizableReadOnlyTxnWaitsForAReadIndexRound) {
  auto n = single();
  write(*n, put("a", "1"));
  uint64_t before = n->node->applied_index();
  uint64_t id = n->node->txn(TxnRequest{{}, {txn_get("a")}, {}});
  n->collect();
  EXPECT_EQ(n->find(id), nullptr) << "answered before its ReadIndex round";
  n->pump();
  ASSERT_NE(n->find(id), nullptr);
  EXPECT_EQ(n->find(id)->completion.kind, Completion::Kind::kWrite) << "a result, not a read slot";
  EXPECT_EQ(std::get<mvcc::RangeResult>(result_of(*n->find(id)).responses[0]).kvs.at(0).value, "1");
  EXPECT_EQ(n->node->applied_index(), before) << "no log entry";
}

TEST(KvNodeTxn, AReadOnlyTxnOnAFollowerSeesWhatTheLeaderCommittedBeforeIt) {
  Cluster c;
  NodeId lead = c.elect();
  NodeId follower = lead == 1 ? 2 : 1;
  uint64_t w = c.at(lead).node->submit(put("k", "v"));
  c.settle([&] { return c.at(lead).find(w) != nullptr; });
  ASSERT_NE(c.at(lead).find(w), nullptr);
  ASSERT_LT(c.at(follower).node->applied_index(), c.at(lead).find(w)->applied)
      << "premise: the follower has not applied the write when the txn starts";
  uint64_t id = c.at(follower).node->txn(TxnRequest{{}, {txn_get("k")}, {}});
  ASSERT_TRUE(c.tick_until([&] { return c.at(follower).find(id) != nullptr; }));
  const Done* d = c.at(follower).find(id);
  ASSERT_NE(d, nullptr);
  const auto& kvs = std::get<mvcc::RangeResult>(result_of(*d).responses[0]).kvs;
  ASSERT_EQ(kvs.size(), 1u) << "the read missed a write committed before it";
  EXPECT_EQ(kvs[0].value, "v");
}

TEST(KvNodeTxn, UnderNoSpaceATxnThatPutsIsRefusedButOneThatDeletesRuns) {
  auto n = single();
  uint64_t raise = n->node->change_alarm(true, Alarm{1, AlarmType::kNoSpace});
  n->pump();
  ASSERT_NE(n->find(raise), nullptr);
  write(*n, DeleteRangeRequest{{"x", ""}, false});
  Done puts = run_txn(*n, TxnRequest{{}, {txn_get("a")}, {txn_put("a", "1")}});
  EXPECT_EQ(puts.completion.result.error, RequestError::kNoSpace) << "either list may put";
  txn::DeleteOp del;
  del.range.key = "a";
  Done deletes = run_txn(*n, TxnRequest{{}, {del}, {}});
  EXPECT_TRUE(deletes.completion.result.ok());
}

TEST(KvNodeTxn, QuotaCostIsTheCostlierListIncludingNestedPuts) {
  TxnRequest t{{}, {txn_put("k", std::string(100, 'x'))}, {txn_put("k", std::string(10, 'x'))}};
  EXPECT_EQ(quota_cost(t), 1u + 100 + 64);
  auto nested = std::make_shared<const TxnRequest>(TxnRequest{{}, {txn_put("n", std::string(500, 'y'))}, {}});
  t.failure.push_back(nested);
  EXPECT_EQ(quota_cost(t), (1u + 10 + 64) + (1 + 500 + 64));
  EXPECT_EQ(quota_cost(TxnRequest{{}, {txn_get("a")}, {}}), 0u);
}

TEST(TxnCodec, EveryFieldRoundTripsNestedTxnsIncluded) {
  txn::Compare c = txn::Compare::of(txn::CompareTarget::kMod, txn::CompareResult::kLess, "k", -5);
  c.range_end = std::string(1, '\0');
  txn::Compare v = txn::Compare::of_value(txn::CompareResult::kNotEqual, "v", std::string("\0\xff", 2));
  txn::Compare none = c;
  none.operand.reset();
  txn::RangeOp r;
  r.range = {"a", "z"};
  r.options = {7, -1, mvcc::SortOrder::kDescend, mvcc::SortTarget::kValue, true, true, 3, 4, 5, 6};
  r.serializable = true;
  txn::PutOp p;
  p.key = "p";
  p.value = "val";
  p.lease = 0x7fffffffffffffffLL;
  p.options = {true, true, true};
  txn::DeleteOp d;
  d.range = {"d", "e"};
  d.prev_kv = true;
  TxnRequest inner{{v}, {p}, {d, std::monostate{}}};
  TxnRequest t{{c, v, none}, {r, std::make_shared<const TxnRequest>(inner)}, {d}};
  auto [id, decoded] = decode_request(encode_request(99, t));
  EXPECT_EQ(id, 99u);
  // Encoding is deterministic: equal requests give equal bytes, so compare re-encodings.
  EXPECT_EQ(encode_request(99, decoded), encode_request(99, t));
  const auto& back = std::get<TxnRequest>(decoded);
  EXPECT_EQ(back.compare[0].number, -5);
  EXPECT_FALSE(back.compare[2].operand.has_value());
  EXPECT_EQ(std::get<txn::RangeOp>(back.success[0]).options.revision, -1);
  const auto& nested = *std::get<txn::NestedTxn>(back.success[1]);
  EXPECT_EQ(std::get<txn::PutOp>(nested.success[0]).lease, 0x7fffffffffffffffLL);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(nested.failure[1]));
}

TEST(TxnCodec, HostileEntriesAreDecodeErrorsNotCrashes) {
  // Nesting past the bound (entries come from peers: the decoder's stack is at stake).
  TxnRequest t;
  for (int i = 0; i < kMaxTxnDepth + 5; ++i) {
    t = TxnRequest{{}, {std::make_shared<const TxnRequest>(std::move(t))}, {}};
  }
  EXPECT_THROW(decode_request(encode_request(1, t)), DecodeError);
  // Every truncation of a valid entry.
  txn::Compare c = txn::Compare::of(txn::CompareTarget::kVersion, txn::CompareResult::kEqual, "k", 1);
  std::string bytes = encode_request(5, TxnRequest{{c}, {txn_put("a", "b"), txn_get("c")}, {}});
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_THROW(decode_request(std::string_view(bytes).substr(0, n)), DecodeError) << n;
  }
}

}  // namespace
}  // namespace etcdlab::server
