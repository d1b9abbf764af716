// Part C: the read-only path (no log entry, no write).
#include "txn_test_util.h"

namespace etcdlab::txn::testing {
namespace {

RequestOp serializable_get(std::string key) {
  RangeOp r = std::get<RangeOp>(get(std::move(key)));
  r.serializable = true;
  return r;
}

TEST(TxnReadOnly, ReadOnlyMeansOnlyRangesInBothLists) {
  EXPECT_TRUE(is_read_only(txn({}, {})));
  EXPECT_TRUE(is_read_only(txn({value_is("a", "1")}, {get("a")}, {get("b", "c")})));
  EXPECT_FALSE(is_read_only(txn({}, {get("a")}, {put("a", "1")})))
      << "the list that runs is not known before the log orders the txn";
  EXPECT_FALSE(is_read_only(txn({}, {del("a")})));
  EXPECT_TRUE(is_read_only(txn({}, {nested(txn({}, {get("a")}, {get("b")}))})));
  EXPECT_FALSE(is_read_only(txn({}, {nested(txn({}, {get("a")}, {put("b", "1")}))})));
}

TEST(TxnReadOnly, AnOperationThatIsNotThereIsNotARead) {
  // The server asks before validate() has refused such a txn (both doors size every txn that
  // is not read-only first): the answer is "not read-only", not a crash.
  EXPECT_FALSE(is_read_only(txn({}, {NestedTxn{}})));
  EXPECT_FALSE(is_read_only(txn({}, {get("a")}, {nested(txn({}, {NestedTxn{}}))})));
  EXPECT_FALSE(is_read_only(txn({}, {std::monostate{}})));
  EXPECT_FALSE(is_serializable(txn({}, {NestedTxn{}})));
}

TEST(TxnReadOnly, SerializableNeedsEveryRangeSerializable) {
  EXPECT_TRUE(is_serializable(txn({}, {serializable_get("a")}, {serializable_get("b")})));
  EXPECT_FALSE(is_serializable(txn({}, {serializable_get("a")}, {get("b")})));
  EXPECT_FALSE(is_serializable(txn({}, {nested(txn({}, {get("a")}))})));
  EXPECT_TRUE(is_serializable(txn({}, {nested(txn({}, {serializable_get("a")}))})));
  EXPECT_FALSE(is_serializable(txn({}, {serializable_get("a")}, {put("b", "1")})));
}

TEST(TxnReadOnly, ExecuteReadAnswersAsExecuteWould) {
  auto s = sample_store();
  auto t = sample_store();
  TxnRequest request = txn({value_is("a", "a3")}, {get("a"), nested(txn({value_is("b", "x")}, {}, {get("b", "d")}))},
                           {get("c")});
  const KvStore& read_only = *s;
  TxnResult read = execute_read(read_only, request);
  TxnResult full = execute(*t, request, any_lease);
  EXPECT_EQ(read.revision, 6);
  EXPECT_EQ(full.revision, 6);
  EXPECT_TRUE(read.succeeded);
  EXPECT_EQ(range_at(read, 0).kvs, range_at(full, 0).kvs);
  EXPECT_EQ(range_at(txn_at(read, 1), 0).kvs, range_at(txn_at(full, 1), 0).kvs);
  EXPECT_FALSE(txn_at(read, 1).succeeded);
  EXPECT_EQ(s->revision(), 6);
}

TEST(TxnReadOnly, ExecuteReadChecksRevisions) {
  auto s = sample_store();
  EXPECT_EQ(error_of([&] { execute_read(*s, txn({}, {get("a", "", 7)})); }), kFuture);
  s->compact(5);
  EXPECT_EQ(error_of([&] { execute_read(*s, txn({}, {get("a", "", 4)})); }), kCompacted);
  EXPECT_EQ(range_at(execute_read(*s, txn({}, {get("a", "", 5)})), 0).kvs.at(0).value, "a2");
}

}  // namespace
}  // namespace etcdlab::txn::testing
