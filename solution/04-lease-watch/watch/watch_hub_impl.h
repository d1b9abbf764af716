#pragma once
// Lab 4, parts B-E (reference): the hub's state, shared by watch_hub.cc (streams, requests,
// the readers' side) and watch_sync.cc (the store's side: notify, sync, progress, restore).
#include <deque>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "etcdlab/watch/watch_hub.h"

namespace etcdlab::watch {

// A watcher is known by its stream and its id on that stream. Ordered maps keyed by it make
// every walk over watchers — and so the order of the responses they make — the same on every
// member and every run.
using WatcherKey = std::pair<StreamId, WatchId>;

struct Watcher {
  WatchRequest request;
  // The next revision this watcher sends. A synced watcher's is also raised implicitly by
  // every write it did not care about: it never reads history below the hub's last revision.
  int64_t next_revision = 0;
  bool synced = false;
  bool sent_this_interval = false;  // events went out since the last progress interval
};

struct Stream {
  std::deque<WatchResponse> queue;
  WatchId next_id = 0;           // the next automatic id
  std::set<WatchId> watchers;
  bool progress_wanted = false;  // a progress request waits for its watchers to catch up
};

struct WatchHub::Impl {
  explicit Impl(const WatchConfig& c) : config(c) {}

  Watcher* find(const WatcherKey& key) {
    auto it = watchers.find(key);
    return it == watchers.end() ? nullptr : &it->second;
  }
  bool room(StreamId id) const {
    auto it = streams.find(id);
    return it != streams.end() && it->second.queue.size() < config.stream_capacity;
  }
  void push(StreamId id, WatchResponse response);
  // Sends events to a watcher, in fragments if it asked for them and they are big.
  void send(const WatcherKey& key, Watcher& w, WatchResponse response);
  void add_synced(const WatcherKey& key, Watcher& w);
  void remove_synced(const WatcherKey& key, Watcher& w);
  void to_unsynced(const WatcherKey& key, Watcher& w, int64_t from);
  void remove(const WatcherKey& key);
  void answer_progress_if_synced(StreamId id, int64_t revision);
  bool all_synced(const Stream& s, StreamId id) const;

  WatchConfig config;
  StreamId next_stream = 1;
  std::map<StreamId, Stream> streams;
  std::map<WatcherKey, Watcher> watchers;
  // The synced group, indexed for notify(): single-key watchers by key, range watchers in a
  // list walked for every event (etcd uses an interval tree; few clients watch ranges).
  std::unordered_map<std::string, std::set<WatcherKey>> synced_keys;
  std::set<WatcherKey> synced_ranges;
  std::set<WatcherKey> unsynced;
  WatcherKey sync_cursor{0, 0};  // sync() goes round the unsynced group from here
  std::set<StreamId> ready;
  int64_t ticks = 0;
  // The newest revision notify() was told of (restored() replays from the one after it).
  // Only notify() raises it: a watcher synced by watch() or sync() starts above the store's
  // revision of the moment already, and restored() keeps the larger of the two.
  int64_t last_revision = 0;
};

// The bytes of an event that count towards a response's size.
size_t event_bytes(const mvcc::Event& e);

// Whether a watcher wants this event (its filters), and the event as it gets it (prev_kv
// only when asked for).
bool wanted(const WatchRequest& r, const mvcc::Event& e);
mvcc::Event as_sent(const WatchRequest& r, const mvcc::Event& e);

// [key, range_end) holds no key: range_end is neither empty (one key) nor "\0" (every key
// from key on), and not above key.
bool holds_no_key(const mvcc::KeyRange& r);

}  // namespace etcdlab::watch
