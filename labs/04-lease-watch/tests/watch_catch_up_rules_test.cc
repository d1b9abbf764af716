// Lab 4, part C: catch-up from history (etcd-v3-json-api.md §5). A watcher whose start
// revision is in the past is unsynced: sync() replays the store's history to it from its start
// revision (inclusive), in responses of at most max_revisions_per_response revisions that never
// cut a revision in two, until it has caught up and joins the synced group. From then on
// notify() serves it, and no event comes twice.
#include <gtest/gtest.h>

#include <set>

#include "watch_test_util.h"

namespace etcdlab::lab4 {
namespace {

TEST(WatchCatchUp, APastStartRevisionReplaysHistoryFromItInclusive) {
  Watched w;
  w.put("a", "1");  // 2
  w.put("a", "2");  // 3
  w.put("b", "1");  // 4
  w.put("a", "3");  // 5
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a"), 3), *w.store);
  EXPECT_EQ(w.hub.unsynced(), 1u);
  EXPECT_EQ(w.take(s), "created #0 @5") << "nothing before sync()";
  w.hub.sync(*w.store);
  EXPECT_EQ(w.take(s), "#0 @5: PUT a=2@3, PUT a=3@5")
      << "revision 3 itself is sent (the start is inclusive); the header shows the store's";
  EXPECT_EQ(w.hub.unsynced(), 0u) << "caught up: synced";
}

TEST(WatchCatchUp, AStartAtTheCurrentRevisionSendsThatRevision) {
  Watched w;
  w.put("a", "1");
  w.put("a", "2");  // 3: the store's revision
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a"), 3), *w.store);
  w.hub.sync(*w.store);
  EXPECT_EQ(w.take(s), "created #0 @3\n#0 @3: PUT a=2@3")
      << "a start at the current revision is history, not the future";
}

TEST(WatchCatchUp, ACaughtUpWatcherGetsLaterWritesOnceThroughNotify) {
  Watched w;
  w.put("a", "1");
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a"), 1), *w.store);
  w.hub.sync(*w.store);
  w.put("a", "2");
  w.hub.sync(*w.store);
  w.put("a", "3");
  EXPECT_EQ(w.take(s), "created #0 @2\n#0 @2: PUT a=1@2\n#0 @3: PUT a=2@3\n#0 @4: PUT a=3@4");
}

TEST(WatchCatchUp, WritesWhileBehindAreReplayedNotLostNorDoubled) {
  Watched w;
  w.put("a", "1");
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a"), 2), *w.store);
  w.put("a", "2");  // unsynced: notify must leave it to sync()
  w.put("a", "3");
  EXPECT_EQ(w.drain(s), "created #0 @2\n#0 @4: PUT a=1@2, PUT a=2@3, PUT a=3@4");
}

TEST(WatchCatchUp, ResponsesHoldAtMostTheLimitOfRevisionsAndNeverCutOne) {
  WatchConfig c = watch_config();
  c.max_revisions_per_response = 2;
  Watched w(c);
  w.put("k1", "a");  // 2
  w.write([](mvcc::Write& wr) {  // 3: three events
    wr.put("k1", "b", 0);
    wr.put("k2", "b", 0);
    wr.put("k3", "b", 0);
  });
  w.put("k2", "c");  // 4
  w.put("k3", "d");  // 5
  w.put("k1", "e");  // 6
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(prefix("k"), 1), *w.store);
  EXPECT_EQ(w.drain(s),
            "created #0 @6\n"
            "#0 @6: PUT k1=a@2, PUT k1=b@3, PUT k2=b@3, PUT k3=b@3\n"
            "#0 @6: PUT k2=c@4, PUT k3=d@5\n"
            "#0 @6: PUT k1=e@6")
      << "two revisions per response, and revision 3's three events together";
}

TEST(WatchCatchUp, AHugeBacklogComesInBoundedResponsesInOrder) {
  Watched w;
  for (int i = 0; i < 2500; ++i) w.put("k", std::to_string(i));
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("k"), 1), *w.store);
  w.take(s);
  std::vector<size_t> sizes;
  int64_t expect = 2;
  for (int round = 0; round < 10 && w.hub.unsynced() > 0; ++round) {
    w.hub.sync(*w.store);
    for (const WatchResponse& r : w.hub.take(s, 1000)) {
      sizes.push_back(r.events.size());
      for (const auto& e : r.events) {
        ASSERT_EQ(e.kv.mod_revision, expect) << "every revision once, in order";
        ++expect;
      }
    }
  }
  EXPECT_EQ(expect, 2502);
  EXPECT_EQ(sizes, (std::vector<size_t>{1000, 1000, 500}))
      << "max_revisions_per_response (1000) per response, one response per watcher per sync";
}

TEST(WatchCatchUp, AResponseEndsAtTheFirstRevisionBoundaryPastTheByteLimit) {
  WatchConfig c = watch_config();
  c.max_response_bytes = 1000;
  Watched w(c);
  std::string big(400, 'v');
  w.put("k1", big);  // 2
  w.put("k2", big);  // 3
  w.put("k3", big);  // 4: past 1,000 bytes since 2
  w.write([&](mvcc::Write& wr) {  // 5: past the limit on its own
    wr.put("k1", big, 0);
    wr.put("k2", big, 0);
    wr.put("k3", big, 0);
  });
  w.put("k1", "small");  // 6
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(prefix("k"), 2), *w.store);
  w.take(s);
  std::vector<std::string> responses;
  for (int round = 0; round < 10 && w.hub.unsynced() > 0; ++round) {
    w.hub.sync(*w.store);
    for (const WatchResponse& r : w.hub.take(s, 100)) {
      std::string revisions;
      for (const auto& e : r.events) revisions += (revisions.empty() ? "" : " ") +
                                                  std::to_string(e.kv.mod_revision);
      responses.push_back(revisions);
    }
  }
  EXPECT_EQ(responses, (std::vector<std::string>{"2 3 4", "5 5 5", "6"}))
      << "the revision that takes a response past max_response_bytes is its last; a revision "
      << "bigger than the limit still travels whole";
}

TEST(WatchCatchUp, AResponseHoldsOneRevisionAtLeastWhateverTheByteLimit) {
  WatchConfig c = watch_config();
  c.max_response_bytes = 0;  // every revision is past it
  Watched w(c);
  w.put("k1", "a");  // 2
  w.put("k2", "b");  // 3
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(prefix("k"), 2), *w.store);
  w.take(s);
  w.hub.sync(*w.store);
  EXPECT_EQ(w.take(s), "#0 @3: PUT k1=a@2") << "one revision per response, never none";
  w.hub.sync(*w.store);
  EXPECT_EQ(w.take(s), "#0 @3: PUT k2=b@3");
  EXPECT_EQ(w.hub.unsynced(), 0u);
}

TEST(WatchCatchUp, EachWatcherOfABatchGetsItsOwnRangeFiltersAndPrevKv) {
  Watched w;
  w.put("a", "1");
  w.put("b", "1");
  w.put("a", "2");
  w.del(key("b"));
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a"), 1), *w.store);
  WatchRequest b = on(key("b"), 1);
  b.prev_kv = true;
  w.hub.watch(s, b, *w.store);
  WatchRequest deletes = on(prefix(""), 1);
  deletes.no_put = true;
  w.hub.watch(s, deletes, *w.store);
  w.take(s);
  w.hub.sync(*w.store);
  EXPECT_EQ(w.take(s),
            "#0 @5: PUT a=1@2, PUT a=2@4\n"
            "#1 @5: PUT b=1@3, DELETE b@5 (was b=1@3)\n"
            "#2 @5: DELETE b@5")
      << "one read of history serves the batch; each watcher gets what it asked for";
}

TEST(WatchCatchUp, EachWatcherOfABatchStartsFromItsOwnNextRevision) {
  Watched w;
  w.put("a", "1");  // 2
  w.put("a", "2");  // 3
  w.put("a", "3");  // 4
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a"), 2), *w.store);
  w.hub.watch(s, on(key("a"), 4), *w.store);
  w.take(s);
  w.hub.sync(*w.store);
  EXPECT_EQ(w.take(s), "#0 @4: PUT a=1@2, PUT a=2@3, PUT a=3@4\n#1 @4: PUT a=3@4")
      << "the batch's history is read from 2, its smallest next revision; watcher 1 starts at 4";
}

TEST(WatchCatchUp, SyncServesABoundedBatchAndComesRoundToEveryone) {
  WatchConfig c = watch_config();
  c.max_watchers_per_sync = 2;
  Watched w(c);
  w.put("a", "1");
  StreamId s = w.hub.open_stream();
  for (int i = 0; i < 5; ++i) w.hub.watch(s, on(key("a"), 2), *w.store);
  w.take(s);
  w.hub.sync(*w.store);
  EXPECT_EQ(w.hub.unsynced(), 3u) << "two watchers per sync";
  w.hub.sync(*w.store);
  w.hub.sync(*w.store);
  EXPECT_EQ(w.hub.unsynced(), 0u);
  EXPECT_EQ(w.take(s),
            "#0 @2: PUT a=1@2\n#1 @2: PUT a=1@2\n#2 @2: PUT a=1@2\n#3 @2: PUT a=1@2\n"
            "#4 @2: PUT a=1@2");
}

TEST(WatchCatchUp, SyncGoesRoundTheUnsyncedGroupSoNoWatcherWaitsBehindTheOthers) {
  WatchConfig c = watch_config();
  c.max_watchers_per_sync = 2;
  c.max_revisions_per_response = 1;  // five syncs each to catch up: nobody leaves early
  Watched w(c);
  for (int i = 0; i < 5; ++i) w.put("a", std::to_string(i));  // 2..6
  StreamId s = w.hub.open_stream();
  for (int i = 0; i < 3; ++i) w.hub.watch(s, on(key("a"), 2), *w.store);
  w.take(s);
  w.hub.sync(*w.store);
  w.hub.sync(*w.store);
  std::set<WatchId> served;
  for (const WatchResponse& r : w.hub.take(s, 100)) served.insert(r.watch_id);
  EXPECT_EQ(served, (std::set<WatchId>{0, 1, 2}))
      << "two syncs of two: the second starts after the last one served, so watcher 2 is "
      << "not left behind watchers 0 and 1";
}

}  // namespace
}  // namespace etcdlab::lab4
