// Part A: validation before the log (etcd 3.4's checkTxnRequest and checkIntervals).
#include "txn_test_util.h"

namespace etcdlab::txn::testing {
namespace {

std::vector<RequestOp> puts(size_t n, const std::string& prefix = "k") {
  std::vector<RequestOp> out;
  for (size_t i = 0; i < n; ++i) out.push_back(put(prefix + std::to_string(i), "v"));
  return out;
}
std::vector<Compare> compares(size_t n) {
  std::vector<Compare> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(cmp(CompareTarget::kVersion, CompareResult::kEqual, "c" + std::to_string(i), 0));
  }
  return out;
}
std::string check(const TxnRequest& r, size_t max_ops = 128) {
  return error_of([&] { validate(r, max_ops); });
}

TEST(TxnValidate, TooManyOpsIsTheLongestListOverTheLimit) {
  EXPECT_EQ(check(txn({}, puts(128))), "");
  EXPECT_EQ(check(txn({}, puts(129))), kTooMany);
  EXPECT_EQ(check(txn(compares(129), {})), kTooMany);
  EXPECT_EQ(check(txn({}, {}, puts(129))), kTooMany);
  // The lists are not summed: 128 compares, 128 puts and 128 others pass.
  EXPECT_EQ(check(txn(compares(128), puts(128), puts(128, "f"))), "");
  EXPECT_EQ(check(txn({}, puts(3)), 2), kTooMany);  // the limit is the caller's
}

TEST(TxnValidate, NestedTxnHasWhatItsParentLeaves) {
  // The parent's longest list is 100 (99 puts and the nested txn): 28 are left for it.
  auto with_nested = [](size_t inner) {
    std::vector<RequestOp> ops = puts(99, "p");
    ops.push_back(nested(txn({}, puts(inner, "n"))));
    return txn({}, ops);
  };
  EXPECT_EQ(check(with_nested(28)), "");
  EXPECT_EQ(check(with_nested(29)), kTooMany);
  EXPECT_EQ(check(txn(compares(100), {nested(txn(compares(29), {}))})), kTooMany);
}

TEST(TxnValidate, EmptyOperationIsKeyNotFound) {
  EXPECT_EQ(check(txn({}, {std::monostate{}})), kKeyNotFound);
  EXPECT_EQ(check(txn({}, {}, {put("a", "1"), std::monostate{}})), kKeyNotFound);
  EXPECT_EQ(check(txn({}, {nested(txn({}, {}, {std::monostate{}}))})), kKeyNotFound);
  EXPECT_EQ(check(txn({}, {NestedTxn{}})), kKeyNotFound);  // a nested txn that is not there
}

TEST(TxnValidate, EveryKeyMustBeGiven) {
  EXPECT_EQ(check(txn({cmp(CompareTarget::kVersion, CompareResult::kEqual, "", 0)}, {})), kEmptyKey);
  EXPECT_EQ(check(txn({}, {get("")})), kEmptyKey);
  EXPECT_EQ(check(txn({}, {}, {put("", "v")})), kEmptyKey);
  EXPECT_EQ(check(txn({}, {del("")})), kEmptyKey);
  EXPECT_EQ(check(txn({}, {nested(txn({}, {}, {get("")}))})), kEmptyKey);
}

TEST(TxnValidate, PutOptionsAreCheckedInBothLists) {
  PutOp keep_value;
  keep_value.key = "a";
  keep_value.value = "v";
  keep_value.options.ignore_value = true;
  EXPECT_EQ(check(txn({}, {}, {keep_value})), "etcdserver: value is provided");
  PutOp keep_lease;
  keep_lease.key = "a";
  keep_lease.lease = 5;
  keep_lease.options.ignore_lease = true;
  EXPECT_EQ(check(txn({}, {keep_lease})), "etcdserver: lease is provided");
}

TEST(TxnValidate, PutOptionsRefuseOnlyAValueOrLeaseTheyWouldIgnore) {
  // Only the contradiction is refused: keeping the value while sending one, keeping the lease
  // while naming one. A put with a lease is an ordinary put (a lock's key is one).
  EXPECT_EQ(check(txn({}, {put("a", "v", 5)})), "") << "a lease without ignore_lease";
  PutOp keep_value;
  keep_value.key = "a";
  keep_value.lease = 5;
  keep_value.options.ignore_value = true;
  EXPECT_EQ(check(txn({}, {keep_value})), "") << "ignore_value with no value (and a new lease)";
  PutOp keep_lease;
  keep_lease.key = "b";
  keep_lease.value = "v";
  keep_lease.options.ignore_lease = true;
  EXPECT_EQ(check(txn({}, {}, {keep_lease})), "") << "ignore_lease with lease 0";
}

TEST(TxnValidate, ChecksRunInOrder) {
  // Too many operations is found before a missing key, a missing key before a duplicate.
  std::vector<RequestOp> ops = puts(129);
  ops[5] = put("", "v");
  EXPECT_EQ(check(txn({}, ops)), kTooMany);
  EXPECT_EQ(check(txn({}, {put("a", "1"), put("a", "2"), get("")})), kEmptyKey);
}

TEST(TxnValidate, TwoPutsOfOneKeyAreDuplicates) {
  EXPECT_EQ(check(txn({}, {put("a", "1"), put("a", "2")})), kDuplicate);
  EXPECT_EQ(check(txn({}, {}, {put("a", "1"), get("a"), put("a", "2")})), kDuplicate);
  EXPECT_EQ(check(txn({}, {put("a", "1"), put("b", "2")})), "");
}

TEST(TxnValidate, PutInsideADeleteOfTheSameListIsADuplicate) {
  EXPECT_EQ(check(txn({}, {del("a", "c"), put("b", "v")})), kDuplicate);
  EXPECT_EQ(check(txn({}, {put("b", "v"), del("a", "c")})), kDuplicate);  // either order
  EXPECT_EQ(check(txn({}, {del("b"), put("b", "v")})), kDuplicate);       // one key
  EXPECT_EQ(check(txn({}, {del("a", "c"), put("c", "v")})), "");          // the end is open
  EXPECT_EQ(check(txn({}, {del("b"), put("ba", "v")})), "");
}

TEST(TxnValidate, DeletesEtcdCannotSeeNeverConflict) {
  // etcd's interval tree does not see a delete to the end ("\0") or an empty range.
  EXPECT_EQ(check(txn({}, {del("a", std::string(1, '\0')), put("b", "v")})), "");
  EXPECT_EQ(check(txn({}, {del("c", "a"), put("b", "v")})), "");
}

TEST(TxnValidate, WhatEtcdAllows) {
  EXPECT_EQ(check(txn({}, {get("a"), get("a"), del("a", "c"), del("b", "d")})), "");
  EXPECT_EQ(check(txn({}, {put("a", "1")}, {put("a", "2")})), "");  // one list runs
  EXPECT_EQ(check(txn({}, {put("a", "1")}, {del("a")})), "");
}

TEST(TxnValidate, NestedPutsCountAsTheParentsPuts) {
  EXPECT_EQ(check(txn({}, {put("a", "1"), nested(txn({}, {put("a", "2")}))})), kDuplicate);
  EXPECT_EQ(check(txn({}, {nested(txn({}, {}, {put("a", "2")})), put("a", "1")})), kDuplicate);
  // Two nested txns of one list: each may run.
  EXPECT_EQ(check(txn({}, {nested(txn({}, {}, {put("a", "1")})), nested(txn({}, {put("a", "2")}))})),
            kDuplicate);
  // A nested txn's failure list counts as much as its success list: either may run.
  EXPECT_EQ(
      check(txn({}, {nested(txn({}, {put("a", "1")})), nested(txn({}, {}, {put("a", "2")}))})),
      kDuplicate);
  // A nested txn may put one key in both of its lists: only one of them runs.
  EXPECT_EQ(check(txn({}, {nested(txn({}, {put("a", "1")}, {put("a", "2")}))})), "");
  EXPECT_EQ(check(txn({}, {nested(txn({}, {}, {put("a", "2")})), put("b", "1")})), "")
      << "a nested failure list's put of a key nobody else puts";
}

TEST(TxnValidate, NestedDeletesCountAsTheParentsDeletes) {
  EXPECT_EQ(check(txn({}, {put("b", "1"), nested(txn({}, {del("a", "c")}))})), kDuplicate);
  EXPECT_EQ(check(txn({}, {del("a", "c"), nested(txn({}, {}, {put("b", "1")}))})), kDuplicate);
  EXPECT_EQ(check(txn({}, {nested(txn({}, {del("a", "c")})), nested(txn({}, {put("b", "1")}))})),
            kDuplicate);
  EXPECT_EQ(check(txn({}, {nested(txn({}, {}, {del("a", "c")})), put("b", "1")})), kDuplicate)
      << "a nested failure list's delete counts as well";
  // The other list of the parent is another matter.
  EXPECT_EQ(check(txn({}, {put("b", "1")}, {nested(txn({}, {del("a", "c")}))})), "");
}

}  // namespace
}  // namespace etcdlab::txn::testing
