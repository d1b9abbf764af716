// Lab 4, part D: slow consumers, compaction, and a store replaced (etcd-v3-json-api.md §5).
// A stream holds at most stream_capacity untaken responses: a write never waits for a reader,
// and memory never grows with a slow one. A synced watcher whose stream is full drops to the
// unsynced group AT the revision it could not take, and catches up from history once its
// reader takes. A watcher whose next revision is compacted away is cancelled with the compact
// revision. A store replaced by a snapshot is replayed to every watcher from where it was.
#include <gtest/gtest.h>

#include <algorithm>

#include "watch_test_util.h"

namespace etcdlab::lab4 {
namespace {

// Every revision of the events in `text`'s lines (for checking order and gaps).
std::vector<int64_t> revisions_of(const std::vector<WatchResponse>& rs) {
  std::vector<int64_t> out;
  for (const auto& r : rs)
    for (const auto& e : r.events) out.push_back(e.kv.mod_revision);
  return out;
}

TEST(WatchSlowConsumer, AFullStreamNeverHoldsMoreThanItsCapacity) {
  WatchConfig c = watch_config();
  c.stream_capacity = 4;
  Watched w(c);
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a")), *w.store);
  for (int i = 0; i < 50; ++i) {
    w.put("a", std::to_string(i));
    w.hub.sync(*w.store);
  }
  EXPECT_LE(w.hub.queued(s), 4u) << "a reader that does not read must not grow the queue";
  EXPECT_EQ(w.hub.unsynced(), 1u) << "the watcher fell behind instead";
}

TEST(WatchSlowConsumer, AWatcherThatFellBehindResumesAtTheRevisionItMissed) {
  WatchConfig c = watch_config();
  c.stream_capacity = 2;
  Watched w(c);
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a")), *w.store);  // created: 1 of 2
  w.put("a", "x");                          // 2: 2 of 2
  w.put("a", "y");                          // 3: full, behind at 3
  w.put("a", "z");                          // 4
  EXPECT_EQ(w.take(s), "created #0 @1\n#0 @2: PUT a=x@2");
  w.hub.sync(*w.store);
  EXPECT_EQ(w.take(s), "#0 @4: PUT a=y@3, PUT a=z@4")
      << "revision 3, the one the full stream could not take, is not skipped";
  w.put("a", "w");
  EXPECT_EQ(w.take(s), "#0 @5: PUT a=w@5") << "caught up: synced again";
}

TEST(WatchSlowConsumer, ACatchUpBatchNeverOverfillsAStreamItsWatchersShare) {
  WatchConfig c = watch_config();
  c.stream_capacity = 1;
  Watched w(c);
  w.put("a", "1");
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a"), 2), *w.store);
  w.hub.watch(s, on(key("a"), 2), *w.store);
  w.take(s);
  w.hub.sync(*w.store);
  EXPECT_EQ(w.hub.queued(s), 1u) << "both watchers were in the batch; the stream had room for one";
  EXPECT_EQ(w.take(s), "#0 @2: PUT a=1@2");
  w.hub.sync(*w.store);
  EXPECT_EQ(w.take(s), "#1 @2: PUT a=1@2") << "the other one's turn came";
}

TEST(WatchSlowConsumer, ASlowReaderGetsEveryEventOnceInOrderAtItsOwnPace) {
  WatchConfig c = watch_config();
  c.stream_capacity = 3;
  c.max_revisions_per_response = 5;
  Watched w(c);
  StreamId slow = w.hub.open_stream();
  StreamId fast = w.hub.open_stream();
  w.hub.watch(slow, on(prefix("")), *w.store);
  w.hub.watch(fast, on(prefix("")), *w.store);
  std::vector<WatchResponse> got_slow, got_fast;
  for (int i = 0; i < 200; ++i) {
    w.put("k" + std::to_string(i % 7), std::to_string(i));
    if (i % 3 == 0) w.hub.sync(*w.store);
    for (auto& r : w.hub.take(fast, 100)) got_fast.push_back(std::move(r));
    if (i % 10 == 0) {
      for (auto& r : w.hub.take(slow, 1)) got_slow.push_back(std::move(r));
    }
  }
  for (int round = 0; round < 100 && (w.hub.unsynced() > 0 || w.hub.queued(slow) > 0); ++round) {
    for (auto& r : w.hub.take(slow, 100)) got_slow.push_back(std::move(r));
    w.hub.sync(*w.store);
  }
  std::vector<int64_t> want;
  for (int64_t r = 2; r <= 201; ++r) want.push_back(r);
  EXPECT_EQ(revisions_of(got_slow), want) << "every revision once, in order, none lost";
  EXPECT_EQ(revisions_of(got_fast), want) << "the fast reader is not held back by the slow one";
}

TEST(WatchSlowConsumer, AStartBelowTheCompactRevisionIsCreatedThenCancelled) {
  Watched w;
  w.put("a", "1");  // 2
  w.put("a", "2");  // 3
  w.put("a", "3");  // 4
  w.store->compact(3);
  StreamId s = w.hub.open_stream();
  EXPECT_EQ(w.hub.watch(s, on(key("a"), 2), *w.store), watch::kNoWatchId);
  EXPECT_EQ(w.hub.watch(s, on(key("a"), 4), *w.store), 1) << "after the compact revision";
  w.hub.sync(*w.store);
  EXPECT_EQ(w.take(s), "created #0 @4\ncanceled #0 compact 3\ncreated #1 @4\n#1 @4: PUT a=3@4")
      << "as etcd: created, then cancelled with compact_revision and no header revision";
  EXPECT_EQ(w.hub.watchers(), 1u);
}

TEST(WatchSlowConsumer, AStartAtTheCompactRevisionIsCancelledToo) {
  Watched w;
  w.put("a", "1");  // 2
  w.write([](mvcc::Write& wr) {  // 3: a deleted and put again, b deleted
    wr.delete_range(key("a"));
    wr.put("a", "2", 0);
  });
  w.put("b", "1");  // 4
  w.del(key("b"));  // 5
  w.store->compact(5);
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(prefix(""), 5), *w.store);
  EXPECT_EQ(w.take(s), "created #0 @5\ncanceled #0 compact 5")
      << "compaction kept nothing of revision 5 (b's delete): its events cannot be sent";
}

TEST(WatchSlowConsumer, ANegativeStartIsBelowAnyHistory) {
  Watched w;
  w.put("a", "1");
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a"), -3), *w.store);
  EXPECT_EQ(w.take(s), "created #0 @2\ncanceled #0 compact -1")
      << "never compacted: etcd 3.4 answers compact_revision -1";
}

TEST(WatchSlowConsumer, AWatcherOvertakenByCompactionIsCancelled) {
  WatchConfig c = watch_config();
  c.stream_capacity = 2;
  Watched w(c);
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a")), *w.store);
  w.put("a", "1");  // 2: fills the stream
  w.put("a", "2");  // 3: behind at 3
  w.put("a", "3");  // 4
  w.put("a", "4");  // 5
  w.store->compact(4);
  w.take(s);
  w.hub.sync(*w.store);
  EXPECT_EQ(w.take(s), "canceled #0 compact 4")
      << "revision 3 is gone: sending 4 and 5 would leave a gap the client cannot see";
  EXPECT_EQ(w.hub.watchers(), 0u);
}

TEST(WatchSlowConsumer, AWatcherThatFellBehindIsNotCancelledForRevisionsItHadSeen) {
  WatchConfig c = watch_config();
  c.stream_capacity = 2;
  Watched w(c);
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a")), *w.store);  // created: 1 of 2
  w.put("a", "1");                          // 2: 2 of 2
  w.put("b", "1");                          // 3 to 5: nothing for it (synced, it saw them)
  w.put("b", "2");
  w.put("b", "3");
  w.put("a", "2");                          // 6: full, behind at 6
  w.store->compact(5);
  w.take(s);
  w.hub.sync(*w.store);
  EXPECT_EQ(w.take(s), "#0 @6: PUT a=2@6")
      << "it fell behind at 6, still in history; the revisions compacted away (3 to 5) had "
      << "nothing for it, so nothing is lost and it must not be cancelled";
}

TEST(WatchSlowConsumer, AWatcherBehindAtTheCompactRevisionIsCancelledToo) {
  WatchConfig c = watch_config();
  c.stream_capacity = 2;
  Watched w(c);
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(prefix("")), *w.store);  // created: 1 of 2
  w.put("a", "1");                            // 2: 2 of 2
  w.del(key("a"));                            // 3: full, behind at 3
  w.store->compact(3);
  w.take(s);
  w.hub.sync(*w.store);
  EXPECT_EQ(w.take(s), "canceled #0 compact 3")
      << "compaction at 3 kept nothing of revision 3 (a delete): serving it from 3 would "
      << "drop the delete without a word";
}

TEST(WatchSlowConsumer, ARestoredStoreIsReplayedFromWhereEachWatcherWas) {
  Watched leader;
  leader.put("a", "1");  // 2
  leader.put("b", "1");  // 3
  leader.put("a", "2");  // 4
  leader.put("a", "3");  // 5
  std::string snapshot;
  leader.store->snapshot([&](std::string_view chunk) { snapshot += chunk; });

  Watched follower;  // behind: it applied revision 2 only
  follower.put("a", "1");
  StreamId s = follower.hub.open_stream();
  follower.hub.watch(s, on(key("a")), *follower.store);
  follower.hub.watch(s, on(key("a"), 4), *follower.store);
  follower.take(s);
  follower.install(snapshot);
  follower.hub.restored(*follower.store);
  EXPECT_EQ(follower.drain(s), "#0 @5: PUT a=2@4, PUT a=3@5\n#1 @5: PUT a=2@4, PUT a=3@5")
      << "what the snapshot jumped over comes from its history, from each one's next revision";
  follower.put("a", "4");
  EXPECT_EQ(follower.take(s), "#0 @6: PUT a=4@6\n#1 @6: PUT a=4@6");
}

TEST(WatchSlowConsumer, AfterARestoreOnlyAWatcherThatMissedACompactedRevisionIsCancelled) {
  Watched leader;
  leader.put("a", "1");  // 2
  leader.put("b", "1");  // 3
  leader.put("b", "2");  // 4
  leader.put("a", "2");  // 5
  leader.store->compact(4);
  std::string snapshot;
  leader.store->snapshot([&](std::string_view chunk) { snapshot += chunk; });

  Watched follower;  // it applied revisions 2 to 4
  StreamId s = follower.hub.open_stream();
  follower.hub.watch(s, on(key("a")), *follower.store);  // #0: synced, saw 2 to 4 go by
  follower.put("a", "1");
  follower.put("b", "1");
  follower.put("b", "2");
  follower.hub.watch(s, on(key("a"), 2), *follower.store);  // #1: behind, it needs 2 to 4
  follower.take(s);
  follower.install(snapshot);
  follower.hub.restored(*follower.store);
  std::string got = follower.drain(s);
  EXPECT_NE(got.find("#0 @5: PUT a=2@5"), std::string::npos)
      << got << "\n#0 had been sent everything up to 4: it goes on from 5, not cancelled";
  EXPECT_NE(got.find("canceled #1 compact 4"), std::string::npos)
      << got << "\n#1 had not been sent 2 to 4: they are compacted in the snapshot";
  EXPECT_EQ(std::count(got.begin(), got.end(), '\n'), 1) << got << "\nand nothing else";
}

TEST(WatchSlowConsumer, AfterARestoreAWatcherIsNotCancelledForWritesItSawGoByUnconcerned) {
  Watched leader;
  leader.put("a", "1");  // 2
  leader.put("b", "1");  // 3
  leader.put("b", "2");  // 4
  leader.put("a", "2");  // 5
  leader.store->compact(4);
  std::string snapshot;
  leader.store->snapshot([&](std::string_view chunk) { snapshot += chunk; });

  Watched follower;  // it applied revisions 2 to 4; no watch() call came after them
  StreamId s = follower.hub.open_stream();
  follower.hub.watch(s, on(key("a")), *follower.store);
  follower.put("a", "1");  // 2: sent to #0
  follower.put("b", "1");  // 3, 4: not for #0, but it has seen them go by
  follower.put("b", "2");
  follower.take(s);
  follower.install(snapshot);
  follower.hub.restored(*follower.store);
  EXPECT_EQ(follower.drain(s), "#0 @5: PUT a=2@5")
      << "the hub heard of revision 4 (notify): #0 goes on from 5, though its last event was 2";
}

TEST(WatchSlowConsumer, AfterARestoreAWatcherFromTheNextWriteGetsNothingFromBeforeIt) {
  Watched leader;
  leader.put("a", "1");  // 2
  leader.put("a", "2");  // 3
  std::string snapshot;
  leader.store->snapshot([&](std::string_view chunk) { snapshot += chunk; });

  Watched follower;  // restarted: its store came back with revision 2, its hub is new
  (void)follower.store->put("a", "1");  // 2, written before the hub: it hears nothing of it
  StreamId s = follower.hub.open_stream();
  follower.hub.watch(s, on(key("a")), *follower.store);  // #0: from the next write, 3
  follower.take(s);
  follower.install(snapshot);
  follower.hub.restored(*follower.store);
  EXPECT_EQ(follower.drain(s), "#0 @3: PUT a=2@3")
      << "#0 was created at revision 2 to watch from the next write: the restore replays 3, "
      << "not 2, though the hub heard of no write before it";
}

TEST(WatchSlowConsumer, AWatcherWhoseStreamIsFullTakesNoPlaceInASyncBatch) {
  WatchConfig c = watch_config();
  c.max_watchers_per_sync = 1;
  c.stream_capacity = 1;
  Watched w(c);
  w.put("a", "1");  // 2
  StreamId s1 = w.hub.open_stream();
  StreamId s2 = w.hub.open_stream();
  w.hub.watch(s1, on(key("a"), 2), *w.store);  // behind; its created response fills s1
  w.hub.watch(s2, on(key("a"), 2), *w.store);  // behind too
  w.take(s2);
  w.hub.sync(*w.store);
  EXPECT_EQ(w.take(s2), "#0 @2: PUT a=1@2")
      << "the one place of the batch goes to a watcher whose stream has room, not to the one "
      << "on the full stream (first in order)";
}

TEST(WatchSlowConsumer, AWatcherRestoredWithNothingToCatchUpIsSyncedAtTheNextSync) {
  WatchConfig c = watch_config();
  c.stream_capacity = 1;
  Watched leader;
  leader.put("a", "1");  // 2
  std::string snapshot;
  leader.store->snapshot([&](std::string_view chunk) { snapshot += chunk; });

  Watched follower(c);
  follower.put("a", "1");  // 2: the same history
  StreamId s = follower.hub.open_stream();
  follower.hub.watch(s, on(key("a"), 2), *follower.store);  // #0: behind, needs 2
  follower.hub.watch(s, on(key("b")), *follower.store);     // #1: synced
  follower.take(s);
  follower.install(snapshot);
  follower.hub.restored(*follower.store);  // a snapshot at the revision it had: #1 has nothing
  follower.hub.sync(*follower.store);      // to catch up; #0's response fills the stream
  EXPECT_EQ(follower.hub.unsynced(), 0u)
      << "#1 is caught up already: it joins the synced group whether or not the stream has "
      << "room left after #0's response";
  EXPECT_EQ(follower.take(s), "#0 @2: PUT a=1@2");
  follower.put("b", "1");
  EXPECT_EQ(follower.take(s), "#1 @3: PUT b=1@3") << "synced: the write comes at once";
}

}  // namespace
}  // namespace etcdlab::lab4
