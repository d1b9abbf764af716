// Lab 3, part D: compaction work that is in progress. What a reader sees must not depend on how
// far compaction_step() has got, and a restore() replaces the store's work along with its data.
#include <gtest/gtest.h>

#include "mvcc_test_util.h"

namespace etcdlab::lab3 {

TEST(HistoricalReads, EventsAtTheCompactRevisionAreTheSameAfterEveryCompactionStep) {
  // "a" lives from 2 to its delete at 4 = C, and never again: compaction drops all of it, from
  // the index first and from the rows later. With one key or row per step, every step leaves
  // a different mix of the two behind; events_since(C) must answer the same after each.
  auto s = memory_store(/*compaction_batch=*/1);
  s->put("a", "1");
  s->put("b", "1");
  s->delete_range(key("a"));
  s->put("c", "1");
  s->compact(4);
  const std::vector<Event> expected{put_event(kv("c", 5, 5, 1, "1"))};
  for (int step = 0;; ++step) {
    ASSERT_LT(step, 100) << "compaction did not end";
    EXPECT_EQ(s->events_since(4, everything(), false), expected)
        << "after " << step << " compaction step(s): the tombstone at 4 ends a's only life, so "
        << "it is no event, whether its row and its index entry are still there or not";
    if (s->compaction_step()) break;
  }
}

TEST(CompactionRules, ARestoreReplacesUnfinishedCompactionWork) {
  // The snapshot comes from a store that was never compacted: after restoring it, nothing of
  // the old store's unfinished compaction may touch the restored history.
  auto source = memory_store();
  source->put("k", "1");
  source->put("k", "2");
  source->put("k", "3");
  std::string image;
  source->snapshot([&](std::string_view chunk) { image += chunk; });

  auto s = memory_store(/*compaction_batch=*/1);
  s->put("k", "x");
  s->put("k", "y");
  s->put("k", "z");
  s->compact(4);  // no step yet
  bool given = false;
  s->restore([&] {
    if (given) return std::string();
    given = true;
    return image;
  });
  EXPECT_EQ(s->compact_revision(), 0);
  EXPECT_TRUE(s->compaction_step()) << "the restored store has no compaction to do";
  for (int step = 0; step < 10 && !s->compaction_step(); ++step) {
  }
  EXPECT_EQ(read(*s, key("k"), 2), std::vector{kv("k", 2, 2, 1, "1")});
  EXPECT_EQ(read(*s, key("k"), 3), std::vector{kv("k", 2, 3, 2, "2")});
  EXPECT_EQ(read(*s, key("k")), std::vector{kv("k", 2, 4, 3, "3")});
}

}  // namespace etcdlab::lab3
