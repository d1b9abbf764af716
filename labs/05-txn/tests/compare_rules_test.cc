// Part A: compares (etcd's compareKV and applyCompare).
#include "txn_test_util.h"

namespace etcdlab::txn::testing {
namespace {

using T = CompareTarget;
using R = CompareResult;

mvcc::KeyValue kv(int64_t create, int64_t mod, int64_t version, std::string value,
                  int64_t lease = 0) {
  return mvcc::KeyValue{"k", create, mod, version, std::move(value), lease};
}

TEST(TxnCompare, NumbersCompareWithEveryOperator) {
  mvcc::KeyValue k = kv(2, 5, 3, "v", 9);
  struct Case {
    T target;
    int64_t field;
  } cases[] = {{T::kCreate, 2}, {T::kMod, 5}, {T::kVersion, 3}, {T::kLease, 9}};
  for (const auto& c : cases) {
    SCOPED_TRACE("target " + std::to_string(static_cast<int>(c.target)));
    EXPECT_TRUE(compare_kv(cmp(c.target, R::kEqual, "k", c.field), &k));
    EXPECT_FALSE(compare_kv(cmp(c.target, R::kEqual, "k", c.field + 1), &k));
    EXPECT_TRUE(compare_kv(cmp(c.target, R::kNotEqual, "k", c.field + 1), &k));
    EXPECT_FALSE(compare_kv(cmp(c.target, R::kNotEqual, "k", c.field), &k));
    EXPECT_TRUE(compare_kv(cmp(c.target, R::kGreater, "k", c.field - 1), &k));
    EXPECT_FALSE(compare_kv(cmp(c.target, R::kGreater, "k", c.field), &k));
    EXPECT_TRUE(compare_kv(cmp(c.target, R::kLess, "k", c.field + 1), &k));
    EXPECT_FALSE(compare_kv(cmp(c.target, R::kLess, "k", c.field), &k));
    // Numbers, not their decimal text: 10 > 9.
    EXPECT_TRUE(compare_kv(cmp(c.target, R::kLess, "k", c.field + 10), &k));
  }
}

TEST(TxnCompare, ValuesCompareBytewise) {
  mvcc::KeyValue k = kv(2, 2, 1, "ab");
  EXPECT_TRUE(compare_kv(value_is("k", "ab"), &k));
  EXPECT_TRUE(compare_kv(value_is("k", "a", R::kGreater), &k));   // a prefix is smaller
  EXPECT_TRUE(compare_kv(value_is("k", "b", R::kLess), &k));
  EXPECT_TRUE(compare_kv(value_is("k", "", R::kGreater), &k));
  EXPECT_TRUE(compare_kv(value_is("k", "\xff", R::kLess), &k));   // bytes are unsigned
  EXPECT_TRUE(compare_kv(value_is("k", "ab", R::kNotEqual), &k) == false);
  mvcc::KeyValue empty = kv(2, 2, 1, "");
  EXPECT_TRUE(compare_kv(value_is("k", ""), &empty));  // an existing empty value is ""
}

TEST(TxnCompare, MissingKeyComparesAsZeros) {
  EXPECT_TRUE(compare_kv(cmp(T::kVersion, R::kEqual, "k", 0), nullptr));
  EXPECT_TRUE(compare_kv(cmp(T::kCreate, R::kEqual, "k", 0), nullptr));  // "k does not exist"
  EXPECT_TRUE(compare_kv(cmp(T::kMod, R::kLess, "k", 1), nullptr));
  EXPECT_TRUE(compare_kv(cmp(T::kLease, R::kEqual, "k", 0), nullptr));
  EXPECT_FALSE(compare_kv(cmp(T::kCreate, R::kGreater, "k", 0), nullptr));
}

TEST(TxnCompare, ValueCompareOnMissingKeyIsAlwaysFalse) {
  // etcd cannot tell a missing value from "", so no value compare of a missing key holds.
  EXPECT_FALSE(compare_kv(value_is("k", ""), nullptr));
  EXPECT_FALSE(compare_kv(value_is("k", "x", R::kNotEqual), nullptr));
  EXPECT_FALSE(compare_kv(value_is("k", "x", R::kLess), nullptr));
  EXPECT_FALSE(compare_kv(value_is("k", "", R::kGreater), nullptr));
}

TEST(TxnCompare, OperandOfAnotherTargetComparesAsZero) {
  // A compare of the version that carries a mod_revision operand (a client's slip that the
  // request's oneof allows) compares the version with 0, as etcd does.
  mvcc::KeyValue k = kv(2, 3, 3, "v");
  Compare c = cmp(T::kVersion, R::kEqual, "k", 3);
  c.operand = T::kMod;
  EXPECT_FALSE(compare_kv(c, &k));
  c.result = R::kGreater;
  EXPECT_TRUE(compare_kv(c, &k));
  Compare none = cmp(T::kMod, R::kEqual, "k", 3);
  none.operand.reset();  // no operand at all
  EXPECT_FALSE(compare_kv(none, &k));
  Compare value = value_is("k", "v");
  value.operand = T::kVersion;
  EXPECT_FALSE(compare_kv(value, &k));  // compared with ""
  value.result = R::kGreater;
  EXPECT_TRUE(compare_kv(value, &k));
}

TEST(TxnCompare, RangeCompareNeedsEveryKey) {
  auto s = sample_store();  // a: mod 6, b: mod 3, c: mod 4
  RangeReader read = [&](const KeyRange& r, const mvcc::RangeOptions& o) { return s->range(r, o); };
  Compare all_created = cmp(T::kCreate, R::kGreater, "a", 0);
  all_created.range_end = "d";
  EXPECT_TRUE(compare_holds(all_created, read));
  Compare mod_above_3 = cmp(T::kMod, R::kGreater, "a", 3);
  mod_above_3.range_end = "d";
  EXPECT_FALSE(compare_holds(mod_above_3, read)) << "b's mod_revision is 3";
  Compare lease_zero = cmp(T::kLease, R::kEqual, "a", 0);
  lease_zero.range_end = std::string(1, '\0');  // from "a" to the end
  EXPECT_FALSE(compare_holds(lease_zero, read)) << "b has lease 7";
}

TEST(TxnCompare, EmptyRangeComparesAsOneMissingKey) {
  auto s = sample_store();
  RangeReader read = [&](const KeyRange& r, const mvcc::RangeOptions& o) { return s->range(r, o); };
  Compare none = cmp(T::kVersion, R::kEqual, "x", 0);
  none.range_end = "z";
  EXPECT_TRUE(compare_holds(none, read));
  Compare value = value_is("x", "");
  value.range_end = "z";
  EXPECT_FALSE(compare_holds(value, read));
  EXPECT_TRUE(compare_holds(cmp(T::kCreate, R::kEqual, "nokey", 0), read));
  EXPECT_TRUE(compare_holds(cmp(T::kVersion, R::kEqual, "a", 3), read));
  EXPECT_TRUE(compare_holds(value_is("b", "b1"), read));
}

TEST(TxnCompare, CompareHoldsReadsWhatTheReaderGives) {
  // compare_holds must read through the reader it is given (inside a txn, a Write's view).
  int calls = 0;
  RangeReader read = [&](const KeyRange& r, const mvcc::RangeOptions&) {
    ++calls;
    EXPECT_EQ(r.key, "k");
    mvcc::RangeResult out;
    out.kvs.push_back(kv(4, 4, 1, "seen"));
    out.count = 1;
    return out;
  };
  EXPECT_TRUE(compare_holds(value_is("k", "seen"), read));
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace etcdlab::txn::testing
