// Lab 4, part E: progress (etcd-v3-json-api.md §5, items 7 and 8). A progress response at
// revision R promises that every event up to R has been sent on the stream (etcd's
// "bookmarkable"), so it may be answered only once every watcher of the stream is synced —
// after the catch-up responses, never before. A watcher created with progress_notify that
// sent nothing for a whole interval gets an empty response with the current revision, so
// that its client can resume from there after a disconnection.
#include <gtest/gtest.h>

#include "watch_test_util.h"

namespace etcdlab::lab4 {
namespace {

TEST(WatchProgress, ARequestOnASyncedStreamIsAnsweredAtOnceWithTheRevision) {
  Watched w;
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a")), *w.store);
  w.put("b", "1");
  w.put("b", "2");
  w.hub.request_progress(s, *w.store);
  EXPECT_EQ(w.take(s), "created #0 @1\nprogress #-1 @3")
      << "watch_id -1, the store's revision, no events";
}

TEST(WatchProgress, AnEmptyStreamIsSyncedToo) {
  Watched w;
  w.put("b", "1");
  StreamId s = w.hub.open_stream();
  w.hub.request_progress(s, *w.store);
  EXPECT_EQ(w.take(s), "progress #-1 @2");
}

TEST(WatchProgress, ARequestWaitsUntilEveryWatcherOfTheStreamCaughtUp) {
  WatchConfig c = watch_config();
  c.max_revisions_per_response = 1;
  Watched w(c);
  w.put("a", "1");  // 2
  w.put("a", "2");  // 3
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a"), 2), *w.store);
  w.hub.request_progress(s, *w.store);
  EXPECT_EQ(w.take(s), "created #0 @3") << "a watcher is behind: a progress now would lie";
  w.hub.sync(*w.store);
  EXPECT_EQ(w.take(s), "#0 @3: PUT a=1@2");
  w.hub.sync(*w.store);
  EXPECT_EQ(w.take(s), "#0 @3: PUT a=2@3\nprogress #-1 @3")
      << "answered right after the response that caught the last watcher up";
}

TEST(WatchProgress, OtherStreamsBehindDoNotDelayARequest) {
  Watched w;
  w.put("a", "1");
  StreamId behind = w.hub.open_stream();
  StreamId s = w.hub.open_stream();
  w.hub.watch(behind, on(key("a"), 1), *w.store);
  w.hub.request_progress(s, *w.store);
  EXPECT_EQ(w.take(s), "progress #-1 @2");
}

TEST(WatchProgress, CancellingTheLastWatcherBehindAnswersAWaitingRequest) {
  Watched w;
  w.put("a", "1");
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a"), 1), *w.store);
  w.hub.request_progress(s, *w.store);
  w.hub.cancel(s, 0, *w.store);
  EXPECT_EQ(w.take(s), "created #0 @2\ncanceled #0 @2\nprogress #-1 @2");
}

TEST(WatchProgress, ARequestIsAnsweredOnceNotAgainAtALaterCancelOrSync) {
  WatchConfig c = watch_config();
  c.max_revisions_per_response = 1;
  Watched w(c);
  w.put("b", "1");  // 2
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a")), *w.store);
  w.hub.watch(s, on(key("b")), *w.store);
  w.hub.request_progress(s, *w.store);
  EXPECT_EQ(w.take(s), "created #0 @2\ncreated #1 @2\nprogress #-1 @2");
  w.hub.cancel(s, 1, *w.store);
  w.hub.watch(s, on(key("b"), 2), *w.store);  // behind: caught up by the next sync
  w.hub.sync(*w.store);
  EXPECT_EQ(w.take(s), "canceled #1 @2\ncreated #2 @2\n#2 @2: PUT b=1@2")
      << "the request was answered: a cancel or a sync later does not answer it again";
}

TEST(WatchProgress, AnIdleSyncedWatcherThatAskedGetsANotificationEachInterval) {
  Watched w;  // progress_interval_ticks = 10
  StreamId s = w.hub.open_stream();
  WatchRequest r = on(key("a"));
  r.progress_notify = true;
  w.hub.watch(s, r, *w.store);
  w.hub.watch(s, on(key("a")), *w.store);  // did not ask
  w.take(s);
  w.put("b", "1");
  for (int i = 0; i < 9; ++i) w.hub.tick(*w.store);
  EXPECT_EQ(w.take(s), "") << "not before the interval";
  w.hub.tick(*w.store);
  EXPECT_EQ(w.take(s), "progress #0 @2") << "its id, the store's revision, no events";
  for (int i = 0; i < 10; ++i) w.hub.tick(*w.store);
  EXPECT_EQ(w.take(s), "progress #0 @2") << "and again each interval";
}

TEST(WatchProgress, AnIntervalOfZeroTicksMeansNoNotifications) {
  WatchConfig c = watch_config();
  c.progress_interval_ticks = 0;  // never (WatchConfig)
  Watched w(c);
  StreamId s = w.hub.open_stream();
  WatchRequest r = on(key("a"));
  r.progress_notify = true;
  w.hub.watch(s, r, *w.store);
  w.take(s);
  for (int i = 0; i < 50; ++i) w.hub.tick(*w.store);
  EXPECT_EQ(w.take(s), "") << "0 turns notifications off (and is no divisor)";
}

TEST(WatchProgress, AWatcherThatSentEventsInTheIntervalGetsNoNotification) {
  Watched w;
  StreamId s = w.hub.open_stream();
  WatchRequest r = on(key("a"));
  r.progress_notify = true;
  w.hub.watch(s, r, *w.store);
  w.take(s);
  for (int i = 0; i < 5; ++i) w.hub.tick(*w.store);
  w.put("a", "1");
  for (int i = 0; i < 5; ++i) w.hub.tick(*w.store);
  EXPECT_EQ(w.take(s), "#0 @2: PUT a=1@2") << "it was not idle";
  for (int i = 0; i < 10; ++i) w.hub.tick(*w.store);
  EXPECT_EQ(w.take(s), "progress #0 @2");
}

TEST(WatchProgress, AWatcherBehindGetsNoNotification) {
  Watched w;
  w.put("a", "1");
  w.put("a", "2");
  StreamId s = w.hub.open_stream();
  WatchRequest r = on(key("a"), 2);
  r.progress_notify = true;
  w.hub.watch(s, r, *w.store);
  w.take(s);
  for (int i = 0; i < 10; ++i) w.hub.tick(*w.store);
  EXPECT_EQ(w.take(s), "") << "it has not sent revision 2 yet: a notification at 3 would lie";
}

TEST(WatchProgress, NotificationsNeverGrowAStreamPastItsCapacity) {
  WatchConfig c = watch_config();  // progress_interval_ticks = 10
  c.stream_capacity = 2;
  Watched w(c);
  StreamId s = w.hub.open_stream();
  WatchRequest r = on(key("a"));
  r.progress_notify = true;
  w.hub.watch(s, r, *w.store);  // created: 1 of 2
  w.put("a", "1");               // 2 of 2, and the reader stops reading
  for (int i = 0; i < 50; ++i) w.hub.tick(*w.store);
  EXPECT_EQ(w.hub.queued(s), 2u)
      << "no notification on a full stream: a reader that stopped must not grow it every "
      << "interval (and a full stream has something to read anyway)";
  EXPECT_EQ(w.take(s), "created #0 @1\n#0 @2: PUT a=1@2");
  for (int i = 0; i < 10; ++i) w.hub.tick(*w.store);
  EXPECT_EQ(w.take(s), "progress #0 @2") << "room again: the next interval's comes";
}

}  // namespace
}  // namespace etcdlab::lab4
