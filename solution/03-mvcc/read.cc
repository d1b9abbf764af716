// Reads: range with every option (etcd's applier: count, then the filters, the sort and the
// limit), events_since and hash_kv. The index says which rows to read; values come from
// SQLite by primary key, only for the kvs returned.
#include <algorithm>

#include "etcdlab/broken.h"
#include "etcdlab/crc32c.h"
#include "etcdlab/errors.h"
#include "schema.h"
#include "store_impl.h"

namespace etcdlab::mvcc {
namespace {

// The sort key of a hit for every target but the value (which needs the rows).
int64_t sort_number(const Hit& h, SortTarget target) {
  switch (target) {
    case SortTarget::kVersion:
      return h.version;
    case SortTarget::kCreate:
      return h.created;
    case SortTarget::kMod:
      return h.mod();
    case SortTarget::kKey:
    case SortTarget::kValue:
      break;
  }
  return 0;
}

bool filtered_out(const Hit& h, const RangeOptions& o) {
  return (o.max_mod_revision != 0 && h.mod() > o.max_mod_revision) ||
         (o.min_mod_revision != 0 && h.mod() < o.min_mod_revision) ||
         (o.max_create_revision != 0 && h.created > o.max_create_revision) ||
         (o.min_create_revision != 0 && h.created < o.min_create_revision);
}

void append_fixed64(std::string& out, int64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(static_cast<uint64_t>(v) >> (8 * i)));
}

void append_bytes(std::string& out, std::string_view b) {
  append_fixed64(out, static_cast<int64_t>(b.size()));
  out.append(b);
}

}  // namespace

std::vector<Hit> KvStore::Impl::hits_at(const KeyRange& range, int64_t at) const {
  std::vector<Hit> hits;
  index.visit(range, [&](std::string_view key, const KeyIndex& k) {
    if (auto h = k.get(at)) hits.push_back(Hit{key, h->rev, h->created, h->version, nullptr});
  });
  return hits;
}

KeyValue KvStore::Impl::materialize(const Hit& hit, bool with_value) {
  if (hit.pending != nullptr) {
    KeyValue kv = *hit.pending;
    if (!with_value) kv.value.clear();
    return kv;
  }
  KeyValue kv;
  kv.key.assign(hit.key);
  kv.mod_revision = hit.rev.main;
  if (!schema::read_row(db, hit.rev, with_value, kv)) {
    throw StorageError("mvcc: " + options.path + ": the index points at revision " +
                       std::to_string(hit.rev.main) + "." + std::to_string(hit.rev.sub) +
                       " of key '" + kv.key + "', which is not in the database");
  }
  return kv;
}

std::optional<KeyValue> KvStore::Impl::get(std::string_view key, int64_t at) {
  const KeyIndex* k = index.find(key);
  if (k == nullptr) return std::nullopt;
  auto h = k->get(at);
  if (!h) return std::nullopt;
  return materialize(Hit{key, h->rev, h->created, h->version, nullptr}, true);
}

RangeResult KvStore::Impl::finish(std::vector<Hit> hits, const RangeOptions& o, int64_t current) {
  RangeResult result;
  result.revision = current;
  result.count = static_cast<int64_t>(hits.size());  // before the limit and the filters
  if (o.count_only) return result;
  std::erase_if(hits, [&](const Hit& h) { return filtered_out(h, o); });
  if (ETCDLAB_BROKEN("count-after-filters")) result.count = static_cast<int64_t>(hits.size());
  // Without an explicit order or a filter, etcd fetches only limit + 1 keys, in key order, and
  // sorts those (apply.go); an explicit order or a filter fetches every key first.
  bool fetch_all = o.sort_order != SortOrder::kNone || o.min_mod_revision != 0 ||
                   o.max_mod_revision != 0 || o.min_create_revision != 0 ||
                   o.max_create_revision != 0;
  if (!fetch_all && o.limit > 0 && hits.size() > static_cast<size_t>(o.limit) + 1) {
    hits.resize(static_cast<size_t>(o.limit) + 1);
  }

  if (ETCDLAB_BROKEN("limit-before-sort") && o.limit > 0 &&
      hits.size() > static_cast<size_t>(o.limit)) {
    hits.resize(static_cast<size_t>(o.limit));  // the bug: the limit cuts before the sort
  }
  SortOrder order = o.sort_order;
  if (order == SortOrder::kNone && o.sort_target != SortTarget::kKey) order = SortOrder::kAscend;
  bool descend = order == SortOrder::kDescend;
  size_t limit = o.limit > 0 ? static_cast<size_t>(o.limit) : hits.size();
  if (ETCDLAB_BROKEN("negative-limit-returns-nothing") && o.limit < 0) limit = 0;
  const bool with_value = !o.keys_only;

  if (order != SortOrder::kNone && o.sort_target == SortTarget::kValue) {
    // The values decide the order: read every row, then sort. Stable: ties stay in key order.
    std::vector<KeyValue> kvs;
    kvs.reserve(hits.size());
    for (const Hit& h : hits) kvs.push_back(materialize(h, true));
    std::stable_sort(kvs.begin(), kvs.end(), [&](const KeyValue& a, const KeyValue& b) {
      return descend ? b.value < a.value : a.value < b.value;
    });
    result.more = kvs.size() > limit;
    kvs.resize(std::min(limit, kvs.size()));
    if (!with_value) {
      for (KeyValue& kv : kvs) kv.value.clear();
    }
    result.kvs = std::move(kvs);
    return result;
  }
  if (order != SortOrder::kNone) {
    if (o.sort_target == SortTarget::kKey) {
      if (descend) std::reverse(hits.begin(), hits.end());  // hits come in key order
    } else {
      std::stable_sort(hits.begin(), hits.end(), [&](const Hit& a, const Hit& b) {
        int64_t x = sort_number(a, o.sort_target);
        int64_t y = sort_number(b, o.sort_target);
        return descend ? y < x : x < y;
      });
    }
  }
  result.more = hits.size() > limit;
  hits.resize(std::min(limit, hits.size()));
  result.kvs.reserve(hits.size());
  for (const Hit& h : hits) result.kvs.push_back(materialize(h, with_value));
  if (ETCDLAB_BROKEN("keys-only-drops-lease") && o.keys_only) {
    for (KeyValue& kv : result.kvs) kv.lease = 0;  // the bug: the lease goes with the value
  }
  if (ETCDLAB_BROKEN("keys-only-drops-kvs") && o.keys_only) result.kvs.clear();  // the bug
  return result;
}

RangeResult KvStore::range(const KeyRange& range, const RangeOptions& options) const {
  Impl& s = *impl_;
  s.check_usable();
  if (range.key.empty()) fail(MvccError::Code::kEmptyKey);
  if (ETCDLAB_BROKEN("range-end-below-key-error") && !range.range_end.empty() &&
      range.range_end != std::string(1, '\0') && range.range_end <= range.key) {
    throw std::invalid_argument("range_end <= key");  // the bug: an empty range is no error
  }
  int64_t at = options.revision > 0 ? options.revision : s.revision;
  if (at > s.revision) fail(MvccError::Code::kFutureRevision);
  if (at < s.compact_revision) fail(MvccError::Code::kCompacted);
  return s.finish(s.hits_at(range, at), options, s.revision);
}

std::vector<Event> KvStore::events_since(int64_t from, const KeyRange& range, bool prev_kv) const {
  Impl& s = *impl_;
  s.check_usable();
  from = std::max<int64_t>(from, 1);
  if (from < s.compact_revision) fail(MvccError::Code::kCompacted);
  std::vector<Event> out;
  auto q = s.db.query(
      "SELECT main, sub, key, create_revision, version, lease, value FROM kv "
      "WHERE main >= ?1 ORDER BY main, sub");
  q.bind_int(1, from);
  while (q.step()) {
    Revision rev{q.column_int(0), q.column_int(1)};
    std::string_view key = q.column_blob(2);
    if (!range.contains(key)) continue;
    if (rev.main <= s.compact_revision) {
      // At the compact revision only what compaction keeps counts, whether or not its rows
      // are gone yet: the answer must not depend on how far compaction_step has got.
      const KeyIndex* k = s.index.find(key);
      if (k == nullptr || !k->survives(rev, s.compact_revision)) continue;
    }
    Event e;
    e.kv.key.assign(key);
    e.kv.mod_revision = rev.main;
    if (q.column_int(4) == 0) {
      e.type = Event::Type::kDelete;
    } else {
      e.kv.create_revision = q.column_int(3);
      e.kv.version = q.column_int(4);
      e.kv.lease = q.column_int(5);
      e.kv.value.assign(q.column_blob(6));
    }
    out.push_back(std::move(e));
  }
  if (prev_kv) {
    // etcd's watch reads the key at mod_revision - 1; below the compact revision there is none.
    for (Event& e : out) {
      if (e.kv.mod_revision - 1 >= s.compact_revision) {
        e.prev_kv = s.get(e.kv.key, e.kv.mod_revision - 1);
      }
    }
  }
  return out;
}

uint32_t KvStore::hash_kv(int64_t revision) const {
  Impl& s = *impl_;
  s.check_usable();
  int64_t at = revision > 0 ? revision : s.revision;
  if (at > s.revision) fail(MvccError::Code::kFutureRevision);
  if (at < s.compact_revision) fail(MvccError::Code::kCompacted);
  uint32_t crc = 0;
  std::string buf;
  for (const Hit& h : s.hits_at(KeyRange{std::string(1, '\0'), std::string(1, '\0')}, at)) {
    KeyValue kv = s.materialize(h, true);
    buf.clear();
    append_bytes(buf, kv.key);
    append_fixed64(buf, kv.create_revision);
    append_fixed64(buf, kv.mod_revision);
    append_fixed64(buf, kv.version);
    append_fixed64(buf, kv.lease);
    append_bytes(buf, kv.value);
    crc = crc32c(buf, crc);
  }
  return crc;
}

}  // namespace etcdlab::mvcc
