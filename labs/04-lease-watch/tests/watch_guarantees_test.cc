// Lab 4, parts B-E (everything at once): the watch guarantees of etcd's robustness tests
// (etcd-v3-json-api.md §10), checked on random workloads. Writes of one to three operations,
// watchers on keys, prefixes, ranges and everything, from past, current, future, compacted
// and negative revisions, with prev_kv, filters and fragments; cancels, slow and fast readers,
// syncs, compactions, ticks, progress requests and closed streams, under a random small
// configuration (tiny streams, tiny responses). Everything each stream said is then checked
// against the writes' own record of their events:
//
//   ordered, unique, reliable   a watcher's events are exactly the events of its range from its
//                               start revision, filtered, in order — a prefix of them if it was
//                               cancelled, all of them once every stream is drained
//   atomic                      a revision's events never span two responses (fragments of one
//                               response are joined first)
//   prev_kv                     the key's previous version, when asked for (absent only when
//                               compaction removed it)
//   refusals                    a range that holds no key, or an id in use, is refused
//   compaction                  a watcher is cancelled with compact_revision only when its
//                               next revision is at or below the store's compact revision
//   bookmarkable                a progress response at R (a request's or a notification) comes
//                               after every event up to R of the watchers it covers
//   deterministic               the same seed gives the same transcript
#include <gtest/gtest.h>

#include <deque>
#include <iostream>
#include <map>

#include "etcdlab/random.h"
#include "etcdlab/testing/seeds.h"
#include "watch_test_util.h"

namespace etcdlab::lab4 {
namespace {

const char* const kKeys[] = {"a", "ab", "b", "c", "cd", "d"};

class Workload {
 public:
  explicit Workload(uint64_t seed) : rng_(seed), w_(random_config()) {
    for (int i = 0; i < 2; ++i) streams_.push_back(w_.hub.open_stream());
  }

  void run(int steps) {
    for (int i = 0; i < steps; ++i) step();
    // Drain: every reader reads until nothing is behind.
    for (int round = 0; round < 5000; ++round) {
      for (StreamId s : streams_) take(s, 1000);
      if (w_.hub.unsynced() == 0) break;
      w_.hub.sync(*w_.store);
    }
    for (StreamId s : streams_) take(s, 1000);
    ASSERT_EQ(w_.hub.unsynced(), 0u) << "watchers still behind after 5000 syncs";
  }

  // What each stream said, in order; the requests each stream made, in order; the history.
  std::map<StreamId, std::vector<WatchResponse>> said;
  std::map<StreamId, std::deque<WatchRequest>> asked;
  std::vector<mvcc::Event> history;                  // every write's events (with prev_kv)
  std::map<StreamId, bool> closed;
  int64_t final_compact = 0;

  std::string transcript() const {
    std::string out;
    for (const auto& [s, rs] : said) out += "stream " + std::to_string(s) + "\n" + describe(rs) + "\n";
    return out;
  }
  WatchConfig config() const { return config_; }

 private:
  WatchConfig random_config() {
    config_ = watch_config();
    config_.stream_capacity = rng_.uniform(1, 6);
    config_.max_watchers_per_sync = rng_.uniform(1, 4);
    config_.max_revisions_per_response = static_cast<int64_t>(rng_.uniform(1, 5));
    config_.max_response_bytes = rng_.chance(0.5) ? rng_.uniform(40, 200) : 1 << 20;
    config_.progress_interval_ticks = static_cast<int64_t>(rng_.uniform(1, 8));
    return config_;
  }

  std::string random_key() { return kKeys[rng_.uniform(0, 5)]; }
  KeyRange random_range() {
    switch (rng_.uniform(0, 3)) {
      case 0: return key(random_key());
      case 1: return prefix(random_key());
      case 2: {  // mostly [lower, higher); sometimes one that holds no key (refused)
        std::string a = random_key();
        std::string b = random_key();
        if (b < a && rng_.chance(0.75)) std::swap(a, b);
        return KeyRange{a, b};
      }
      default: return KeyRange{std::string(1, '\0'), std::string(1, '\0')};
    }
  }

  void take(StreamId s, size_t max) {
    for (auto& r : w_.hub.take(s, max)) said[s].push_back(std::move(r));
  }

  void step() {
    uint64_t op = rng_.uniform(0, 99);
    StreamId s = streams_[rng_.uniform(0, streams_.size() - 1)];
    if (op < 35) {
      int n = static_cast<int>(rng_.uniform(1, 3));
      mvcc::Write wr = w_.store->write();
      int64_t revision = wr.revision();
      for (int i = 0; i < n; ++i) {
        if (rng_.chance(0.75)) {
          wr.put(random_key(), std::string(rng_.uniform(0, 30), 'v'), 0);
        } else {
          wr.delete_range(rng_.chance(0.7) ? key(random_key()) : random_range());
        }
      }
      std::vector<mvcc::Event> events = wr.end();
      if (!events.empty()) {
        w_.hub.notify(revision, events);
        history.insert(history.end(), events.begin(), events.end());
      }
    } else if (op < 50) {
      WatchRequest r;
      r.range = random_range();
      int64_t rev = w_.store->revision();
      uint64_t pick = rng_.uniform(0, 9);
      r.start_revision = pick < 3 ? 0 : pick < 8 ? static_cast<int64_t>(rng_.uniform(1, rev + 2))
                                               : (pick == 8 ? -1 : w_.store->compact_revision());
      r.prev_kv = rng_.chance(0.5);
      r.no_put = rng_.chance(0.15);
      r.no_delete = rng_.chance(0.15);
      r.progress_notify = rng_.chance(0.3);
      r.fragment = rng_.chance(0.3);
      if (rng_.chance(0.2)) r.id = static_cast<WatchId>(rng_.uniform(0, 4));
      asked[s].push_back(r);
      w_.hub.watch(s, r, *w_.store);
    } else if (op < 55) {
      w_.hub.cancel(s, static_cast<WatchId>(rng_.uniform(0, 6)), *w_.store);
    } else if (op < 75) {
      take(s, rng_.uniform(0, 3));
    } else if (op < 85) {
      w_.hub.sync(*w_.store);
    } else if (op < 88) {
      int64_t rev = w_.store->revision();
      int64_t from = w_.store->compact_revision() + 1;
      if (from <= rev) {
        w_.store->compact(static_cast<int64_t>(rng_.uniform(from, rev)));
        while (!w_.store->compaction_step()) {
        }
        final_compact = w_.store->compact_revision();
      }
    } else if (op < 94) {
      w_.hub.tick(*w_.store);
    } else if (op < 98) {
      w_.hub.request_progress(s, *w_.store);
    } else {
      take(s, 1000);
      w_.hub.close_stream(s);
      closed[s] = true;
      StreamId fresh = w_.hub.open_stream();
      for (StreamId& x : streams_) {
        if (x == s) x = fresh;
      }
    }
  }

  Rng rng_;
  WatchConfig config_;
  Watched w_;
  std::vector<StreamId> streams_;
};

// The events `r` asks for, out of the history, from `start` on.
std::vector<mvcc::Event> expected_events(const std::vector<mvcc::Event>& history,
                                         const WatchRequest& r, int64_t start) {
  std::vector<mvcc::Event> out;
  for (const mvcc::Event& e : history) {
    if (e.kv.mod_revision < start || !r.range.contains(e.kv.key)) continue;
    bool put = e.type == mvcc::Event::Type::kPut;
    if (put ? r.no_put : r.no_delete) continue;
    out.push_back(e);
  }
  return out;
}

struct Live {  // a watcher as the checker follows it
  WatchRequest request;
  int64_t start = 0;  // its first revision (a start of 0 resolved)
  std::vector<mvcc::Event> expected;
  size_t received = 0;  // how many of `expected` came
  int64_t last_revision = 0;
  std::vector<mvcc::Event> pending;  // fragments not yet joined
};

std::string describe_watcher(const Live& w) {
  const WatchRequest& r = w.request;
  std::string out = "watching [" + r.range.key + ", " +
                    (r.range.range_end == std::string(1, '\0') ? "\\0" : r.range.range_end) +
                    ") from " + std::to_string(w.start);
  if (r.prev_kv) out += " prev_kv";
  if (r.no_put) out += " no_put";
  if (r.no_delete) out += " no_delete";
  if (r.fragment) out += " fragment";
  return out;
}

void check_event(const Live& w, const mvcc::Event& got, const mvcc::Event& want,
                 int64_t final_compact, const std::string& who) {
  mvcc::Event bare_got = got;
  mvcc::Event bare_want = want;
  bare_got.prev_kv.reset();
  bare_want.prev_kv.reset();
  ASSERT_EQ(describe(bare_got), describe(bare_want))
      << who << ", " << describe_watcher(w)
      << ": events must be exactly the range's, from the start, in order (ordered, unique, "
      << "reliable)";
  if (!w.request.prev_kv) {
    ASSERT_FALSE(got.prev_kv) << who << ": prev_kv sent though not asked for: " << describe(got);
  } else if (got.prev_kv) {
    ASSERT_TRUE(want.prev_kv) << who << ": a prev_kv for a key that did not exist: "
                              << describe(got);
    ASSERT_EQ(describe(*got.prev_kv), describe(*want.prev_kv)) << who << ": wrong prev_kv";
  } else {
    ASSERT_TRUE(!want.prev_kv || want.kv.mod_revision - 1 < final_compact)
        << who << ": prev_kv missing though asked for and not compacted: want "
        << describe(want);
  }
}

void check(const Workload& load) {
  for (const auto& [s, responses] : load.said) {
    std::deque<WatchRequest> asked;
    if (load.asked.count(s)) asked = load.asked.at(s);
    std::map<WatchId, Live> live;
    for (size_t i = 0; i < responses.size(); ++i) {
      const WatchResponse& r = responses[i];
      std::string who = "stream " + std::to_string(s) + " response " + std::to_string(i) +
                        " (" + describe(r) + ")";
      if (r.created) {
        ASSERT_FALSE(asked.empty()) << who << ": a created answer nobody asked for";
        WatchRequest req = asked.front();
        asked.pop_front();
        if (holds_no_key(req.range)) {
          ASSERT_TRUE(r.canceled && r.cancel_reason == watch::kEmptyRangeReason)
              << who << ": a watch on [" << req.range.key << ", " << req.range.range_end
              << "), which holds no key, must be refused";
        } else if (r.canceled) {
          ASSERT_NE(req.id, watch::kAutoWatchId) << who << ": refused an automatic id";
          ASSERT_TRUE(live.count(req.id)) << who << ": refused an id not in use";
        }
        if (r.canceled) {
          ASSERT_EQ(r.watch_id, watch::kNoWatchId) << who;
          continue;
        }
        ASSERT_TRUE(req.id == watch::kAutoWatchId || req.id == r.watch_id) << who;
        ASSERT_FALSE(live.count(r.watch_id)) << who << ": id already in use on the stream";
        int64_t start = req.start_revision == 0 ? r.revision + 1 : req.start_revision;
        live[r.watch_id] = Live{req, start, expected_events(load.history, req, start), 0, 0, {}};
        continue;
      }
      if (r.watch_id == watch::kNoWatchId) {  // a progress request's answer
        ASSERT_TRUE(r.events.empty()) << who;
        for (const auto& [id, w] : live) {
          size_t due = 0;
          while (due < w.expected.size() && w.expected[due].kv.mod_revision <= r.revision) ++due;
          ASSERT_GE(w.received, due) << who << ": watcher " << id
                                     << " had not sent everything up to the progress revision";
        }
        continue;
      }
      ASSERT_TRUE(live.count(r.watch_id)) << who << ": a response for no live watcher";
      Live& w = live.at(r.watch_id);
      if (r.canceled) {
        if (r.compact_revision != 0) {
          // Its next revision is at least past its start and what it sent: only history
          // below the compact revision is gone.
          int64_t next = std::max(w.start, w.last_revision + 1);
          ASSERT_TRUE(w.start < 0 || next <= r.compact_revision)
              << who << ": cancelled for compaction, yet its next revision " << next
              << " is still in history";
          ASSERT_LE(r.compact_revision, load.final_compact) << who;
        }
        live.erase(r.watch_id);
        continue;
      }
      for (const auto& e : r.events) {
        ASSERT_LE(e.kv.mod_revision, r.revision) << who << ": an event newer than its header";
      }
      if (r.events.empty()) {  // a progress notification
        size_t due = 0;
        while (due < w.expected.size() && w.expected[due].kv.mod_revision <= r.revision) ++due;
        ASSERT_GE(w.received, due) << who << ": a progress notification before the events";
        continue;
      }
      w.pending.insert(w.pending.end(), r.events.begin(), r.events.end());
      if (r.fragment) continue;
      ASSERT_GT(w.pending.front().kv.mod_revision, w.last_revision)
          << who << ": revision " << w.last_revision << " spans two responses (atomic)";
      for (const mvcc::Event& e : w.pending) {
        ASSERT_LT(w.received, w.expected.size()) << who << ": an event too many: " << describe(e);
        check_event(w, e, w.expected[w.received], load.final_compact, who);
        ++w.received;
        w.last_revision = e.kv.mod_revision;
      }
      w.pending.clear();
    }
    if (load.closed.count(s)) continue;
    for (const auto& [id, w] : live) {
      ASSERT_TRUE(w.pending.empty()) << "stream " << s << " watcher " << id
                                     << ": a fragmented response never ended";
      ASSERT_EQ(w.received, w.expected.size())
          << "stream " << s << " watcher " << id << ": drained, yet events are missing; next "
          << "missing: " << describe(w.expected[w.received]);
    }
  }
}

TEST(WatchGuarantees, RandomWorkloadsKeepEveryGuarantee) {
  testing::for_each_seed(testing::seed_count(150, 5000), [](uint64_t seed) {
    Workload load(seed);
    load.run(400);
    if (::testing::Test::HasFatalFailure()) return;
    SCOPED_TRACE("configuration: capacity " + std::to_string(load.config().stream_capacity) +
                 ", revisions per response " +
                 std::to_string(load.config().max_revisions_per_response) + ", bytes " +
                 std::to_string(load.config().max_response_bytes));
    check(load);
    if (::testing::Test::HasFatalFailure() && testing::replaying()) {
      std::cout << load.transcript();
    }
    Workload again(seed);
    again.run(400);
    ASSERT_EQ(again.transcript(), load.transcript()) << "the same seed must say the same";
  });
}

}  // namespace
}  // namespace etcdlab::lab4
