// Lab 3, part D: compaction (etcd-v3-json-api.md §4.5). compact(C) forgets the history below C
// at once (C itself stays readable); compaction_step() removes the superseded versions a
// bounded batch at a time, and the store answers correctly between the steps.
#include <gtest/gtest.h>

#include "etcdlab/random.h"
#include "etcdlab/testing/seeds.h"
#include "mvcc_model.h"
#include "mvcc_test_util.h"

namespace etcdlab::lab3 {
namespace {

int finish_compaction(KvStore& s) {
  int steps = 1;
  while (!s.compaction_step()) {
    ++steps;
    if (steps > 1000000) ADD_FAILURE() << "compaction does not finish";
  }
  return steps;
}

}  // namespace

TEST(CompactionRules, CompactingAtOrBelowTheCompactRevisionIsCompacted) {
  auto s = memory_store();
  for (int i = 0; i < 6; ++i) s->put("k", std::to_string(i));  // 2..7
  s->compact(4);
  EXPECT_EQ(s->compact_revision(), 4);
  EXPECT_MVCC_ERROR(MvccError::Code::kCompacted, kCompactedMessage, s->compact(4))
      << "the same revision again";
  EXPECT_MVCC_ERROR(MvccError::Code::kCompacted, kCompactedMessage, s->compact(3));
  EXPECT_EQ(s->compact_revision(), 4);
  s->compact(5);
  EXPECT_EQ(s->compact_revision(), 5);
}

TEST(CompactionRules, CompactingAboveTheCurrentRevisionIsAFutureRevision) {
  auto s = memory_store();
  s->put("k", "1");
  EXPECT_MVCC_ERROR(MvccError::Code::kFutureRevision, kFutureMessage, s->compact(3));
  EXPECT_EQ(s->compact_revision(), 0);
  s->compact(2);
  EXPECT_EQ(s->compact_revision(), 2) << "the current revision may be compacted";
}

TEST(CompactionRules, CompactionDoesNotMoveTheRevision) {
  auto s = memory_store();
  s->put("a", "1");
  s->put("a", "2");
  s->compact(3);
  finish_compaction(*s);
  EXPECT_EQ(s->revision(), 3);
  EXPECT_EQ(s->put("a", "3").revision, 4);
}

TEST(CompactionRules, TheLatestVersionAtTheCompactRevisionIsKeptHoweverOld) {
  auto s = memory_store();
  s->put("old", "1", 3);                                           // 2
  for (int i = 0; i < 20; ++i) s->put("busy", std::to_string(i));  // 3..22
  s->compact(22);
  finish_compaction(*s);
  EXPECT_EQ(read(*s, key("old"), 22), std::vector{kv("old", 2, 2, 1, "1", 3)});
  EXPECT_EQ(read(*s, key("busy")), std::vector{kv("busy", 3, 22, 20, "19")})
      << "create_revision and version survive the versions they count";
  s->put("busy", "x");
  EXPECT_EQ(read(*s, key("busy")), std::vector{kv("busy", 3, 23, 21, "x")});
}

TEST(CompactionRules, AKeyDeletedAtOrBeforeTheCompactRevisionIsGoneFromHistory) {
  auto s = memory_store();
  s->put("a", "1");           // 2
  s->put("b", "1");           // 3
  s->delete_range(key("a"));  // 4
  s->delete_range(key("b"));  // 5
  s->put("c", "1");           // 6
  s->compact(4);
  finish_compaction(*s);
  EXPECT_EQ(read(*s, everything(), 4), std::vector{kv("b", 3, 3, 1, "1")})
      << "b was deleted after 4: still readable at 4";
  EXPECT_EQ(read(*s, everything(), 5), std::vector<KeyValue>{});
  EXPECT_EQ(s->events_since(4, everything(), false),
            (std::vector<Event>{delete_event("b", 5), put_event(kv("c", 6, 6, 1, "1"))}))
      << "a's delete at 4 is not history any more";
  s->put("a", "2");
  EXPECT_EQ(read(*s, key("a")), std::vector{kv("a", 7, 7, 1, "2")});
  EXPECT_EQ(s->key_count(), 2);
}

TEST(CompactionRules, StepsAreBoundedAndEndTheWork) {
  auto s = memory_store(/*compaction_batch=*/10);
  for (int i = 0; i < 1000; ++i) s->put("k" + std::to_string(i % 10), std::to_string(i));
  s->compact(s->revision());
  int steps = finish_compaction(*s);
  // 990 superseded versions, at most 10 a step (and some steps for the index).
  EXPECT_GE(steps, 99);
  EXPECT_LE(steps, 300);
  EXPECT_TRUE(s->compaction_step()) << "nothing left";
  EXPECT_EQ(read(*s, key("k3")), std::vector{kv("k3", 5, 995, 100, "993")});
}

TEST(CompactionRules, CompactionGivesSpaceBackAfterDefragment) {
  TempDir dir;
  auto s = file_store(dir.file("kv.db"), 500);
  for (int i = 0; i < 2000; ++i) s->put("k" + std::to_string(i % 4), std::string(1000, 'v'));
  s->defragment();
  uint64_t full = s->db_size();
  s->compact(s->revision());
  finish_compaction(*s);
  s->defragment();
  EXPECT_LT(s->db_size(), full / 10);
  EXPECT_EQ(read(*s, key("k1")).size(), 1u);
}

TEST(CompactionRules, AKeyDeletedBeforeTheCompactRevisionLeavesNoRowBehind) {
  TempDir dir;
  uint64_t empty = 0;
  {
    auto fresh = file_store(dir.file("empty.db"));
    fresh->put("x", "y");
    fresh->compact(fresh->revision());
    fresh->delete_range(key("x"));
    fresh->defragment();
    empty = fresh->db_size();
  }
  auto s = file_store(dir.file("kv.db"), 500);
  for (int i = 0; i < 3000; ++i) s->put("key" + std::to_string(i), "v");
  s->delete_range(everything());
  s->compact(s->revision());
  finish_compaction(*s);
  s->defragment();
  EXPECT_LE(s->db_size(), empty + 8192)
      << "every row of a key deleted at or before the compact revision goes, its tombstone "
         "too: a tombstone with nothing before it hides nothing, and would stay forever";
  EXPECT_TRUE(read(*s, everything()).empty());
}

TEST(CompactionRules, ASecondCompactionDuringTheFirstTakesOver) {
  auto s = memory_store(/*compaction_batch=*/3);
  for (int i = 0; i < 50; ++i) s->put("k" + std::to_string(i % 5), std::to_string(i));
  s->compact(20);
  for (int i = 0; i < 4; ++i) s->compaction_step();
  s->compact(40);
  EXPECT_EQ(s->compact_revision(), 40);
  finish_compaction(*s);
  RangeOptions o;
  o.revision = 39;
  EXPECT_MVCC_ERROR(MvccError::Code::kCompacted, kCompactedMessage, s->range(everything(), o));
  EXPECT_EQ(read(*s, key("k2"), 40), std::vector{kv("k2", 4, 39, 8, "37")});
  EXPECT_EQ(read(*s, key("k2")), std::vector{kv("k2", 4, 49, 10, "47")});
}

TEST(CompactionRules, AnUnfinishedCompactionSurvivesARestart) {
  TempDir dir;
  std::string path = dir.file("kv.db");
  std::vector<KeyValue> at50;
  uint64_t full = 0;
  {
    auto s = file_store(path, 5);
    for (int i = 0; i < 60; ++i)
      s->put("k" + std::to_string(i % 6), std::string(2000, 'a' + i % 26));
    at50 = read(*s, everything(), 50);
    s->defragment();
    full = s->db_size();
    s->compact(50);
    s->compaction_step();
    s->compaction_step();
  }
  auto s = file_store(path, 5);
  EXPECT_EQ(s->compact_revision(), 50);
  RangeOptions o;
  o.revision = 49;
  EXPECT_MVCC_ERROR(MvccError::Code::kCompacted, kCompactedMessage, s->range(everything(), o));
  EXPECT_EQ(read(*s, everything(), 50), at50);
  finish_compaction(*s);
  EXPECT_EQ(read(*s, everything(), 50), at50);
  EXPECT_MVCC_ERROR(MvccError::Code::kCompacted, kCompactedMessage, s->compact(50));
  s->defragment();
  EXPECT_LT(s->db_size(), full / 2) << "43 of the 60 versions are gone";
}

TEST(CompactionRules, ARevisionWhoseDeleteWasCompactedIsStillTheRevisionAfterARestart) {
  TempDir dir;
  std::string path = dir.file("kv.db");
  {
    auto s = file_store(path);
    s->put("a", "1");
    s->put("b", "1");
    s->delete_range(key("b"));  // 4: its row goes with the compaction
    s->compact(4);
    finish_compaction(*s);
  }
  auto s = file_store(path);
  EXPECT_EQ(s->revision(), 4);
  EXPECT_EQ(s->compact_revision(), 4);
  EXPECT_EQ(read(*s, everything()), std::vector{kv("a", 2, 2, 1, "1")});
  EXPECT_EQ(s->put("c", "1").revision, 5);
}

TEST(CompactionRules, ReadsBetweenStepsAnswerCorrectlyUnderLoad) {
  // The apply loop's pattern: compaction steps interleaved with writes and reads (current and
  // historical), all from one thread. Every answer is compared with the full-history model.
  testing::for_each_seed(10, [](uint64_t seed) {
    Rng rng(seed);
    auto s = memory_store(static_cast<int64_t>(rng.uniform(1, 8)));
    Model m;
    auto some_key = [&] { return "k" + std::to_string(rng.uniform(0, 9)); };
    bool compacting = false;
    for (int step = 0; step < 400; ++step) {
      SCOPED_TRACE("step " + std::to_string(step));
      uint64_t op = rng.uniform(0, 99);
      if (op < 35) {
        std::string k = some_key();
        std::string v = std::to_string(rng.uniform(0, 999));
        ASSERT_EQ(s->put(k, v).revision, m.put(k, v).revision);
      } else if (op < 42) {
        auto r = key(some_key());
        ASSERT_EQ(s->delete_range(r).deleted, m.delete_range(r).deleted);
      } else if (op < 50 && m.revision() > m.compact_revision() + 1) {
        int64_t c = m.compact_revision() + 1 +
                    static_cast<int64_t>(rng.uniform(
                        0, static_cast<uint64_t>(m.revision() - m.compact_revision() - 1)));
        s->compact(c);
        m.compact(c);
        compacting = true;
      } else if (op < 75) {
        if (compacting) compacting = !s->compaction_step();
      } else {
        int64_t lo = std::max<int64_t>(m.compact_revision(), 1);
        RangeOptions o;
        o.revision =
            lo + static_cast<int64_t>(rng.uniform(0, static_cast<uint64_t>(m.revision() - lo)));
        auto got = s->range(everything(), o);
        auto want = m.range(everything(), o);
        ASSERT_EQ(got.kvs, want.kvs) << "at revision " << o.revision;
        ASSERT_EQ(got.count, want.count);
      }
      ASSERT_EQ(s->revision(), m.revision());
      ASSERT_EQ(s->compact_revision(), m.compact_revision());
    }
  });
}

TEST(CompactionRules, AFinishedCompactionLeavesNoWorkAfterARestart) {
  TempDir dir;
  std::string path = dir.file("kv.db");
  {
    auto s = file_store(path, 5);
    for (int i = 0; i < 30; ++i) s->put("k" + std::to_string(i % 10), std::to_string(i));
    s->compact(31);  // 10 rows stay: more than one step would examine
    finish_compaction(*s);
  }
  auto s = file_store(path, 5);
  EXPECT_TRUE(s->compaction_step())
      << "the finished compaction is recorded with the rows it removed: a restart has no work";
}

TEST(CompactionRules, ARestartAmongTheRowStepsFinishesTheRows) {
  TempDir dir;
  std::string path = dir.file("kv.db");
  uint64_t full = 0;
  {
    auto s = file_store(path, 5);
    for (int i = 0; i < 60; ++i)
      s->put("k" + std::to_string(i % 6), std::string(2000, 'a' + i % 26));
    s->defragment();
    full = s->db_size();
    s->compact(50);
    // 6 keys: two steps compact the index, then each step examines 5 of the 50 rows.
    for (int i = 0; i < 4; ++i) ASSERT_FALSE(s->compaction_step()) << "step " << i;
  }
  auto s = file_store(path, 5);
  EXPECT_GT(finish_compaction(*s), 1) << "the restart resumes the rows";
  s->defragment();
  EXPECT_LT(s->db_size(), full / 2) << "43 of the 60 versions are gone";
}

}  // namespace etcdlab::lab3
