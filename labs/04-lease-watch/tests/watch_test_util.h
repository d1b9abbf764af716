#pragma once
// Helpers shared by the lab 4 watch tests: a member's store with a hub that hears every
// write (as the node wires them), and responses written as one line of text each, so that a
// failure shows what the stream said:
//
//   created #0 @5                 watcher 0 created; the store was at revision 5
//   #0 @6: PUT a=x@6              an event response (revision 6): key a put to x at 6
//   #0 @6: PUT a=y@6 (was a=x@5)  with prev_kv: the key as it was
//   #0 @9: DELETE a@9 +           a fragment: more pieces follow
//   canceled #0 @9 / canceled #0 compact 4 / canceled #-1 created: <reason>
//   progress #-1 @9               a progress response (no events)
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "etcdlab/mvcc/store.h"
#include "etcdlab/watch/watch_hub.h"
#include "lease_test_util.h"

namespace etcdlab::lab4 {

using watch::StreamId;
using watch::WatchConfig;
using watch::WatchHub;
using watch::WatchId;
using watch::WatchRequest;
using watch::WatchResponse;

// The hub's configuration in these tests: small, so that limits are reached with few writes.
// Each test that depends on a limit sets it itself.
inline WatchConfig watch_config() {
  WatchConfig c;
  c.stream_capacity = 128;
  c.max_watchers_per_sync = 512;
  c.max_revisions_per_response = 1000;
  c.max_response_bytes = 1 << 20;
  c.progress_interval_ticks = 10;
  return c;
}

inline std::string describe(const mvcc::KeyValue& kv) {
  return kv.key + "=" + kv.value + "@" + std::to_string(kv.mod_revision);
}

inline std::string describe(const mvcc::Event& e) {
  if (e.type == mvcc::Event::Type::kDelete) {
    std::string out = "DELETE " + e.kv.key + "@" + std::to_string(e.kv.mod_revision);
    if (e.prev_kv) out += " (was " + describe(*e.prev_kv) + ")";
    return out;
  }
  std::string out = "PUT " + describe(e.kv);
  if (e.prev_kv) out += " (was " + describe(*e.prev_kv) + ")";
  return out;
}

inline std::string describe(const WatchResponse& r) {
  std::string id = "#" + std::to_string(r.watch_id);
  std::string at = r.revision != 0 ? " @" + std::to_string(r.revision) : "";
  if (r.canceled) {
    std::string out = "canceled " + id + at;
    if (r.created) out += " created";
    if (r.compact_revision != 0) out += " compact " + std::to_string(r.compact_revision);
    if (!r.cancel_reason.empty()) out += ": " + r.cancel_reason;
    return out;
  }
  if (r.created) return "created " + id + at;
  if (r.events.empty()) return "progress " + id + at;
  std::string out = id + at + ":";
  for (size_t i = 0; i < r.events.size(); ++i) out += (i ? ", " : " ") + describe(r.events[i]);
  if (r.fragment) out += " +";
  return out;
}

inline std::string describe(const std::vector<WatchResponse>& rs) {
  std::string out;
  for (const auto& r : rs) out += (out.empty() ? "" : "\n") + describe(r);
  return out;
}

inline KeyRange prefix(const std::string& p) {
  return KeyRange{p, mvcc::prefix_end(p)};
}

// [key, range_end) holds no key: etcd refuses to watch it (range_end "\0" is every key from
// key on, an empty one the key alone).
inline bool holds_no_key(const KeyRange& r) {
  return !r.range_end.empty() && r.range_end != std::string(1, '\0') && r.range_end <= r.key;
}

inline WatchRequest on(KeyRange range, int64_t start_revision = 0) {
  WatchRequest r;
  r.range = std::move(range);
  r.start_revision = start_revision;
  return r;
}

// A member's store and its hub, wired as the node wires them: every write's events go to
// notify() once the write is in the store.
struct Watched {
  explicit Watched(const WatchConfig& c = watch_config()) : hub(c) {}

  // One write with several operations (they share a revision); returns its revision, or 0 if
  // it changed nothing.
  int64_t write(const std::function<void(mvcc::Write&)>& ops) {
    mvcc::Write w = store->write();
    int64_t revision = w.revision();
    ops(w);
    std::vector<mvcc::Event> events = w.end();
    if (events.empty()) return 0;
    hub.notify(revision, events);
    return revision;
  }
  int64_t put(const std::string& k, const std::string& v) {
    return write([&](mvcc::Write& w) { w.put(k, v, 0); });
  }
  int64_t del(const KeyRange& range) {
    return write([&](mvcc::Write& w) { w.delete_range(range); });
  }
  // Replaces the store by `snapshot` (KvStore::snapshot's bytes), as a follower installs one;
  // the hub is not told (call hub.restored()).
  void install(const std::string& snapshot) {
    bool given = false;
    store->restore([&]() -> std::string {
      if (given) return "";
      given = true;
      return snapshot;
    });
  }
  // Everything the stream holds, as text (one line per response).
  std::string take(StreamId s, size_t max = 100000) { return describe(hub.take(s, max)); }
  // Syncs until no watcher is behind or nothing moves, taking everything as it goes.
  std::string drain(StreamId s, int rounds = 100) {
    std::string out;
    for (int i = 0; i < rounds; ++i) {
      std::string got = take(s);
      if (!got.empty()) out += (out.empty() ? "" : "\n") + got;
      if (hub.unsynced() == 0 && hub.queued(s) == 0) break;
      hub.sync(*store);
    }
    std::string last = take(s);
    if (!last.empty()) out += (out.empty() ? "" : "\n") + last;
    return out;
  }

  std::unique_ptr<KvStore> store = memory_store();
  WatchHub hub;
};

}  // namespace etcdlab::lab4
