// Lab 4, parts B-E (reference): streams, what clients ask, and what readers take. The store's
// side (notify, sync, progress notifications, restore) is in watch_sync.cc.
#include <algorithm>
#include <string_view>

#include "etcdlab/broken.h"
#include "watch_hub_impl.h"

namespace etcdlab::watch {

size_t event_bytes(const mvcc::Event& e) {
  size_t n = e.kv.key.size() + e.kv.value.size() + 32;  // 32: the numbers and the framing
  if (e.prev_kv) n += e.prev_kv->key.size() + e.prev_kv->value.size() + 32;
  return n;
}

bool wanted(const WatchRequest& r, const mvcc::Event& e) {
  bool put = e.type == mvcc::Event::Type::kPut;
  if (ETCDLAB_BROKEN("filters-swapped")) put = !put;
  return put ? !r.no_put : !r.no_delete;
}

bool holds_no_key(const mvcc::KeyRange& r) {
  return !r.range_end.empty() && r.range_end != std::string_view("\0", 1) &&
         r.range_end <= r.key;
}

mvcc::Event as_sent(const WatchRequest& r, const mvcc::Event& e) {
  mvcc::Event out = e;
  if (!r.prev_kv) out.prev_kv.reset();
  return out;
}

void WatchHub::Impl::push(StreamId id, WatchResponse response) {
  auto it = streams.find(id);
  if (it == streams.end()) return;
  it->second.queue.push_back(std::move(response));
  ready.insert(id);
}

void WatchHub::Impl::send(const WatcherKey& key, Watcher& w, WatchResponse response) {
  w.sent_this_interval = true;
  size_t bytes = 0;
  for (const mvcc::Event& e : response.events) bytes += event_bytes(e);
  if (!w.request.fragment || bytes <= config.max_response_bytes ||
      ETCDLAB_BROKEN("fragment-ignored")) {
    push(key.first, std::move(response));
    return;
  }
  // Pieces of about max_response_bytes, at least one event each; all but the last say more
  // follow (the client joins them: etcd's fragment).
  std::vector<mvcc::Event> events = std::move(response.events);
  WatchResponse piece = response;
  size_t piece_bytes = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    size_t b = event_bytes(events[i]);
    if (!piece.events.empty() && piece_bytes + b > config.max_response_bytes) {
      piece.fragment = true;
      push(key.first, piece);
      piece.events.clear();
      piece_bytes = 0;
    }
    piece.events.push_back(std::move(events[i]));
    piece_bytes += b;
  }
  piece.fragment = false;
  push(key.first, std::move(piece));
}

void WatchHub::Impl::add_synced(const WatcherKey& key, Watcher& w) {
  w.synced = true;
  unsynced.erase(key);
  if (w.request.range.single()) {
    synced_keys[w.request.range.key].insert(key);
  } else {
    synced_ranges.insert(key);
  }
}

void WatchHub::Impl::remove_synced(const WatcherKey& key, Watcher& w) {
  if (!w.synced) return;
  w.synced = false;
  if (w.request.range.single()) {
    auto it = synced_keys.find(w.request.range.key);
    if (it != synced_keys.end()) {
      it->second.erase(key);
      if (it->second.empty()) synced_keys.erase(it);
    }
  } else {
    synced_ranges.erase(key);
  }
}

void WatchHub::Impl::to_unsynced(const WatcherKey& key, Watcher& w, int64_t from) {
  remove_synced(key, w);
  // `from` is where it is: everything before it that concerned it was sent (a synced watcher
  // hears every write). Its own last event + 1 would be older, and a compaction between the
  // two would cancel a watcher that missed nothing.
  if (!ETCDLAB_BROKEN("behind-from-its-last-event")) {
    w.next_revision = std::max(w.next_revision, from);
  }
  unsynced.insert(key);
}

void WatchHub::Impl::remove(const WatcherKey& key) {
  Watcher* w = find(key);
  if (w == nullptr) return;
  remove_synced(key, *w);
  unsynced.erase(key);
  auto s = streams.find(key.first);
  if (s != streams.end()) s->second.watchers.erase(key.second);
  watchers.erase(key);
}

bool WatchHub::Impl::all_synced(const Stream& s, StreamId id) const {
  if (ETCDLAB_BROKEN("progress-while-unsynced")) return true;
  return std::all_of(s.watchers.begin(), s.watchers.end(),
                     [&](WatchId w) { return !unsynced.count({id, w}); });
}

void WatchHub::Impl::answer_progress_if_synced(StreamId id, int64_t revision) {
  auto it = streams.find(id);
  if (it == streams.end() || !it->second.progress_wanted || !all_synced(it->second, id)) return;
  it->second.progress_wanted = false;
  WatchResponse r;
  r.watch_id = kNoWatchId;
  r.revision = revision;
  push(id, std::move(r));
}

WatchHub::WatchHub(const WatchConfig& config) : impl_(std::make_unique<Impl>(config)) {}
WatchHub::~WatchHub() = default;

StreamId WatchHub::open_stream() {
  StreamId id = impl_->next_stream++;
  impl_->streams[id];
  return id;
}

void WatchHub::close_stream(StreamId stream) {
  Impl& h = *impl_;
  auto it = h.streams.find(stream);
  if (it == h.streams.end()) return;
  for (WatchId w : std::set<WatchId>(it->second.watchers)) h.remove({stream, w});
  h.streams.erase(stream);
  h.ready.erase(stream);
}

WatchId WatchHub::watch(StreamId stream, const WatchRequest& request,
                        const mvcc::KvStore& store) {
  Impl& h = *impl_;
  auto sit = h.streams.find(stream);
  if (sit == h.streams.end()) return kNoWatchId;
  Stream& s = sit->second;
  int64_t current = store.revision();

  // Refusals: one answer, nothing created, no id used up. The range first, as etcd's mvcc
  // (watchStream.Watch) checks it: a watcher that can never fire would leave its client
  // waiting for ever.
  const char* refusal = nullptr;
  if (holds_no_key(request.range) && !ETCDLAB_BROKEN("empty-range-accepted")) {
    refusal = kEmptyRangeReason;
  } else if (request.id != kAutoWatchId && s.watchers.count(request.id) &&
             !ETCDLAB_BROKEN("duplicate-id-replaces")) {
    refusal = kDuplicateIdReason;
  }
  if (refusal != nullptr) {
    WatchResponse refused;
    refused.watch_id = kNoWatchId;
    refused.revision = current;
    refused.created = true;
    refused.canceled = true;
    refused.cancel_reason = refusal;
    h.push(stream, std::move(refused));
    return kNoWatchId;
  }
  WatchId id = request.id;
  if (id == kAutoWatchId) {
    while (s.watchers.count(s.next_id)) ++s.next_id;
    id = s.next_id++;
  }
  if (ETCDLAB_BROKEN("duplicate-id-replaces")) h.remove({stream, id});

  WatchResponse created;
  created.watch_id = id;
  created.revision = current;
  created.created = true;
  h.push(stream, std::move(created));

  int64_t start = request.start_revision;
  int64_t compacted = store.compact_revision();
  bool gone = start <= compacted;
  if (ETCDLAB_BROKEN("start-at-compact-revision-served")) gone = start < compacted;  // 3.4's
  if (start < 0 || (start > 0 && gone)) {
    // History up to the compact revision is gone — at the compact revision itself, only what
    // compaction kept is left (a key deleted there has no event any more): the client must
    // read and watch again.
    WatchResponse canceled;
    canceled.watch_id = id;
    canceled.canceled = true;
    canceled.compact_revision = compacted > 0 ? compacted : -1;  // etcd: -1, never compacted
    h.push(stream, std::move(canceled));
    return kNoWatchId;
  }

  WatcherKey key{stream, id};
  Watcher& w = h.watchers[key];
  w.request = request;
  w.request.id = id;
  s.watchers.insert(id);
  if (ETCDLAB_BROKEN("start-revision-exclusive") && start > 0) ++start;
  bool synced = start == 0 || start > current;
  if (ETCDLAB_BROKEN("synced-at-current-revision")) synced = start == 0 || start >= current;
  if (synced) {
    w.next_revision = std::max(current + 1, start);
    if (ETCDLAB_BROKEN("future-start-ignored")) w.next_revision = current + 1;
    h.add_synced(key, w);
  } else {
    w.next_revision = start;
    h.unsynced.insert(key);
  }
  return id;
}

bool WatchHub::cancel(StreamId stream, WatchId id, const mvcc::KvStore& store) {
  Impl& h = *impl_;
  if (h.find({stream, id}) == nullptr) return false;
  h.remove({stream, id});
  int64_t current = store.revision();
  WatchResponse r;
  r.watch_id = id;
  r.revision = current;
  r.canceled = true;
  h.push(stream, std::move(r));
  h.answer_progress_if_synced(stream, current);  // it may have been the last one behind
  return true;
}

void WatchHub::request_progress(StreamId stream, const mvcc::KvStore& store) {
  Impl& h = *impl_;
  auto it = h.streams.find(stream);
  if (it == h.streams.end()) return;
  it->second.progress_wanted = true;
  h.answer_progress_if_synced(stream, store.revision());
}

std::vector<WatchResponse> WatchHub::take(StreamId stream, size_t max) {
  std::vector<WatchResponse> out;
  auto it = impl_->streams.find(stream);
  if (it == impl_->streams.end()) return out;
  auto& q = it->second.queue;
  while (!q.empty() && out.size() < max) {
    out.push_back(std::move(q.front()));
    q.pop_front();
  }
  return out;
}

size_t WatchHub::queued(StreamId stream) const {
  auto it = impl_->streams.find(stream);
  return it == impl_->streams.end() ? 0 : it->second.queue.size();
}

std::vector<StreamId> WatchHub::take_ready() {
  std::vector<StreamId> out(impl_->ready.begin(), impl_->ready.end());
  impl_->ready.clear();
  return out;
}

size_t WatchHub::streams() const { return impl_->streams.size(); }
size_t WatchHub::watchers() const { return impl_->watchers.size(); }
size_t WatchHub::unsynced() const { return impl_->unsynced.size(); }

}  // namespace etcdlab::watch
