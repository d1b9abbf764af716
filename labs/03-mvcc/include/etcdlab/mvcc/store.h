#pragma once
// Lab 3: the MVCC key-value store. Every version of every key is kept (until compacted), so a
// reader can see the store as it was at any revision, a watcher can replay what happened since
// a revision, and a transaction can compare revisions (labs 4 and 5).
//
//   memory  a key index: for each key, its generations (create .. delete), each the list of
//           revisions that changed it. Rebuilt from the database on open.
//   SQLite  one row per revision (main, sub): the key's version as written, or a tombstone;
//           a meta table: the consistent index, the compact revision, the schema version.
//
// Threads. One thread (the node's) calls it. Reads see every finished write. Its database file
// may be read at the same time by other connections on other threads (the node copies it for
// snapshots that way, beside the apply loop): the provided SQLite wrapper opens files in WAL
// mode with normal locking for that; nothing in this API changes. A second KvStore on the
// same file is refused (the wrapper's one-writer lock), as before.
//
// Durability. Writes are applied in batches: begin_batch() ... commit_batch(index) puts every
// write of the batch and the Raft index it came from (the consistent index) in ONE SQLite
// transaction, so after a crash the store is at a batch boundary and knows which log entries it
// already holds; the node re-applies the entries after consistent_index() from the Raft log.
// (Writes outside a batch commit one transaction each.) The Raft log is the source of truth, so
// SQLite may run with synchronous=NORMAL; make_durable() is called before the log is released.
// If SQLite fails a write or commit_batch() inside a batch (StorageError), the index holds
// writes the database lost: every later read and write throws StorageError until the store is
// reopened. (Stated in December 2026.)
//
// Calls out of turn are the caller's bug: they throw std::logic_error and change nothing.
// They are: put, delete_range, range and end (either form) on a Write that has ended; write(), put,
// delete_range, the batch calls, compact, compaction_step, make_durable, defragment, snapshot
// and restore while a Write is open; begin_batch inside a batch, commit_batch outside one;
// make_durable, defragment, snapshot and restore inside a batch. (Stated in December 2026.)
//
// In the simulator the store is ":memory:". SQLite does its own file I/O, which the simulated
// disk cannot crash, so a simulated crash destroys the store instead, and the node rebuilds it
// from the latest Raft snapshot plus the log: deterministic and crash-consistent by
// construction (the same path as re-applying the entries after consistent_index()).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "etcdlab/mvcc/errors.h"
#include "etcdlab/mvcc/types.h"

namespace etcdlab::mvcc {

struct StoreOptions {
  std::string path = ":memory:";  // the SQLite database file (":memory:": in memory only)
  int64_t compaction_batch = 1000;  // revisions removed per compaction step (> 0, or open()
                                    // throws std::invalid_argument)
  int64_t cache_kib = 64 << 10;     // SQLite page cache
};

class KvStore;

// One write: its operations share one main revision, with increasing sub revisions, and it
// sees its own earlier operations. Nothing is visible to others until end(). A write that
// changes nothing (no put, no delete that deletes) does not move the revision.
class Write {
 public:
  ~Write();  // without end(): the write is discarded
  Write(Write&&) noexcept;
  Write& operator=(Write&&) noexcept;

  // The main revision this write's operations get (the store's revision + 1).
  int64_t revision() const;
  RangeResult range(const KeyRange& range, const RangeOptions& options);
  PutResult put(std::string_view key, std::string_view value, int64_t lease,
                const PutOptions& options = {});
  DeleteResult delete_range(const KeyRange& range, bool prev_kv = false);
  // Makes the write the store's latest revision and returns what it did, in order.
  std::vector<Event> end();
  // end(), except that no event carries a prev_kv: for a caller that needs the events but not
  // the keys as they were (the node, while no one watches), and so saves one read per event.
  // (Added in December 2026.)
  std::vector<Event> end_without_prev_kvs();

  struct Impl;

 private:
  friend class KvStore;
  explicit Write(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class KvStore {
 public:
  // Opens (creating if needed) the store at options.path; checks the schema; rebuilds the key
  // index. Throws StorageError (etcdlab/errors.h) if the file is not an etcdlab store.
  static std::unique_ptr<KvStore> open(const StoreOptions& options = {});
  ~KvStore();

  int64_t revision() const;          // the current revision (1 when empty)
  int64_t compact_revision() const;  // reads below it fail (0: never compacted)
  uint64_t consistent_index() const; // the last Raft index whose writes are in the store

  // ---- reads and writes
  RangeResult range(const KeyRange& range, const RangeOptions& options = {}) const;
  Write write();
  PutResult put(std::string_view key, std::string_view value, int64_t lease = 0,
                const PutOptions& options = {});                // a one-operation write
  DeleteResult delete_range(const KeyRange& range, bool prev_kv = false);  // likewise
  // The events of every write with main revision in [from, revision()] touching `range`, in
  // revision order, each with its prev_kv if `prev_kv` (lab 4's watch replays these).
  std::vector<Event> events_since(int64_t from, const KeyRange& range, bool prev_kv) const;

  // ---- batches and durability
  void begin_batch();
  // Throws std::invalid_argument if consistent_index < consistent_index() (equal is fine).
  void commit_batch(uint64_t consistent_index);
  void make_durable();  // everything committed so far survives a power loss

  // ---- compaction
  // Forgets history below `revision`: reads at revisions < revision fail from now on (the
  // compact revision itself stays readable). Superseded versions are removed by
  // compaction_step(), a bounded batch at a time, so the apply loop can interleave them with
  // other work. Throws kCompacted if revision <= compact_revision(), kFutureRevision if
  // revision > revision().
  void compact(int64_t revision);
  // Removes up to options.compaction_batch superseded revisions; returns true when no
  // compaction work is left.
  bool compaction_step();

  // ---- for comparing members, snapshots and operations
  // A hash of every key's version visible at `revision` (<= 0: now), for checking that members
  // agree (etcd's HashKV).
  uint32_t hash_kv(int64_t revision) const;
  int64_t key_count() const;  // keys that exist now
  uint64_t db_size() const;   // bytes the database file takes
  void defragment();          // gives unused database pages back to the file system
  // Writes a consistent copy of the whole store (a SQLite database) to `out`, chunk by chunk.
  void snapshot(const std::function<void(std::string_view chunk)>& out) const;
  // Replaces the store's contents with a snapshot; `in` returns the next chunk, "" at the end.
  void restore(const std::function<std::string()>& in);

  struct Impl;

 private:
  explicit KvStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdlab::mvcc
