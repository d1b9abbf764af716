// Lab 3, part D: history. Reads at a past revision (and their errors: compacted, future),
// events_since (what watch replays in lab 4) and hash_kv (what members compare).
#include <gtest/gtest.h>

#include "mvcc_test_util.h"

namespace etcdlab::lab3 {
namespace {

// rev 2: a=1   rev 3: b=1   rev 4: a=2   rev 5: del a   rev 6: c=1, a=3 (one write)
std::unique_ptr<KvStore> with_history() {
  auto s = memory_store();
  s->put("a", "1");
  s->put("b", "1", 8);
  s->put("a", "2");
  s->delete_range(key("a"));
  auto w = s->write();
  w.put("c", "1", 0);
  w.put("a", "3", 0);
  w.end();
  return s;
}

}  // namespace

TEST(HistoricalReads, AReadAtAPastRevisionSeesTheStoreAsItWasThen) {
  auto s = with_history();
  EXPECT_TRUE(read(*s, everything(), 1).empty());
  EXPECT_EQ(read(*s, everything(), 2), std::vector{kv("a", 2, 2, 1, "1")});
  EXPECT_EQ(read(*s, everything(), 3),
            (std::vector{kv("a", 2, 2, 1, "1"), kv("b", 3, 3, 1, "1", 8)}));
  EXPECT_EQ(read(*s, everything(), 4),
            (std::vector{kv("a", 2, 4, 2, "2"), kv("b", 3, 3, 1, "1", 8)}));
  EXPECT_EQ(read(*s, everything(), 5), std::vector{kv("b", 3, 3, 1, "1", 8)});
  EXPECT_EQ(read(*s, everything(), 6),
            (std::vector{kv("a", 6, 6, 1, "3"), kv("b", 3, 3, 1, "1", 8), kv("c", 6, 6, 1, "1")}));
  RangeOptions o;
  o.revision = 4;
  o.count_only = true;
  EXPECT_EQ(s->range(everything(), o).count, 2);
}

TEST(HistoricalReads, TheHeaderRevisionIsTheCurrentOneNotTheOneRead) {
  auto s = with_history();
  RangeOptions o;
  o.revision = 3;
  EXPECT_EQ(s->range(key("a"), o).revision, 6);
}

TEST(HistoricalReads, ARevisionOfZeroOrLessReadsTheLatest) {
  auto s = with_history();
  for (int64_t r : {0, -1, -7}) {
    EXPECT_EQ(read(*s, key("a"), r), std::vector{kv("a", 6, 6, 1, "3")}) << r;
  }
}

TEST(HistoricalReads, AFutureRevisionIsAnErrorAndChangesNothing) {
  auto s = with_history();
  RangeOptions o;
  o.revision = 7;
  EXPECT_MVCC_ERROR(MvccError::Code::kFutureRevision, kFutureMessage, s->range(everything(), o));
  o.revision = 6;
  EXPECT_EQ(s->range(everything(), o).kvs.size(), 3u) << "the current revision is fine";
  auto w = s->write();
  o.revision = 7;
  EXPECT_MVCC_ERROR(MvccError::Code::kFutureRevision, kFutureMessage, w.range(everything(), o));
  w.put("z", "1", 0);
  EXPECT_EQ(w.range(everything(), o).kvs.size(), 4u) << "a write with changes is at 7";
  o.revision = 8;
  EXPECT_MVCC_ERROR(MvccError::Code::kFutureRevision, kFutureMessage, w.range(everything(), o));
  w.end();
  EXPECT_EQ(s->revision(), 7);
}

TEST(HistoricalReads, ARevisionBelowTheCompactRevisionIsAnError) {
  auto s = with_history();
  s->compact(4);
  RangeOptions o;
  for (int64_t r : {1, 2, 3}) {
    o.revision = r;
    EXPECT_MVCC_ERROR(MvccError::Code::kCompacted, kCompactedMessage, s->range(everything(), o));
  }
  o.revision = 4;
  EXPECT_EQ(s->range(everything(), o).kvs,
            (std::vector{kv("a", 2, 4, 2, "2"), kv("b", 3, 3, 1, "1", 8)}))
      << "the compact revision itself stays readable";
  EXPECT_EQ(s->revision(), 6);
}

TEST(HistoricalReads, HistorySurvivesARestart) {
  TempDir dir;
  std::string path = dir.file("kv.db");
  std::vector<std::vector<KeyValue>> before;
  {
    auto s = file_store(path);
    s->put("a", "1");
    s->put("b", "1");
    s->put("a", "2");
    s->delete_range(key("b"));
    s->put("b", "2");
    for (int64_t r = 1; r <= s->revision(); ++r) before.push_back(read(*s, everything(), r));
  }
  auto s = file_store(path);
  for (int64_t r = 1; r <= s->revision(); ++r) {
    EXPECT_EQ(read(*s, everything(), r), before[static_cast<size_t>(r - 1)]) << "at " << r;
  }
}

TEST(HistoricalReads, EventsSinceReplaysEveryWriteInOrder) {
  auto s = with_history();
  EXPECT_EQ(s->events_since(1, everything(), false), (std::vector<Event>{
                                                         put_event(kv("a", 2, 2, 1, "1")),
                                                         put_event(kv("b", 3, 3, 1, "1", 8)),
                                                         put_event(kv("a", 2, 4, 2, "2")),
                                                         delete_event("a", 5),
                                                         put_event(kv("c", 6, 6, 1, "1")),
                                                         put_event(kv("a", 6, 6, 1, "3")),
                                                     }));
  EXPECT_EQ(s->events_since(4, everything(), true),
            (std::vector<Event>{
                put_event(kv("a", 2, 4, 2, "2"), kv("a", 2, 2, 1, "1")),
                delete_event("a", 5, kv("a", 2, 4, 2, "2")),
                put_event(kv("c", 6, 6, 1, "1")),
                put_event(kv("a", 6, 6, 1, "3")),
            }));
}

TEST(HistoricalReads, EventsSinceKeepsOnlyTheRange) {
  auto s = with_history();
  EXPECT_EQ(s->events_since(3, key("a"), false),
            (std::vector<Event>{put_event(kv("a", 2, 4, 2, "2")), delete_event("a", 5),
                                put_event(kv("a", 6, 6, 1, "3"))}));
  EXPECT_EQ(
      s->events_since(1, span("b", "d"), false),
      (std::vector<Event>{put_event(kv("b", 3, 3, 1, "1", 8)), put_event(kv("c", 6, 6, 1, "1"))}));
  EXPECT_TRUE(s->events_since(7, everything(), false).empty()) << "nothing yet";
}

TEST(HistoricalReads, EventsSinceBelowTheCompactRevisionIsAnError) {
  auto s = with_history();
  s->compact(4);
  EXPECT_MVCC_ERROR(MvccError::Code::kCompacted, kCompactedMessage,
                    s->events_since(3, everything(), false));
  // From the compact revision on the events that remain are there; prev_kv needs the revision
  // before, which is gone at the compact revision itself.
  EXPECT_EQ(s->events_since(4, everything(), true), (std::vector<Event>{
                                                        put_event(kv("a", 2, 4, 2, "2")),
                                                        delete_event("a", 5, kv("a", 2, 4, 2, "2")),
                                                        put_event(kv("c", 6, 6, 1, "1")),
                                                        put_event(kv("a", 6, 6, 1, "3")),
                                                    }));
}

TEST(HistoricalReads, HashKvDependsOnlyOnWhatIsVisibleAtTheRevision) {
  auto s = memory_store();
  s->put("a", "1");           // 2
  s->put("b", "1");           // 3
  s->delete_range(key("b"));  // 4: the same keys as at 2
  uint32_t at2 = s->hash_kv(2);
  EXPECT_EQ(s->hash_kv(4), at2);
  EXPECT_EQ(s->hash_kv(0), at2) << "0: now";
  EXPECT_NE(s->hash_kv(3), at2);
  s->put("a", "1");  // 5: same value, but version 2 and another mod revision
  EXPECT_NE(s->hash_kv(5), at2);
  EXPECT_EQ(s->hash_kv(2), at2) << "a past revision's hash does not change";
  EXPECT_EQ(s->revision(), 5);
}

TEST(HashKv, StoresWithTheSameHistoryAgreeAndOthersDoNot) {
  auto one = memory_store();
  auto two = memory_store();
  for (auto* s : {one.get(), two.get()}) {
    s->put("x", "1");
    s->put("y", "2", 4);
  }
  EXPECT_EQ(one->hash_kv(0), two->hash_kv(0));
  one->put("x", "3");
  two->put("x", "4");
  EXPECT_NE(one->hash_kv(0), two->hash_kv(0));
  EXPECT_EQ(one->hash_kv(3), two->hash_kv(3));
}

TEST(HashKv, AFutureOrCompactedRevisionIsAnError) {
  auto s = memory_store();
  for (int i = 0; i < 5; ++i) s->put("k", std::to_string(i));
  s->compact(4);
  EXPECT_MVCC_ERROR(MvccError::Code::kFutureRevision, kFutureMessage, s->hash_kv(7));
  EXPECT_MVCC_ERROR(MvccError::Code::kCompacted, kCompactedMessage, s->hash_kv(3));
  uint32_t at4 = s->hash_kv(4);
  while (!s->compaction_step()) {
  }
  EXPECT_EQ(s->hash_kv(4), at4) << "compaction does not change what is visible at 4";
}

TEST(HistoricalReads, EventsAtTheCompactRevisionDoNotDependOnCompactionProgress) {
  auto s = with_history();
  s->compact(5);  // a's delete at 5 ends its first life: nothing before 6 can reach it
  const std::vector<Event> expected{put_event(kv("c", 6, 6, 1, "1")),
                                    put_event(kv("a", 6, 6, 1, "3"))};
  EXPECT_EQ(s->events_since(5, everything(), false), expected)
      << "before any compaction_step: the tombstone's row is still there, but compaction at 5 "
         "drops it, so it is no event";
  while (!s->compaction_step()) {
  }
  EXPECT_EQ(s->events_since(5, everything(), false), expected) << "after the compaction";
}

TEST(HashKv, EveryFieldOfAVisibleKeyIsInTheHash) {
  auto base = memory_store();
  base->put("x", "1", 0);
  auto other_lease = memory_store();
  other_lease->put("x", "1", 7);
  EXPECT_NE(base->hash_kv(0), other_lease->hash_kv(0)) << "the lease is hashed";
  auto other_key = memory_store();
  other_key->put("y", "1", 0);
  EXPECT_NE(base->hash_kv(0), other_key->hash_kv(0)) << "the key is hashed";
  auto other_value = memory_store();
  other_value->put("x", "2", 0);
  EXPECT_NE(base->hash_kv(0), other_value->hash_kv(0)) << "the value is hashed";
}

}  // namespace etcdlab::lab3
