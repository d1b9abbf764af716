// Lab 4, part B: synced watchers (etcd-v3-json-api.md §5). A watcher created from the next
// write on is synced: each write's events reach it through notify(), in one response per
// revision, filtered and with prev_kv as it asked. Streams number their watchers 0, 1, 2...
#include <gtest/gtest.h>

#include "watch_test_util.h"

namespace etcdlab::lab4 {
namespace {

TEST(WatchSynced, CreatedAnswersWithTheIdAndTheStoresRevision) {
  Watched w;
  w.put("a", "1");
  w.put("b", "2");
  StreamId s = w.hub.open_stream();
  EXPECT_EQ(w.hub.watch(s, on(key("a")), *w.store), 0);
  EXPECT_EQ(w.take(s), "created #0 @3") << "the created answer carries the store's revision";
}

TEST(WatchSynced, AutomaticIdsCountFromZeroOnEachStreamAndSkipTakenOnes) {
  Watched w;
  StreamId s1 = w.hub.open_stream();
  StreamId s2 = w.hub.open_stream();
  EXPECT_NE(s1, s2);
  WatchRequest chosen = on(key("x"));
  chosen.id = 1;
  EXPECT_EQ(w.hub.watch(s1, on(key("a")), *w.store), 0);
  EXPECT_EQ(w.hub.watch(s1, chosen, *w.store), 1) << "a client may choose its id";
  EXPECT_EQ(w.hub.watch(s1, on(key("b")), *w.store), 2) << "an automatic id skips a taken one";
  EXPECT_EQ(w.hub.watch(s2, on(key("a")), *w.store), 0) << "ids are per stream";
  EXPECT_EQ(w.hub.watchers(), 4u);
}

TEST(WatchSynced, ADuplicateIdIsRefusedAsEtcdRefusesIt) {
  Watched w;
  StreamId s = w.hub.open_stream();
  WatchRequest r = on(key("a"));
  r.id = 7;
  EXPECT_EQ(w.hub.watch(s, r, *w.store), 7);
  r.range = key("b");
  EXPECT_EQ(w.hub.watch(s, r, *w.store), watch::kNoWatchId);
  EXPECT_EQ(w.take(s),
            "created #7 @1\n"
            "canceled #-1 @1 created: mvcc: duplicate watch ID provided on the WatchStream");
  w.put("a", "1");
  w.put("b", "1");
  EXPECT_EQ(w.take(s), "#7 @2: PUT a=1@2") << "the first watcher 7 is untouched";
}

TEST(WatchSynced, AnEmptyRangeIsRefusedAsEtcdRefusesIt) {
  Watched w;
  w.put("a", "1");
  StreamId s = w.hub.open_stream();
  const std::string refused = "canceled #-1 @2 created: mvcc: watcher range is empty";
  WatchRequest below = on(KeyRange{"b", "a"});
  below.id = 3;
  EXPECT_EQ(w.hub.watch(s, below, *w.store), watch::kNoWatchId) << "range_end below key";
  EXPECT_EQ(w.hub.watch(s, on(KeyRange{"a", "a"}), *w.store), watch::kNoWatchId)
      << "range_end equal to key: [a, a) holds nothing";
  EXPECT_EQ(w.hub.watch(s, on(KeyRange{"a", std::string(2, '\0')}), *w.store),
            watch::kNoWatchId)
      << "only \"\\0\" itself means every key from key on";
  EXPECT_EQ(w.hub.watch(s, on(KeyRange{"b", "a"}, -1), *w.store), watch::kNoWatchId)
      << "the range is checked before the start revision";
  EXPECT_EQ(w.take(s), refused + "\n" + refused + "\n" + refused + "\n" + refused)
      << "etcd answers created and canceled at once, with watch_id -1 and its reason";
  EXPECT_EQ(w.hub.watchers(), 0u) << "a refused watch creates nothing";

  // Nothing was used up: the automatic ids start at 0, and the id the refusal asked for is
  // free; the ranges etcd takes are created.
  EXPECT_EQ(w.hub.watch(s, on(KeyRange{"a", std::string(1, '\0')}), *w.store), 0)
      << "range_end \"\\0\": every key from key on";
  EXPECT_EQ(w.hub.watch(s, on(key("b")), *w.store), 1);
  below.range = KeyRange{"a", "b"};
  EXPECT_EQ(w.hub.watch(s, below, *w.store), 3);
  below.range = KeyRange{"b", "a"};
  EXPECT_EQ(w.hub.watch(s, below, *w.store), watch::kNoWatchId)
      << "an empty range with an id in use is refused for its range (etcd checks it first)";
  EXPECT_EQ(w.take(s), "created #0 @2\ncreated #1 @2\ncreated #3 @2\n" + refused);
  w.put("a", "2");
  EXPECT_EQ(w.take(s), "#0 @3: PUT a=2@3\n#3 @3: PUT a=2@3") << "the stream goes on";
}

TEST(WatchSynced, AWatcherGetsEveryWriteToItsKeyAndNothingElse) {
  Watched w;
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a")), *w.store);
  w.take(s);
  w.put("a", "1");
  w.put("ab", "1");
  w.put("b", "1");
  w.put("a", "2");
  w.del(key("a"));
  w.del(key("a"));  // deletes nothing: no revision, no event
  EXPECT_EQ(w.take(s), "#0 @2: PUT a=1@2\n#0 @5: PUT a=2@5\n#0 @6: DELETE a@6");
}

TEST(WatchSynced, ARangeWatcherGetsTheWritesInItsRange) {
  Watched w;
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(prefix("svc/")), *w.store);
  w.hub.watch(s, on(KeyRange{"b", "d"}), *w.store);
  w.hub.watch(s, on(KeyRange{std::string(1, '\0'), std::string(1, '\0')}), *w.store);
  w.take(s);
  w.put("svc/a", "1");
  w.put("c", "1");
  w.put("d", "1");
  EXPECT_EQ(w.take(s),
            "#0 @2: PUT svc/a=1@2\n#2 @2: PUT svc/a=1@2\n"
            "#1 @3: PUT c=1@3\n#2 @3: PUT c=1@3\n"
            "#2 @4: PUT d=1@4")
      << "range_end is exclusive; \"\\0\" to \"\\0\" is every key";
}

TEST(WatchSynced, EveryEventOfOneRevisionComesInOneResponseInTheWritesOrder) {
  Watched w;
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(prefix("k")), *w.store);
  w.take(s);
  w.write([](mvcc::Write& wr) {
    wr.put("k2", "x", 0);
    wr.put("k1", "y", 0);
    wr.put("other", "z", 0);
  });
  EXPECT_EQ(w.take(s), "#0 @2: PUT k2=x@2, PUT k1=y@2")
      << "one write, one revision, one response; the write's own order";
}

TEST(WatchSynced, PrevKvIsTheKeyAsItWasAndOnlyWhenAskedFor) {
  Watched w;
  StreamId s = w.hub.open_stream();
  WatchRequest with = on(key("a"));
  with.prev_kv = true;
  w.hub.watch(s, with, *w.store);
  w.hub.watch(s, on(key("a")), *w.store);
  w.take(s);
  w.put("a", "1");
  w.put("a", "2");
  w.del(key("a"));
  EXPECT_EQ(w.take(s),
            "#0 @2: PUT a=1@2\n#1 @2: PUT a=1@2\n"
            "#0 @3: PUT a=2@3 (was a=1@2)\n#1 @3: PUT a=2@3\n"
            "#0 @4: DELETE a@4 (was a=2@3)\n#1 @4: DELETE a@4");
}

TEST(WatchSynced, FiltersLeaveOutPutsOrDeletesAndAnEmptyResponseIsNotSent) {
  Watched w;
  StreamId s = w.hub.open_stream();
  WatchRequest no_put = on(key("a"));
  no_put.no_put = true;
  WatchRequest no_delete = on(key("a"));
  no_delete.no_delete = true;
  w.hub.watch(s, no_put, *w.store);
  w.hub.watch(s, no_delete, *w.store);
  w.take(s);
  w.put("a", "1");
  w.del(key("a"));
  EXPECT_EQ(w.take(s), "#1 @2: PUT a=1@2\n#0 @3: DELETE a@3")
      << "NOPUT keeps deletes, NODELETE keeps puts; a response left empty is not sent";
}

// Each response as its watcher, its revision and its events' keys, "+" when more pieces follow.
std::string keys_of(const std::vector<WatchResponse>& rs) {
  std::string out;
  for (const auto& r : rs) {
    out += (out.empty() ? "#" : "\n#") + std::to_string(r.watch_id) + " @" +
           std::to_string(r.revision) + ":";
    for (const auto& e : r.events) out += " " + e.kv.key;
    if (r.fragment) out += " +";
  }
  return out;
}

TEST(WatchSynced, ALargeResponseComesInPiecesOnlyToAWatcherThatAskedForThem) {
  WatchConfig c = watch_config();
  c.max_response_bytes = 300;
  Watched w(c);
  StreamId s = w.hub.open_stream();
  WatchRequest fragmenting = on(prefix(""));
  fragmenting.fragment = true;
  w.hub.watch(s, fragmenting, *w.store);
  w.hub.watch(s, on(prefix("")), *w.store);
  w.take(s);
  std::string big(400, 'v');  // each event alone is past the 300 bytes
  w.write([&](mvcc::Write& wr) {
    wr.put("a", big, 0);
    wr.put("b", big, 0);
    wr.put("c", big, 0);
  });
  w.write([](mvcc::Write& wr) {
    wr.put("a", "1", 0);
    wr.put("b", "1", 0);
  });
  EXPECT_EQ(keys_of(w.hub.take(s, 100)),
            "#0 @2: a +\n#0 @2: b +\n#0 @2: c\n#1 @2: a b c\n#0 @3: a b\n#1 @3: a b")
      << "pieces of at most max_response_bytes (one event at least), every piece but the "
      << "last marked fragment; a watcher that did not ask, or a small response, comes whole";
}

TEST(WatchSynced, APieceHoldsAsManyEventsAsFitInMaxResponseBytes) {
  // Each event counts 601 bytes (key and value) plus the few the implementation adds for the
  // numbers (the reference 32; anything up to 100 gives the same pieces here): three fit in
  // 2,200 bytes, four never do.
  WatchConfig c = watch_config();
  c.max_response_bytes = 2200;
  Watched w(c);
  StreamId s = w.hub.open_stream();
  WatchRequest fragmenting = on(prefix(""));
  fragmenting.fragment = true;
  w.hub.watch(s, fragmenting, *w.store);
  w.take(s);
  std::string value(600, 'v');
  w.write([&](mvcc::Write& wr) {
    for (const char* k : {"a", "b", "c", "d", "e", "f", "g"}) wr.put(k, value, 0);
  });
  EXPECT_EQ(keys_of(w.hub.take(s, 100)), "#0 @2: a b c +\n#0 @2: d e f +\n#0 @2: g")
      << "a piece is cut only when the next event would take it past max_response_bytes, "
      << "and each piece counts its own bytes from zero";
}

TEST(WatchSynced, APrevKvCountsTowardsAPiecesBytes) {
  // With prev_kv, each event carries its 1-byte value and the 600-byte value it replaced:
  // 603 bytes of keys and values plus the implementation's few per key-value (up to 50 each
  // gives the same pieces here). Without its prev_kv an event would be a few bytes.
  WatchConfig c = watch_config();
  c.max_response_bytes = 2200;
  Watched w(c);
  const std::vector<std::string> keys = {"a", "b", "c", "d", "e", "f", "g"};
  w.write([&](mvcc::Write& wr) {
    for (const std::string& k : keys) wr.put(k, std::string(600, 'v'), 0);
  });
  StreamId s = w.hub.open_stream();
  WatchRequest fragmenting = on(prefix(""));
  fragmenting.fragment = true;
  fragmenting.prev_kv = true;
  w.hub.watch(s, fragmenting, *w.store);
  w.take(s);
  w.write([&](mvcc::Write& wr) {
    for (const std::string& k : keys) wr.put(k, "1", 0);
  });
  EXPECT_EQ(keys_of(w.hub.take(s, 100)), "#0 @3: a b c +\n#0 @3: d e f +\n#0 @3: g")
      << "an event's bytes include its prev_kv's key and value when it carries one";
}

TEST(WatchSynced, StartRevisionZeroMeansFromTheNextWrite) {
  Watched w;
  w.put("a", "old");
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a"), 0), *w.store);
  w.hub.sync(*w.store);
  w.put("a", "new");
  EXPECT_EQ(w.take(s), "created #0 @2\n#0 @3: PUT a=new@3");
}

TEST(WatchSynced, AFutureStartRevisionWaitsForIt) {
  Watched w;
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a"), 4), *w.store);
  w.take(s);
  w.put("a", "2");
  w.put("a", "3");
  w.hub.sync(*w.store);
  EXPECT_EQ(w.take(s), "") << "revisions 2 and 3 are before the start (4)";
  w.put("a", "4");
  EXPECT_EQ(w.take(s), "#0 @4: PUT a=4@4");
}

TEST(WatchSynced, CancelAnswersAndEndsTheWatcherAndAnUnknownIdIsNotAnswered) {
  Watched w;
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a")), *w.store);
  w.hub.watch(s, on(key("a")), *w.store);
  w.take(s);
  w.put("a", "1");
  EXPECT_TRUE(w.hub.cancel(s, 0, *w.store));
  EXPECT_FALSE(w.hub.cancel(s, 0, *w.store)) << "already gone";
  EXPECT_FALSE(w.hub.cancel(s, 42, *w.store)) << "never was";
  w.put("a", "2");
  EXPECT_EQ(w.take(s), "#0 @2: PUT a=1@2\n#1 @2: PUT a=1@2\ncanceled #0 @2\n#1 @3: PUT a=2@3")
      << "the cancellation comes after what was sent before it; nothing after it";
  EXPECT_EQ(w.hub.watchers(), 1u);
}

TEST(WatchSynced, ClosingAStreamEndsItsWatchersAndDropsWhatItHeld) {
  Watched w;
  StreamId s1 = w.hub.open_stream();
  StreamId s2 = w.hub.open_stream();
  w.hub.watch(s1, on(key("a")), *w.store);
  w.hub.watch(s2, on(key("a")), *w.store);
  w.put("a", "1");
  w.hub.close_stream(s1);
  EXPECT_EQ(w.hub.streams(), 1u);
  EXPECT_EQ(w.hub.watchers(), 1u);
  EXPECT_EQ(w.hub.queued(s1), 0u);
  w.put("a", "2");
  EXPECT_EQ(w.take(s2), "created #0 @1\n#0 @2: PUT a=1@2\n#0 @3: PUT a=2@3");
}

TEST(WatchSynced, AClosedStreamIsNotNamedReady) {
  Watched w;
  StreamId s1 = w.hub.open_stream();
  StreamId s2 = w.hub.open_stream();
  w.hub.watch(s1, on(key("a")), *w.store);
  w.hub.watch(s2, on(key("a")), *w.store);
  w.put("a", "1");
  w.hub.close_stream(s1);
  EXPECT_EQ(w.hub.take_ready(), std::vector<StreamId>{s2})
      << "a closed stream has no reader to wake and nothing left to take";
  EXPECT_TRUE(w.hub.take(s1, 10).empty()) << "a reader late to notice the close gets nothing";
}

TEST(WatchSynced, CallsNamingAStreamThatIsNotOpenAreDropped) {
  // The client's last requests may reach the node after its stream closed.
  Watched w;
  StreamId s = w.hub.open_stream();
  w.hub.watch(s, on(key("a")), *w.store);
  w.hub.close_stream(s);
  w.hub.take_ready();
  EXPECT_EQ(w.hub.watch(s, on(key("a")), *w.store), watch::kNoWatchId);
  w.hub.request_progress(s, *w.store);
  w.hub.close_stream(s);   // again
  w.hub.close_stream(42);  // never opened
  w.put("a", "1");
  EXPECT_EQ(w.hub.streams(), 0u);
  EXPECT_EQ(w.hub.watchers(), 0u);
  EXPECT_EQ(w.hub.queued(s), 0u);
  EXPECT_TRUE(w.hub.take(s, 10).empty());
  EXPECT_TRUE(w.hub.take_ready().empty()) << "nothing was answered";
  EXPECT_EQ(w.hub.open_stream(), s + 1) << "and the next stream is opened as usual";
}

TEST(WatchSynced, TakeGivesAtMostMaxOldestFirstAndReadyNamesTheStreamsOnce) {
  Watched w;
  StreamId s1 = w.hub.open_stream();
  StreamId s2 = w.hub.open_stream();
  w.hub.watch(s1, on(key("a")), *w.store);
  w.hub.watch(s2, on(key("b")), *w.store);
  EXPECT_EQ(w.hub.take_ready(), (std::vector<StreamId>{s1, s2}));
  EXPECT_TRUE(w.hub.take_ready().empty()) << "named once until something new comes";
  w.put("a", "1");
  w.put("a", "2");
  EXPECT_EQ(w.hub.take_ready(), std::vector<StreamId>{s1});
  EXPECT_EQ(w.hub.queued(s1), 3u);
  EXPECT_EQ(describe(w.hub.take(s1, 2)), "created #0 @1\n#0 @2: PUT a=1@2");
  EXPECT_EQ(w.take(s1), "#0 @3: PUT a=2@3");
}

}  // namespace
}  // namespace etcdlab::lab4
