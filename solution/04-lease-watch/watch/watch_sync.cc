// Lab 4, parts B-E (reference): the store's side of the hub — each write's events to the
// synced watchers (notify), history to the unsynced ones (sync), progress notifications
// (tick), and a store replaced by a snapshot (restored).
#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>

#include "etcdlab/broken.h"
#include "watch_hub_impl.h"

namespace etcdlab::watch {

void WatchHub::notify(int64_t revision, const std::vector<mvcc::Event>& events) {
  Impl& h = *impl_;
  h.last_revision = std::max(h.last_revision, revision);
  // Which synced watchers each event concerns, walked in watcher order (deterministic).
  std::map<WatcherKey, std::vector<const mvcc::Event*>> hits;
  for (const mvcc::Event& e : events) {
    auto it = h.synced_keys.find(e.kv.key);
    if (it != h.synced_keys.end()) {
      for (const WatcherKey& k : it->second) hits[k].push_back(&e);
    }
    for (const WatcherKey& k : h.synced_ranges) {
      if (h.watchers.at(k).request.range.contains(e.kv.key)) hits[k].push_back(&e);
    }
    if (ETCDLAB_BROKEN("notify-serves-unsynced")) {  // they jump over their history
      for (const WatcherKey& k : h.unsynced) {
        if (h.watchers.at(k).request.range.contains(e.kv.key)) hits[k].push_back(&e);
      }
    }
  }
  for (auto& [key, evs] : hits) {
    Watcher& w = h.watchers.at(key);
    if (revision < w.next_revision) continue;  // it starts at a future revision
    WatchResponse r;
    r.watch_id = key.second;
    r.revision = revision;
    for (const mvcc::Event* e : evs) {
      if (wanted(w.request, *e)) r.events.push_back(as_sent(w.request, *e));
    }
    if (r.events.empty()) continue;  // all filtered out: nothing is sent
    if (!h.room(key.first) && !ETCDLAB_BROKEN("full-stream-grows")) {
      // Its reader is slow. The write does not wait: the watcher falls behind, to be served
      // this revision and the ones after from history.
      int64_t from = revision;
      if (ETCDLAB_BROKEN("fallen-behind-skips-its-revision")) from = revision + 1;
      h.to_unsynced(key, w, from);
      continue;
    }
    w.next_revision = revision + 1;
    h.send(key, w, std::move(r));
  }
}

namespace {

// The key as it was before event `e`, as etcd's watch reads it (at mod_revision - 1); none if
// the key did not exist then. (What KvStore::events_since(..., prev_kv = true) gives.) The read
// never fails: sync() serves only events above the compact revision (it cancels the watchers
// whose next revision is not), and a write's revision is at least 2, so mod_revision - 1 is a
// readable revision, at or above both 1 and the compact revision.
std::optional<mvcc::KeyValue> previous(const mvcc::KvStore& store, const mvcc::Event& e) {
  mvcc::RangeOptions at;
  at.revision = e.kv.mod_revision - 1;
  mvcc::RangeResult r = store.range(mvcc::KeyRange{e.kv.key, ""}, at);
  if (r.kvs.empty()) return std::nullopt;
  return std::move(r.kvs.front());
}

// The smallest range holding every reader's range: the store skips the rest of history's
// events before making them.
mvcc::KeyRange covering(const WatchHub::Impl& h, const std::vector<WatcherKey>& readers) {
  const std::string every(1, '\0');
  mvcc::KeyRange out;
  bool first = true;
  for (const WatcherKey& key : readers) {
    const mvcc::KeyRange& r = h.watchers.at(key).request.range;
    std::string end = r.single() ? r.key + '\0' : r.range_end;  // the key's successor
    if (first || r.key < out.key) out.key = r.key;
    if (first || end == every || (out.range_end != every && end > out.range_end)) {
      out.range_end = end;
    }
    first = false;
  }
  return out;
}

}  // namespace

void WatchHub::sync(const mvcc::KvStore& store) {
  Impl& h = *impl_;
  int64_t current = store.revision();
  int64_t compacted = store.compact_revision();
  if (h.unsynced.empty()) return;

  // Up to max_watchers_per_sync unsynced watchers whose stream has room, going round from
  // where the last sync stopped, so that no watcher waits behind a crowd forever.
  std::vector<WatcherKey> batch;
  std::set<StreamId> touched;
  auto start = h.unsynced.upper_bound(h.sync_cursor);
  if (ETCDLAB_BROKEN("sync-always-from-the-front")) start = h.unsynced.begin();
  for (size_t visited = 0; visited < h.unsynced.size() && batch.size() < h.config.max_watchers_per_sync;
       ++visited) {
    if (start == h.unsynced.end()) start = h.unsynced.begin();
    WatcherKey key = *start++;
    if (h.room(key.first)) batch.push_back(key);
  }
  if (batch.empty()) return;
  h.sync_cursor = batch.back();

  int64_t from = current + 1;
  std::vector<WatcherKey> readers;
  for (const WatcherKey& key : batch) {
    Watcher& w = h.watchers.at(key);
    touched.insert(key.first);
    // Its next revision's events are gone, or (at the compact revision) may be.
    bool gone = w.next_revision <= compacted;
    if (ETCDLAB_BROKEN("start-at-compact-revision-served")) gone = w.next_revision < compacted;
    if (gone && !ETCDLAB_BROKEN("compacted-watcher-not-cancelled")) {
      WatchResponse r;
      r.watch_id = key.second;
      r.canceled = true;
      r.compact_revision = compacted;
      h.push(key.first, std::move(r));
      h.remove(key);
      continue;
    }
    if (ETCDLAB_BROKEN("compacted-watcher-not-cancelled")) {
      w.next_revision = std::max(w.next_revision, compacted + 1);
    }
    if (w.next_revision > current) {  // nothing in history for it: it is caught up
      h.add_synced(key, w);
      continue;
    }
    from = std::min(from, w.next_revision);
    readers.push_back(key);
  }

  if (!readers.empty()) {
    // One read of the history for the whole batch (etcd's syncWatchers does the same), without
    // the previous key-values: those are looked up for the events a watcher that asked is
    // sent, not for every event of every key since the batch's oldest revision (a watcher
    // 100,000 revisions behind would pay 100,000 lookups per sync for the 1,000 it is sent).
    std::vector<mvcc::Event> history =
        store.events_since(from, covering(h, readers), /*prev_kv=*/false);
    // Looked up once per event, whichever watchers of the batch it is sent to.
    std::unordered_map<size_t, std::optional<mvcc::KeyValue>> prevs;
    for (const WatcherKey& key : readers) {
      // Another watcher of the batch may have filled the stream: this one waits its turn.
      if (!h.room(key.first)) continue;
      Watcher& w = h.watchers.at(key);
      bool prev_kv = w.request.prev_kv;
      if (ETCDLAB_BROKEN("catch-up-prev-kv-from-first")) {
        // looked up as the batch's first reader wanted them: the others' are missing
        prev_kv = prev_kv && h.watchers.at(readers.front()).request.prev_kv;
      }
      WatchResponse r;
      r.watch_id = key.second;
      r.revision = current;
      int64_t revisions = 0;
      int64_t last = 0;  // the revision of the last event taken
      size_t bytes = 0;
      int64_t next = current + 1;  // where the next round starts, if it is cut short
      for (size_t i = 0; i < history.size(); ++i) {
        const mvcc::Event& e = history[i];
        int64_t own = w.next_revision;
        if (ETCDLAB_BROKEN("catch-up-from-the-batch-start")) own = from;  // sends some twice
        if (e.kv.mod_revision < own || !w.request.range.contains(e.kv.key)) continue;
        if (e.kv.mod_revision != last) {
          // A new revision: cut here if the response is full. Only here: a revision's
          // events always travel together.
          if (revisions >= h.config.max_revisions_per_response ||
              (revisions > 0 && bytes >= h.config.max_response_bytes &&
               !ETCDLAB_BROKEN("catch-up-ignores-bytes"))) {
            next = e.kv.mod_revision;
            break;
          }
          ++revisions;
          last = e.kv.mod_revision;
        }
        if (ETCDLAB_BROKEN("revision-split-across-responses") &&
            r.events.size() >= static_cast<size_t>(h.config.max_revisions_per_response)) {
          next = e.kv.mod_revision;  // counts events: the revision is cut in two
          break;
        }
        if (!wanted(w.request, e)) {
          bytes += event_bytes(e);
          continue;
        }
        mvcc::Event sent = e;
        if (prev_kv) {
          auto [it, fresh] = prevs.try_emplace(i);
          if (fresh) it->second = previous(store, e);
          sent.prev_kv = it->second;
        }
        bytes += event_bytes(sent);
        r.events.push_back(std::move(sent));
      }
      w.next_revision = next;
      if (!r.events.empty()) h.send(key, w, std::move(r));
      if (next > current) h.add_synced(key, w);
    }
  }
  for (StreamId s : touched) h.answer_progress_if_synced(s, current);
}

void WatchHub::tick(const mvcc::KvStore& store) {
  Impl& h = *impl_;
  ++h.ticks;
  if (h.config.progress_interval_ticks <= 0 || h.ticks % h.config.progress_interval_ticks != 0) {
    return;
  }
  int64_t current = store.revision();
  for (auto& [key, w] : h.watchers) {
    bool room = h.room(key.first) || ETCDLAB_BROKEN("notification-on-a-full-stream");
    if (w.request.progress_notify && w.synced && !w.sent_this_interval && room) {
      WatchResponse r;
      r.watch_id = key.second;
      r.revision = current;
      h.push(key.first, std::move(r));
    }
    w.sent_this_interval = false;
  }
}

// The new store is not read here: what each watcher missed is read from it by sync().
void WatchHub::restored(const mvcc::KvStore& /*store*/) {
  Impl& h = *impl_;
  // Every synced watcher has seen everything up to the last revision the hub heard of; the
  // new store's history from there on is what it missed.
  int64_t from = h.last_revision + 1;
  std::vector<WatcherKey> synced;
  for (auto& [key, w] : h.watchers) {
    if (w.synced) synced.push_back(key);
  }
  for (const WatcherKey& key : synced) h.to_unsynced(key, h.watchers.at(key), from);
}

}  // namespace etcdlab::watch
