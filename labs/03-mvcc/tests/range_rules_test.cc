// Lab 3, part B: range and its options, row by row of etcd-v3-json-api.md §4.1: the range_end
// rules, limit and more, count (which ignores limit and the filters), count_only, keys_only,
// sorting (before the limit, stable, NONE with a non-key target ascends) and the filters.
#include <gtest/gtest.h>

#include "mvcc_test_util.h"

namespace etcdlab::lab3 {
namespace {

// a b c d e, put in this order with values that sort the other way: revisions 2..6.
std::unique_ptr<KvStore> five_keys() {
  auto s = memory_store();
  s->put("a", "5");
  s->put("b", "4");
  s->put("c", "3");
  s->put("d", "2");
  s->put("e", "1");
  return s;
}

std::vector<std::string> keys_of(const RangeResult& r) {
  std::vector<std::string> out;
  for (const auto& kv : r.kvs) out.push_back(kv.key);
  return out;
}

using Keys = std::vector<std::string>;

RangeOptions sorted(SortOrder order, SortTarget target, int64_t limit = 0) {
  RangeOptions o;
  o.sort_order = order;
  o.sort_target = target;
  o.limit = limit;
  return o;
}

}  // namespace

TEST(RangeRules, ASingleKeyReadReturnsTheKeyWithAllItsFields) {
  auto s = five_keys();
  s->put("c", "33", 8);
  auto r = s->range(key("c"));
  EXPECT_EQ(r.kvs, std::vector{kv("c", 4, 7, 2, "33", 8)});
  EXPECT_EQ(r.count, 1);
  EXPECT_FALSE(r.more);
  EXPECT_EQ(r.revision, 7);
}

TEST(RangeRules, AMissingKeyGivesNoKvsAndCountZero) {
  auto s = five_keys();
  auto r = s->range(key("zz"));
  EXPECT_TRUE(r.kvs.empty());
  EXPECT_EQ(r.count, 0);
  EXPECT_FALSE(r.more);
  EXPECT_EQ(r.revision, 6) << "the header revision is there even when nothing is found";
}

TEST(RangeRules, ARangeIsHalfOpenAndBytewise) {
  auto s = memory_store();
  for (std::string k : {"a", "a\x01", "ab", "b", "b\x7f", "b\x80", "b\xff", "c"}) s->put(k, "v");
  EXPECT_EQ(keys_of(s->range(span("a", "b"))), (Keys{"a", "a\x01", "ab"}));
  EXPECT_EQ(keys_of(s->range(span("b\x7f", "b\xff"))), (Keys{"b\x7f", "b\x80"}))
      << "bytes compare as unsigned";
  EXPECT_EQ(keys_of(s->range(span("a\x01", "ab"))), (Keys{"a\x01"}));
}

TEST(RangeRules, RangeEndZeroByteMeansEveryKeyFromKey) {
  auto s = five_keys();
  EXPECT_EQ(keys_of(s->range(from("c"))), (Keys{"c", "d", "e"}));
  EXPECT_EQ(keys_of(s->range(everything())), (Keys{"a", "b", "c", "d", "e"}))
      << "key \"\\0\" and range_end \"\\0\": all keys";
  EXPECT_EQ(s->range(everything()).count, 5);
}

TEST(RangeRules, RangeEndAtOrBelowKeyIsEmptyWithoutError) {
  auto s = five_keys();
  for (auto r : {span("c", "c"), span("d", "b"), span("e", "a\xff")}) {
    auto res = s->range(r);
    EXPECT_TRUE(res.kvs.empty());
    EXPECT_EQ(res.count, 0);
    EXPECT_EQ(res.revision, 6);
  }
}

TEST(RangeRules, PrefixEndIncrementsTheLastByteAfterDroppingTrailingFF) {
  EXPECT_EQ(prefix_end("aa"), "ab");
  EXPECT_EQ(prefix_end("a\xff"), "b");
  EXPECT_EQ(prefix_end("a\xff\xff"), "b");
  EXPECT_EQ(prefix_end("\x01\xfe"), "\x01\xff");
  EXPECT_EQ(prefix_end("\xff\xff"), std::string(1, '\0')) << "no bound: every key";
  EXPECT_EQ(prefix_end(""), std::string(1, '\0'));
  auto s = memory_store();
  for (std::string k : {"/svc", "/svc/a", "/svc/b", "/svc0", "/svd", "/sv"}) s->put(k, "v");
  EXPECT_EQ(keys_of(s->range(span("/svc/", prefix_end("/svc/")))), (Keys{"/svc/a", "/svc/b"}));
  EXPECT_EQ(keys_of(s->range(span("/svc", prefix_end("/svc")))),
            (Keys{"/svc", "/svc/a", "/svc/b", "/svc0"}));
}

TEST(RangeRules, AnEmptyKeyIsRefused) {
  auto s = five_keys();
  EXPECT_MVCC_ERROR(MvccError::Code::kEmptyKey, kEmptyKeyMessage, s->range(key("")));
  EXPECT_MVCC_ERROR(MvccError::Code::kEmptyKey, kEmptyKeyMessage, s->range(span("", "z")));
  auto w = s->write();
  EXPECT_MVCC_ERROR(MvccError::Code::kEmptyKey, kEmptyKeyMessage, w.range(key(""), {}));
}

TEST(RangeRules, LimitCutsTheResultAndSetsMore) {
  auto s = five_keys();
  RangeOptions o;
  o.limit = 2;
  auto r = s->range(everything(), o);
  EXPECT_EQ(keys_of(r), (Keys{"a", "b"}));
  EXPECT_TRUE(r.more);
  EXPECT_EQ(r.count, 5) << "count ignores the limit";
  o.limit = 5;
  r = s->range(everything(), o);
  EXPECT_EQ(r.kvs.size(), 5u);
  EXPECT_FALSE(r.more) << "exactly the limit: nothing more";
}

TEST(RangeRules, ALimitOfZeroOrLessMeansNoLimit) {
  auto s = five_keys();
  for (int64_t limit : {0, -1, -100}) {
    RangeOptions o;
    o.limit = limit;
    auto r = s->range(everything(), o);
    EXPECT_EQ(r.kvs.size(), 5u) << limit;
    EXPECT_FALSE(r.more) << limit;
  }
}

TEST(RangeRules, CountOnlyGivesTheCountAndNoKvs) {
  auto s = five_keys();
  RangeOptions o;
  o.count_only = true;
  o.limit = 1;
  auto r = s->range(span("b", "e"), o);
  EXPECT_TRUE(r.kvs.empty());
  EXPECT_EQ(r.count, 3);
  EXPECT_FALSE(r.more);
}

TEST(RangeRules, KeysOnlyDropsTheValueButKeepsTheLease) {
  auto s = memory_store();
  s->put("a", "value", 77);
  RangeOptions o;
  o.keys_only = true;
  EXPECT_EQ(s->range(key("a"), o).kvs, std::vector{kv("a", 2, 2, 1, "", 77)});
}

TEST(RangeRules, NoneOrderIsAscendingKeyOrder) {
  auto s = memory_store();
  for (std::string k : {"d", "b", "e", "a", "c"}) s->put(k, "v");
  EXPECT_EQ(keys_of(s->range(everything())), (Keys{"a", "b", "c", "d", "e"}));
}

TEST(RangeRules, SortingHappensBeforeTheLimit) {
  auto s = five_keys();
  auto r = s->range(everything(), sorted(SortOrder::kDescend, SortTarget::kKey, 2));
  EXPECT_EQ(keys_of(r), (Keys{"e", "d"})) << "the two highest keys, not the first two reversed";
  EXPECT_TRUE(r.more);
  r = s->range(everything(), sorted(SortOrder::kAscend, SortTarget::kValue, 2));
  EXPECT_EQ(keys_of(r), (Keys{"e", "d"})) << "values 1 and 2";
  EXPECT_EQ(r.count, 5);
}

TEST(RangeRules, EachSortTargetSortsByItsField) {
  auto s = memory_store();
  s->put("a", "x");  // 2
  s->put("b", "z");  // 3
  s->put("c", "y");  // 4
  s->put("a", "w");  // 5: a is version 2, mod 5
  s->put("a", "w");  // 6: version 3, mod 6
  s->put("b", "z");  // 7: b version 2, mod 7
  EXPECT_EQ(keys_of(s->range(everything(), sorted(SortOrder::kAscend, SortTarget::kVersion))),
            (Keys{"c", "b", "a"}));
  EXPECT_EQ(keys_of(s->range(everything(), sorted(SortOrder::kDescend, SortTarget::kCreate))),
            (Keys{"c", "b", "a"}));
  EXPECT_EQ(keys_of(s->range(everything(), sorted(SortOrder::kAscend, SortTarget::kMod))),
            (Keys{"c", "a", "b"}));
  EXPECT_EQ(keys_of(s->range(everything(), sorted(SortOrder::kDescend, SortTarget::kValue))),
            (Keys{"b", "c", "a"}));
  EXPECT_EQ(keys_of(s->range(everything(), sorted(SortOrder::kDescend, SortTarget::kKey))),
            (Keys{"c", "b", "a"}));
}

TEST(RangeRules, NoneOrderWithATargetOtherThanKeyAscends) {
  auto s = five_keys();  // values a=5 b=4 c=3 d=2 e=1
  auto r = s->range(everything(), sorted(SortOrder::kNone, SortTarget::kValue));
  EXPECT_EQ(keys_of(r), (Keys{"e", "d", "c", "b", "a"}));
  r = s->range(everything(), sorted(SortOrder::kNone, SortTarget::kMod));
  EXPECT_EQ(keys_of(r), (Keys{"a", "b", "c", "d", "e"}));
}

// etcd 3.4 (apply.go): with sort_order NONE and no filter, the limit is applied when the keys
// are fetched, in key order (limit + 1 of them, to know `more`); only then are they sorted by
// the target. So this returns d, c, b (the first four keys by value), not e, d, c.
TEST(RangeRules, NoneOrderTakesTheLimitInKeyOrderBeforeSorting) {
  auto s = five_keys();
  auto r = s->range(everything(), sorted(SortOrder::kNone, SortTarget::kValue, 3));
  EXPECT_EQ(keys_of(r), (Keys{"d", "c", "b"}));
  EXPECT_TRUE(r.more);
  r = s->range(everything(), sorted(SortOrder::kAscend, SortTarget::kValue, 3));
  EXPECT_EQ(keys_of(r), (Keys{"e", "d", "c"})) << "an explicit order sorts every key first";
  EXPECT_TRUE(r.more);
}

TEST(RangeRules, TheSortIsStableTiesStayInKeyOrder) {
  auto s = memory_store();
  for (std::string k : {"e", "c", "a", "d", "b"}) s->put(k, k == "c" || k == "a" ? "1" : "2");
  EXPECT_EQ(keys_of(s->range(everything(), sorted(SortOrder::kAscend, SortTarget::kValue))),
            (Keys{"a", "c", "b", "d", "e"}));
  EXPECT_EQ(keys_of(s->range(everything(), sorted(SortOrder::kDescend, SortTarget::kValue))),
            (Keys{"b", "d", "e", "a", "c"}));
  EXPECT_EQ(keys_of(s->range(everything(), sorted(SortOrder::kDescend, SortTarget::kVersion))),
            (Keys{"a", "b", "c", "d", "e"}))
      << "all at version 1";
  // Enough keys that an unstable sort (std::sort) shows it.
  auto many = memory_store();
  Keys by_value[3];
  for (int i = 0; i < 60; ++i) {
    std::string k = "k" + std::to_string(100 + (i * 37) % 60);
    many->put(k, std::to_string(i % 3));
  }
  for (const auto& kv : many->range(everything()).kvs)
    by_value[kv.value[0] - '0'].push_back(kv.key);
  Keys ascending, descending;
  for (int v = 0; v < 3; ++v)
    ascending.insert(ascending.end(), by_value[v].begin(), by_value[v].end());
  for (int v = 2; v >= 0; --v) {
    descending.insert(descending.end(), by_value[v].begin(), by_value[v].end());
  }
  EXPECT_EQ(keys_of(many->range(everything(), sorted(SortOrder::kAscend, SortTarget::kValue))),
            ascending);
  EXPECT_EQ(keys_of(many->range(everything(), sorted(SortOrder::kDescend, SortTarget::kValue))),
            descending);
  EXPECT_EQ(keys_of(many->range(everything(), sorted(SortOrder::kAscend, SortTarget::kVersion))),
            keys_of(many->range(everything())));
}

TEST(RangeRules, ModAndCreateFiltersDropKvsButNotTheCount) {
  auto s = five_keys();  // a..e created and modified at 2..6
  s->put("a", "5'");     // a: create 2, mod 7
  RangeOptions o;
  o.min_mod_revision = 4;
  o.max_mod_revision = 6;
  auto r = s->range(everything(), o);
  EXPECT_EQ(keys_of(r), (Keys{"c", "d", "e"}));
  EXPECT_EQ(r.count, 6 - 1) << "count ignores the filters";
  o = RangeOptions{};
  o.max_create_revision = 3;
  r = s->range(everything(), o);
  EXPECT_EQ(keys_of(r), (Keys{"a", "b"}));
  EXPECT_EQ(r.count, 5);
  o = RangeOptions{};
  o.min_create_revision = 5;
  o.max_mod_revision = 5;
  EXPECT_EQ(keys_of(s->range(everything(), o)), (Keys{"d"}));
  o = RangeOptions{};
  o.min_mod_revision = 7;
  EXPECT_EQ(s->range(everything(), o).kvs, std::vector{kv("a", 2, 7, 2, "5'")});
}

TEST(RangeRules, MoreCountsWhatTheFiltersLeft) {
  auto s = five_keys();
  RangeOptions o;
  o.min_mod_revision = 5;  // d and e
  o.limit = 2;
  auto r = s->range(everything(), o);
  EXPECT_EQ(keys_of(r), (Keys{"d", "e"}));
  EXPECT_FALSE(r.more) << "two kvs pass the filter: the limit of two cuts nothing";
  EXPECT_EQ(r.count, 5);
  o.limit = 1;
  r = s->range(everything(), o);
  EXPECT_EQ(keys_of(r), (Keys{"d"}));
  EXPECT_TRUE(r.more);
}

TEST(RangeRules, OptionsCombineInEtcdsOrder) {
  auto s = five_keys();
  RangeOptions o = sorted(SortOrder::kDescend, SortTarget::kCreate, 2);
  o.max_mod_revision = 5;  // a b c d
  o.keys_only = true;
  auto r = s->range(span("b", "z"), o);  // b c d e, filtered: b c d; sorted: d c b; limited
  EXPECT_EQ(r.kvs, (std::vector{kv("d", 5, 5, 1, ""), kv("c", 4, 4, 1, "")}));
  EXPECT_TRUE(r.more);
  EXPECT_EQ(r.count, 4);
}

TEST(RangeRules, ARangeInsideAWriteSeesItsPutsAndDeletesMergedInKeyOrder) {
  auto s = five_keys();
  auto w = s->write();
  w.delete_range(key("b"));
  w.put("bb", "new", 0);
  w.put("d", "changed", 0);
  RangeOptions o;
  o.limit = 3;
  auto r = w.range(span("a", "e"), o);
  EXPECT_EQ(r.kvs,
            (std::vector{kv("a", 2, 2, 1, "5"), kv("bb", 7, 7, 1, "new"), kv("c", 4, 4, 1, "3")}));
  EXPECT_TRUE(r.more);
  EXPECT_EQ(r.count, 4);
  EXPECT_EQ(r.revision, 7);
  o = sorted(SortOrder::kDescend, SortTarget::kVersion, 1);
  EXPECT_EQ(w.range(everything(), o).kvs, std::vector{kv("d", 5, 7, 2, "changed")});
  RangeOptions before;
  before.revision = 6;
  EXPECT_EQ(keys_of(w.range(span("a", "e"), before)), (Keys{"a", "b", "c", "d"}))
      << "at the store's revision, without the write's changes";
}

// etcd 3.4 (apply.go) fetches every key before sorting and limiting as soon as ANY filter is set,
// even with sort_order NONE: each filter alone must switch off the limit + 1 key-order fetch.
TEST(RangeRules, AnyFilterAloneFetchesEveryKeyBeforeTheLimit) {
  auto s = five_keys();  // values sort e d c b a
  for (int which = 0; which < 4; ++which) {
    RangeOptions o = sorted(SortOrder::kNone, SortTarget::kValue, 2);
    const char* name[] = {"min_mod_revision", "max_mod_revision", "min_create_revision",
                          "max_create_revision"};
    SCOPED_TRACE(name[which]);
    if (which == 0) o.min_mod_revision = 2;  // each filter lets every key through
    if (which == 1) o.max_mod_revision = 6;
    if (which == 2) o.min_create_revision = 2;
    if (which == 3) o.max_create_revision = 6;
    auto r = s->range(everything(), o);
    EXPECT_EQ(keys_of(r), (Keys{"e", "d"})) << "sorted by value over all five keys";
    EXPECT_TRUE(r.more);
  }
}

}  // namespace etcdlab::lab3
