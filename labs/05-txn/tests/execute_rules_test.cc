// Part B: a txn applied atomically at one revision (etcd 3.4's applierV3backend.Txn).
#include "txn_test_util.h"

namespace etcdlab::txn::testing {
namespace {

using T = CompareTarget;
using R = CompareResult;

TEST(TxnExecute, TheComparesChooseTheList) {
  auto s = sample_store();
  TxnResult yes = execute(*s, txn({value_is("a", "a3")}, {put("x", "yes")}, {put("x", "no")}), any_lease);
  EXPECT_TRUE(yes.succeeded);
  EXPECT_EQ(value_of(*s, "x"), "yes");
  TxnResult no = execute(*s, txn({value_is("a", "a3"), value_is("b", "zz")}, {put("x", "yes2")},
                                 {put("x", "no")}), any_lease);
  EXPECT_FALSE(no.succeeded) << "compares are ANDed";
  EXPECT_EQ(value_of(*s, "x"), "no");
  TxnResult empty = execute(*s, txn({}, {get("a")}, {put("x", "never")}), any_lease);
  EXPECT_TRUE(empty.succeeded) << "no compare holds trivially";
}

TEST(TxnExecute, EveryWriteOfTheTxnSharesOneRevision) {
  auto s = sample_store();  // revision 6
  std::vector<mvcc::Event> events;
  TxnResult r = execute(*s, txn({}, {put("x", "1"), put("y", "2"), del("c"), put("z", "3")}),
                        any_lease, &events);
  EXPECT_EQ(r.revision, 7);
  EXPECT_EQ(s->revision(), 7) << "the revision moves by exactly one, whatever the txn writes";
  ASSERT_EQ(events.size(), 4u) << "one write, with every event of the txn";
  for (const auto& e : events) EXPECT_EQ(e.kv.mod_revision, 7) << e.kv.key;
  EXPECT_EQ(s->range(KeyRange{"x", ""}, {.revision = 6}).kvs.size(), 0u)
      << "nothing of the txn is visible before its revision";
  EXPECT_EQ(s->range(KeyRange{"z", ""}).kvs.at(0).mod_revision, 7);
  EXPECT_EQ(s->range(KeyRange{"c", ""}, {.revision = 6}).kvs.size(), 1u);
}

TEST(TxnExecute, ATxnThatWritesNothingKeepsTheRevision) {
  auto s = sample_store();
  TxnResult r = execute(*s, txn({}, {get("a"), del("nokey"), get("b", "d")}), any_lease);
  EXPECT_EQ(r.revision, 6);
  EXPECT_EQ(s->revision(), 6);
  EXPECT_EQ(range_at(r, 0).kvs.at(0).value, "a3");
  EXPECT_EQ(del_at(r, 1).deleted, 0);
  EXPECT_EQ(range_at(r, 2).count, 2);
}

TEST(TxnExecute, LaterOperationsSeeEarlierOnes) {
  auto s = sample_store();
  TxnResult r = execute(*s, txn({}, {put("a", "new"), get("a"), del("b"), get("a", "z")}), any_lease);
  const auto& after_put = range_at(r, 1);
  ASSERT_EQ(after_put.kvs.size(), 1u);
  EXPECT_EQ(after_put.kvs[0].value, "new");
  EXPECT_EQ(after_put.kvs[0].version, 4);
  EXPECT_EQ(after_put.kvs[0].mod_revision, 7);
  EXPECT_EQ(range_at(r, 3).count, 2) << "a and c: b was deleted by this txn";
}

TEST(TxnExecute, SubResponsesCarryTheRevisionAsTheWriteSeesIt) {
  auto s = sample_store();  // revision 6
  TxnResult r = execute(*s, txn({}, {get("a"), del("nokey"), put("x", "1"), get("a"), del("nokey2")}),
                        any_lease);
  EXPECT_EQ(range_at(r, 0).revision, 6) << "before anything is written: the store's revision";
  EXPECT_EQ(del_at(r, 1).revision, 6);
  EXPECT_EQ(put_at(r, 2).revision, 7) << "a put: the txn's revision";
  EXPECT_EQ(range_at(r, 3).revision, 7) << "after a write: the txn's revision";
  EXPECT_EQ(del_at(r, 4).revision, 7);
}

TEST(TxnExecute, NestedTxnsRunInOrderAndCarryNoRevision) {
  auto s = sample_store();
  TxnResult r = execute(*s,
                        txn({}, {put("x", "1"),
                                 nested(txn({value_is("a", "a3")}, {get("x"), put("y", "2")},
                                            {put("y", "no")})),
                                 nested(txn({value_is("a", "zz")}, {put("w", "no")}, {get("y")}))}),
                        any_lease);
  EXPECT_EQ(r.revision, 7);
  const TxnResult& first = txn_at(r, 1);
  EXPECT_TRUE(first.succeeded);
  EXPECT_EQ(first.revision, 0) << "a nested result has an empty header";
  EXPECT_EQ(range_at(first, 0).kvs.at(0).value, "1");
  const TxnResult& second = txn_at(r, 2);
  EXPECT_FALSE(second.succeeded);
  EXPECT_EQ(range_at(second, 0).kvs.at(0).value, "2");
  EXPECT_EQ(value_of(*s, "w"), "<missing>");
}

TEST(TxnExecute, EveryCompareSeesTheStoreBeforeTheTxn) {
  // etcd decides every level's list before running anything: a nested compare does not see
  // the txn's own earlier writes.
  auto s = sample_store();
  TxnResult r = execute(
      *s,
      txn({}, {put("n", "x"), nested(txn({cmp(T::kCreate, R::kGreater, "n", 0)}, {put("m", "seen")},
                                         {put("m", "unseen")}))}),
      any_lease);
  EXPECT_FALSE(txn_at(r, 1).succeeded);
  EXPECT_EQ(value_of(*s, "m"), "unseen");
}

TEST(TxnExecute, APutsLeaseMustExist) {
  auto s = sample_store();
  std::string err = error_of([&] {
    execute(*s, txn({}, {put("x", "1"), put("y", "2", 42)}), [](int64_t lease) { return lease == 7; });
  });
  EXPECT_EQ(err, kLeaseNotFound);
  EXPECT_EQ(s->revision(), 6) << "a failed txn writes nothing";
  EXPECT_EQ(value_of(*s, "x"), "<missing>");
  // Only the list that runs is checked.
  TxnResult r = execute(*s, txn({}, {put("x", "1", 7)}, {put("y", "2", 42)}),
                        [](int64_t lease) { return lease == 7; });
  EXPECT_TRUE(r.succeeded);
  EXPECT_EQ(s->range(KeyRange{"x", ""}).kvs.at(0).lease, 7);
}

TEST(TxnExecute, KeepingTheValueNeedsTheKeyBeforeTheTxn) {
  auto s = sample_store();
  PutOp keep;
  keep.key = "x";
  keep.options.ignore_value = true;
  // x does not exist before the txn: the check fails, and nothing is written (not even y).
  EXPECT_EQ(error_of([&] { execute(*s, txn({}, {put("y", "1"), keep}), any_lease); }), kKeyNotFound);
  EXPECT_EQ(s->revision(), 6);
  keep.key = "a";
  TxnResult r = execute(*s, txn({}, {keep}), any_lease);
  EXPECT_EQ(r.revision, 7);
  EXPECT_EQ(value_of(*s, "a"), "a3");
}

TEST(TxnExecute, RangeRevisionsAreCheckedBeforeAnythingRuns) {
  auto s = sample_store();
  EXPECT_EQ(error_of([&] { execute(*s, txn({}, {put("x", "1"), get("a", "", 7)}), any_lease); }), kFuture)
      << "revision 7 is the txn's own: still the future when the txn is checked";
  EXPECT_EQ(s->revision(), 6);
  s->compact(4);
  EXPECT_EQ(error_of([&] { execute(*s, txn({}, {put("x", "1"), get("a", "", 3)}), any_lease); }),
            kCompacted);
  EXPECT_EQ(value_of(*s, "x"), "<missing>");
  // In the list that does not run, nothing is checked.
  EXPECT_TRUE(execute(*s, txn({}, {get("a", "", 4)}, {get("a", "", 99)}), any_lease).succeeded);
  // etcd's quirk: a negative revision reads now, unless the store was compacted (it is then
  // below etcd's first revision).
  auto fresh = sample_store();
  EXPECT_EQ(range_at(execute(*fresh, txn({}, {get("a", "", -1)}), any_lease), 0).kvs.at(0).value, "a3");
  EXPECT_EQ(error_of([&] { execute(*s, txn({}, {get("a", "", -1)}), any_lease); }), kCompacted);
}

TEST(TxnExecute, PutChecksComeBeforeRangeChecks) {
  // etcd checks every chosen put first, then every chosen range: a txn that fails both ways
  // fails as its put does, even when its bad range comes first (nested ones included).
  auto s = sample_store();
  auto lease_7 = [](int64_t lease) { return lease == 7; };
  EXPECT_EQ(error_of([&] { execute(*s, txn({}, {get("a", "", 99), put("x", "1", 42)}), lease_7); }),
            kLeaseNotFound);
  PutOp keep;
  keep.key = "x";
  keep.options.ignore_value = true;
  EXPECT_EQ(error_of([&] {
              execute(*s, txn({}, {nested(txn({}, {get("a", "", 99)})), nested(txn({}, {keep}))}),
                      lease_7);
            }),
            kKeyNotFound);
  EXPECT_EQ(error_of([&] { execute(*s, txn({}, {get("a", "", 99), put("x", "1", 7)}), lease_7); }),
            kFuture);
  EXPECT_EQ(s->revision(), 6);
}

TEST(TxnExecute, AFailureHalfwayWritesNothing) {
  // A check cannot see everything: a delete to the end (which validate() cannot see either)
  // then a put keeping the value of a key it deleted. etcd 3.4 panics here; the txn fails.
  auto s = sample_store();
  PutOp keep;
  keep.key = "b";
  keep.options.ignore_value = true;
  std::string err = error_of([&] {
    execute(*s, txn({}, {put("x", "1"), del("a", std::string(1, '\0')), keep}), any_lease);
  });
  EXPECT_EQ(err, kKeyNotFound);
  EXPECT_EQ(s->revision(), 6);
  EXPECT_EQ(value_of(*s, "x"), "<missing>");
  EXPECT_EQ(value_of(*s, "a"), "a3");
}

TEST(TxnExecute, EventsAreTheWritesEvents) {
  auto s = sample_store();
  std::vector<mvcc::Event> events;
  execute(*s, txn({}, {del("a"), put("a", "again")}, {}), any_lease, &events);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, mvcc::Event::Type::kDelete);
  EXPECT_EQ(events[1].type, mvcc::Event::Type::kPut);
  EXPECT_EQ(events[1].kv.version, 1) << "a new generation";
  ASSERT_TRUE(events[0].prev_kv.has_value());
  EXPECT_EQ(events[0].prev_kv->value, "a3");
}

}  // namespace
}  // namespace etcdlab::txn::testing
