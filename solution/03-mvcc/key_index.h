#pragma once
// The in-memory key index: for every key, the revisions that changed it, grouped in
// generations (etcd's keyIndex and treeIndex). The values live in SQLite; the index only says
// which row (main, sub) a read at some revision must fetch.
//
//   key "foo"   generation 1 (closed)          generation 2 (open)
//               put 2.0  put 4.0  del 6.0       put 9.0  put 12.1
//               v1       v2       tombstone     v1       v2
//
//   get(at 5)  -> 4.0 (version 2, created 2)    get(at 7) -> nothing (deleted at 6)
//   get(at 3)  -> 2.0                            get(at 12) -> 12.1 (version 2, created 9)
//
// Compaction at revision C keeps, per key, what a read at C or later can reach: generations
// that ended (tombstone) at or before C go whole; in the generation that covers C, revisions
// before the last one <= C go. A key with nothing left leaves the index.

// GCC 12 warns (wrongly) about a memcpy inside small_vector once it is inlined into our code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overread"
#include <boost/container/small_vector.hpp>
#pragma GCC diagnostic pop
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "etcdlab/mvcc/types.h"

namespace etcdlab::mvcc {

// One life of a key, from the put that created it to the delete that ended it.
struct Generation {
  int64_t created = 0;  // main revision of the creating put (kept when compaction trims revs)
  int64_t version = 0;  // the version of the last put in revs
  bool closed = false;  // ended by a delete: revs.back() is the tombstone
  // invariant: non-empty and increasing
  boost::container::small_vector<Revision, 1> revs;
};

// What a read at some revision finds for a key: the put to fetch and what the index knows of it.
struct IndexHit {
  Revision rev;
  int64_t created = 0;
  int64_t version = 0;
};

class KeyIndex {
 public:
  // A put at `rev` that wrote `version` of the generation created at `created` (a new
  // generation starts when there is no open one). Returns true when it started one.
  bool put(Revision rev, int64_t created, int64_t version);
  // A delete at `rev`: closes the open generation (on a rebuild after an interrupted compaction
  // it may find none: it then keeps a closed generation of the tombstone alone).
  void tombstone(Revision rev);

  std::optional<IndexHit> get(int64_t at) const;  // the key as a read at main revision `at` sees it
  std::optional<IndexHit> latest() const;         // the key now
  bool alive() const { return !generations_.empty() && !generations_.back().closed; }

  // Whether revision `rev` of this key is still reachable once compacted at `at` (a read at
  // `at` or later can reach it). Works whether or not compact(at) has run on this key.
  bool survives(Revision rev, int64_t at) const;
  // Drops what compaction at `at` makes unreachable; true when nothing is left.
  bool compact(int64_t at);

 private:
  // invariant: generations are in revision order; only the last may be open
  boost::container::small_vector<Generation, 1> generations_;
};

class TreeIndex {
 public:
  KeyIndex* find(std::string_view key);
  const KeyIndex* find(std::string_view key) const;
  KeyIndex& get_or_create(std::string_view key);

  // Calls fn(key, KeyIndex) for every key in `range`, in key order.
  template <typename Fn>
  void visit(const KeyRange& range, Fn&& fn) const {
    if (range.single()) {
      auto it = by_key_.find(std::string_view(range.key));
      if (it != by_key_.end()) fn(it->first, *it->second);
      return;
    }
    bool to_end = range.range_end == std::string_view("\0", 1);
    for (auto it = keys_.lower_bound(std::string_view(range.key)); it != keys_.end(); ++it) {
      if (!to_end && it->first >= range.range_end) break;
      fn(std::string_view(it->first), it->second);
    }
  }

  // Compacts up to `budget` keys at `at`, starting at the first key >= *cursor (from the start
  // when cursor is nullopt), and moves the cursor past them. Returns true at the end.
  bool compact_some(int64_t at, std::optional<std::string>& cursor, int64_t budget);
  void clear() {
    by_key_.clear();
    keys_.clear();
  }
  size_t size() const { return keys_.size(); }

 private:
  // The keys in order (ranges), and a hash over the same nodes (point lookups, the most common
  // read and every write, cost a few cache misses instead of one per level of the tree).
  std::map<std::string, KeyIndex, std::less<>> keys_;
  std::unordered_map<std::string_view, KeyIndex*> by_key_;
};

}  // namespace etcdlab::mvcc
