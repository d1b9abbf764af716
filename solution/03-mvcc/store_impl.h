#pragma once
// The private state of the store and of a write, shared by the files of the reference:
//
//   store.cc        open, restore of the index, batches, durability, the one-operation writes
//   write.cc        Write: operations at one main revision, and end()
//   read.cc         range with every option, reads inside a write, events_since, hash_kv
//   compaction.cc   compact and compaction_step
//   maintenance.cc  snapshot, restore, defragment, sizes
//   schema.*        the SQL; key_index.* the in-memory index
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcdlab/broken.h"
#include "etcdlab/mvcc/store.h"
#include "etcdlab/sqlite/database.h"
#include "key_index.h"

namespace etcdlab::mvcc {

// A key as a read found it, before the range options are applied: a row of the store, or a put
// of the write doing the read.
struct Hit {
  std::string_view key;
  Revision rev;
  int64_t created = 0;
  int64_t version = 0;
  const KeyValue* pending = nullptr;
  int64_t mod() const { return pending != nullptr ? pending->mod_revision : rev.main; }
};

// The compaction still to do (compaction_step does it a bounded batch at a time).
struct CompactionWork {
  int64_t target = 0;  // 0: nothing to do
  bool index_done = false;
  std::optional<std::string> index_cursor;  // the next key of the index to compact
  Revision row_cursor{0, -1};               // the rows after this one are still to examine
};

struct KvStore::Impl {
  explicit Impl(const StoreOptions& o, sqlite::Database d) : options(o), db(std::move(d)) {}

  // ---- store.cc
  void load();  // reads the meta table and rebuilds the index from the rows
  void check_usable() const;
  void check_no_write(const char* what) const;
  // Runs fn() in the open batch's transaction, or in a transaction of its own. A failure inside
  // a batch leaves rows of a half-applied write in it: the store refuses all further work.
  template <typename Fn>
  void in_transaction(Fn&& fn) {
    if (batch && !ETCDLAB_BROKEN("transaction-per-write-in-batch")) {
      try {
        fn();
      } catch (...) {
        broken = true;
        throw;
      }
      return;
    }
    sqlite::Transaction tx(db);
    fn();
    tx.commit();
  }

  // ---- read.cc
  // The keys of `range` alive at `at`, in key order.
  std::vector<Hit> hits_at(const KeyRange& range, int64_t at) const;
  KeyValue materialize(const Hit& hit, bool with_value);
  RangeResult finish(std::vector<Hit> hits, const RangeOptions& options, int64_t current);
  std::optional<KeyValue> get(std::string_view key, int64_t at);

  StoreOptions options;
  sqlite::Database db;
  TreeIndex index;
  // invariant: compact_revision <= revision; every row with main > compact_revision is reachable
  int64_t revision = 1;
  int64_t compact_revision = 0;
  uint64_t consistent_index = 0;
  int64_t key_count = 0;  // keys alive now
  CompactionWork compaction;
  std::optional<sqlite::Transaction> batch;
  bool write_open = false;
  bool broken = false;
  std::unique_ptr<Write::Impl> spare_write;  // reused by put() and delete_range()
};

struct Write::Impl {
  // ---- write.cc
  // The latest event of this write on `key`, or nullptr.
  const Event* pending(std::string_view key) const;
  void record(Event event);
  // The key as this write sees it now (its own events over the store's latest revision).
  std::optional<Hit> current(std::string_view key) const;
  std::vector<Hit> view(const KeyRange& range) const;  // likewise for a range
  // What end() hands back: nothing (the one-operation writes, whose callers have their result
  // already), the events, or the events with each key's prev_kv (one read per event).
  enum class Returning { kNothing, kEvents, kEventsWithPrevKvs };
  std::vector<Event> end(Returning returning);
  void release();  // ends the write without applying it

  KvStore::Impl* store = nullptr;
  int64_t main = 0;
  bool active = false;
  std::vector<Event> events;  // in order: event i is sub revision i
  // invariant: latest holds, for each key this write touched, the index of its latest event in
  // `events`, sorted by key
  std::vector<uint32_t> latest;
};

[[noreturn]] inline void fail(MvccError::Code code) {
  throw MvccError(code);
}

}  // namespace etcdlab::mvcc
