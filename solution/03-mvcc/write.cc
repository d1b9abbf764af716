// A write: operations sharing one main revision, buffered as events until end() applies them
// to SQLite (one transaction, or the open batch's) and then to the index.
#include <algorithm>

#include "etcdlab/broken.h"
#include "schema.h"
#include "store_impl.h"

namespace etcdlab::mvcc {

// ---- Write::Impl

const Event* Write::Impl::pending(std::string_view key) const {
  auto it = std::lower_bound(latest.begin(), latest.end(), key,
                             [&](uint32_t i, std::string_view k) { return events[i].kv.key < k; });
  if (it == latest.end() || events[*it].kv.key != key) return nullptr;
  return &events[*it];
}

void Write::Impl::record(Event event) {
  auto index = static_cast<uint32_t>(events.size());
  events.push_back(std::move(event));
  const std::string& key = events.back().kv.key;
  auto it =
      std::lower_bound(latest.begin(), latest.end(), key,
                       [&](uint32_t i, const std::string& k) { return events[i].kv.key < k; });
  if (it != latest.end() && events[*it].kv.key == key) {
    *it = index;
  } else {
    latest.insert(it, index);
  }
}

std::optional<Hit> Write::Impl::current(std::string_view key) const {
  if (const Event* e = pending(key)) {
    if (e->type == Event::Type::kDelete) return std::nullopt;
    return Hit{e->kv.key, {}, e->kv.create_revision, e->kv.version, &e->kv};
  }
  const KeyIndex* k = store->index.find(key);
  if (k == nullptr) return std::nullopt;
  auto hit = k->latest();
  if (!hit) return std::nullopt;
  return Hit{key, hit->rev, hit->created, hit->version, nullptr};
}

std::vector<Hit> Write::Impl::view(const KeyRange& range) const {
  std::vector<Hit> base = store->hits_at(range, store->revision);
  if (latest.empty()) return base;
  // Merge this write's latest event per key (sorted by key, like the index) over the store.
  auto first =
      std::lower_bound(latest.begin(), latest.end(), std::string_view(range.key),
                       [&](uint32_t i, std::string_view k) { return events[i].kv.key < k; });
  std::vector<Hit> out;
  out.reserve(base.size());
  auto b = base.begin();
  for (auto it = first; it != latest.end() && range.contains(events[*it].kv.key); ++it) {
    const Event& e = events[*it];
    for (; b != base.end() && b->key < e.kv.key; ++b) out.push_back(*b);
    if (b != base.end() && b->key == e.kv.key) ++b;  // the write's own event replaces it
    if (e.type == Event::Type::kPut) {
      out.push_back(Hit{e.kv.key, {}, e.kv.create_revision, e.kv.version, &e.kv});
    }
  }
  out.insert(out.end(), b, base.end());
  return out;
}

std::vector<Event> Write::Impl::end(Returning returning) {
  if (!active) throw std::logic_error("mvcc: the write has ended");
  std::vector<Event> out;
  if (events.empty()) {
    if (ETCDLAB_BROKEN("bump-revision-for-empty-write")) store->revision = main;  // the bug
    release();
    return out;
  }
  try {
    KvStore::Impl& s = *store;
    if (returning == Returning::kEventsWithPrevKvs) {
      // What each key was before this write: a watcher's prev_kv.
      for (Event& e : events) e.prev_kv = s.get(e.kv.key, s.revision);
    }
    // The bug variant: every operation takes a main revision of its own.
    auto rev_of = [&](size_t i) {
      return ETCDLAB_BROKEN("revision-per-operation") ? Revision{main + static_cast<int64_t>(i), 0}
                                                      : Revision{main, static_cast<int64_t>(i)};
    };
    s.in_transaction([&] {
      for (size_t i = 0; i < events.size(); ++i) {
        schema::insert_row(s.db, rev_of(i), events[i].kv, events[i].type == Event::Type::kDelete);
      }
    });
    // The database has the write: now the index, which cannot fail (short of memory).
    for (size_t i = 0; i < events.size(); ++i) {
      const Event& e = events[i];
      KeyIndex& k = s.index.get_or_create(e.kv.key);
      Revision rev = rev_of(i);
      if (e.type == Event::Type::kDelete) {
        k.tombstone(rev);
        --s.key_count;
      } else if (k.put(rev, e.kv.create_revision, e.kv.version)) {
        ++s.key_count;
      }
    }
    s.revision = main;
    if (ETCDLAB_BROKEN("revision-per-operation")) {
      s.revision = main + static_cast<int64_t>(events.size()) - 1;
    }
  } catch (...) {
    release();
    throw;
  }
  if (returning != Returning::kNothing) out = std::move(events);
  release();
  return out;
}

void Write::Impl::release() {
  events.clear();
  latest.clear();
  if (active) store->write_open = false;
  active = false;
}

// ---- Write

Write::Write(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Write::~Write() {
  if (!impl_) return;
  if (ETCDLAB_BROKEN("index-updated-per-operation") && impl_->active) {
    // The bug: the index took each operation as it ran, so a dropped write leaves them behind.
    for (size_t i = 0; i < impl_->events.size(); ++i) {
      const Event& e = impl_->events[i];
      KeyIndex& k = impl_->store->index.get_or_create(e.kv.key);
      if (e.type == Event::Type::kDelete) {
        k.tombstone({impl_->main, static_cast<int64_t>(i)});
      } else {
        k.put({impl_->main, static_cast<int64_t>(i)}, e.kv.create_revision, e.kv.version);
      }
    }
  }
  impl_->release();
  KvStore::Impl* store = impl_->store;
  if (!store->spare_write) store->spare_write = std::move(impl_);
}

Write::Write(Write&&) noexcept = default;

Write& Write::operator=(Write&& other) noexcept {
  if (this != &other) {
    if (impl_) impl_->release();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

int64_t Write::revision() const {
  return impl_->main;
}

PutResult Write::put(std::string_view key, std::string_view value, int64_t lease,
                     const PutOptions& options) {
  Impl& w = *impl_;
  if (!w.active) throw std::logic_error("mvcc: put on a write that has ended");
  w.store->check_usable();
  if (key.empty()) fail(MvccError::Code::kEmptyKey);
  if (options.ignore_value && !value.empty()) fail(MvccError::Code::kValueProvided);
  if (options.ignore_lease && lease != 0) fail(MvccError::Code::kLeaseProvided);
  std::optional<Hit> cur = w.current(key);
  if (ETCDLAB_BROKEN("version-from-store-only")) {  // the bug: the write's own puts unseen
    const KeyIndex* k = w.store->index.find(key);
    auto latest = k != nullptr ? k->latest() : std::nullopt;
    cur.reset();
    if (latest) cur = Hit{key, latest->rev, latest->created, latest->version, nullptr};
  }
  if ((options.ignore_value || options.ignore_lease) && !cur) fail(MvccError::Code::kKeyNotFound);

  PutResult result;
  result.revision = w.main;
  Event e;
  e.kv.key.assign(key);
  e.kv.mod_revision = w.main;
  e.kv.create_revision = cur ? cur->created : w.main;
  e.kv.version = cur ? cur->version + 1 : 1;
  e.kv.lease = lease;
  if (cur && (options.prev_kv || options.ignore_value || options.ignore_lease)) {
    KeyValue prev = w.store->materialize(*cur, options.prev_kv || options.ignore_value);
    if (options.ignore_value) e.kv.value = prev.value;
    if (options.ignore_lease) e.kv.lease = prev.lease;
    if (options.prev_kv) result.prev_kv = std::move(prev);
  }
  if (ETCDLAB_BROKEN("prev-kv-for-new-key") && options.prev_kv && !cur) {
    result.prev_kv = KeyValue{};  // the bug: an empty prev_kv for a key that did not exist
  }
  if (!options.ignore_value) e.kv.value.assign(value);
  w.record(std::move(e));
  return result;
}

DeleteResult Write::delete_range(const KeyRange& range, bool prev_kv) {
  Impl& w = *impl_;
  if (!w.active) throw std::logic_error("mvcc: delete_range on a write that has ended");
  w.store->check_usable();
  if (range.key.empty()) fail(MvccError::Code::kEmptyKey);
  std::vector<Hit> hits = w.view(range);
  DeleteResult result;
  result.deleted = static_cast<int64_t>(hits.size());
  if (prev_kv) {
    result.prev_kvs.reserve(hits.size());
    for (const Hit& h : hits) result.prev_kvs.push_back(w.store->materialize(h, true));
  }
  // Keep the keys before recording: a hit may point into `events`, which record() grows.
  std::vector<std::string> keys;
  keys.reserve(hits.size());
  for (const Hit& h : hits) keys.emplace_back(h.key);
  for (std::string& key : keys) {
    Event e;
    e.type = Event::Type::kDelete;
    e.kv.key = std::move(key);
    e.kv.mod_revision = w.main;
    w.record(std::move(e));
  }
  result.revision = w.events.empty() ? w.store->revision : w.main;
  return result;
}

RangeResult Write::range(const KeyRange& range, const RangeOptions& options) {
  Impl& w = *impl_;
  if (!w.active) throw std::logic_error("mvcc: range on a write that has ended");
  KvStore::Impl& s = *w.store;
  s.check_usable();
  if (range.key.empty()) fail(MvccError::Code::kEmptyKey);
  // The write's own changes make it one revision ahead of the store.
  int64_t current = w.events.empty() ? s.revision : w.main;
  int64_t at = options.revision > 0 ? options.revision : current;
  if (at > current) fail(MvccError::Code::kFutureRevision);
  if (at < s.compact_revision) fail(MvccError::Code::kCompacted);
  std::vector<Hit> hits = at == w.main ? w.view(range) : s.hits_at(range, at);
  return s.finish(std::move(hits), options, current);
}

std::vector<Event> Write::end() {
  return impl_->end(Impl::Returning::kEventsWithPrevKvs);
}

std::vector<Event> Write::end_without_prev_kvs() {
  return impl_->end(Impl::Returning::kEvents);
}

}  // namespace etcdlab::mvcc
