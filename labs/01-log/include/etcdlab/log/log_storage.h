#pragma once
// Lab 1, part A: the Raft log as Raft reads it and as the driver writes it, and its in-memory
// twin (MemoryStorage) that the tests of the higher layers use.
//
// Positions. A log holds the entries [first_index(), last_index()]. Everything up to
// snapshot().index is covered by the latest snapshot, so first_index() == snapshot().index + 1.
// An empty log has last_index() == snapshot().index. The term of snapshot().index is known
// (snapshot().term) even though that entry is gone: Raft needs it to match the entry before
// the first one it sends.
//
//          snapshot                    log
//   ... ----------------| 8 | 9 | 10 | 11 | 12 |
//        index 7, term 2   first_index = 8, last_index = 12
//
// Ranges are half-open: entries(lo, hi, ...) returns [lo, hi).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "etcdlab/types.h"

namespace etcdlab {

// The payload of a snapshot being read, chunk by chunk (the payload can be gigabytes).
class SnapshotReader {
 public:
  virtual ~SnapshotReader() = default;
  virtual const SnapshotMeta& meta() const = 0;
  virtual uint64_t size() const = 0;  // payload bytes
  // Up to `max_bytes` of payload at `offset` (fewer at the end).
  virtual std::string read(uint64_t offset, uint64_t max_bytes) const = 0;
};

// The payload of a snapshot being written. Nothing changes in the storage until commit().
//
// Threads (added in December 2026; nothing to change in an implementation that follows the
// sentence above). The server writes a big snapshot beside its node: write() and
// sync_payload() may run on another thread than the one that uses the storage, one thread
// at a time; commit() runs on the storage's thread. So write() must touch nothing but the
// writer's own file.
class SnapshotWriter {
 public:
  virtual ~SnapshotWriter() = default;  // without commit(): the snapshot is discarded
  virtual void write(std::string_view chunk) = 0;
  // Optional: makes the payload written so far durable now (fdatasync), so that commit() —
  // on the storage's thread — has little left to sync. The default does nothing.
  virtual void sync_payload() {}
  // Makes the snapshot durable and the storage's latest: entries up to its index are dropped
  // if the log holds its (index, term); otherwise the whole log is (an installed snapshot
  // replaces a log that disagrees). Throws std::invalid_argument if the storage already has a
  // snapshot at or above this index.
  virtual void commit() = 0;
};

class LogStorage {
 public:
  virtual ~LogStorage() = default;

  // ---- read by Raft
  virtual HardState hard_state() const = 0;
  virtual SnapshotMeta snapshot() const = 0;  // index 0 if there is none
  virtual uint64_t first_index() const = 0;   // snapshot().index + 1
  virtual uint64_t last_index() const = 0;
  // The term of entry `index`. snapshot().term at snapshot().index; CompactedError below it;
  // UnavailableError above last_index().
  virtual uint64_t term(uint64_t index) const = 0;
  // Entries [lo, hi): as many as fit in max_bytes (entry_size() each), but at least one when
  // lo < hi. CompactedError if lo < first_index(); UnavailableError if hi > last_index() + 1.
  virtual std::vector<Entry> entries(uint64_t lo, uint64_t hi, uint64_t max_bytes) const = 0;

  // ---- written by the driver, in the order a Ready says
  // Appends consecutive entries. The first may start anywhere in [first_index(),
  // last_index() + 1]; any existing entries from there on are replaced (a new leader
  // overwrote them). std::invalid_argument for a gap or a start below first_index().
  virtual void append(std::vector<Entry> entries) = 0;
  virtual void set_hard_state(const HardState& state) = 0;
  // Makes everything appended and set so far durable. A failure throws and is fatal.
  virtual void sync() = 0;

  // ---- snapshots
  virtual std::unique_ptr<SnapshotWriter> begin_snapshot(const SnapshotMeta& meta) = 0;
  // The latest snapshot's payload, or nullptr if there is none.
  virtual std::unique_ptr<SnapshotReader> open_snapshot() const = 0;
};

// The in-memory twin: the same contract, nothing durable (sync() does nothing), snapshot
// payloads kept in memory. For tests of the layers above.
class MemoryStorage final : public LogStorage {
 public:
  MemoryStorage();
  ~MemoryStorage() override;

  HardState hard_state() const override;
  SnapshotMeta snapshot() const override;
  uint64_t first_index() const override;
  uint64_t last_index() const override;
  uint64_t term(uint64_t index) const override;
  std::vector<Entry> entries(uint64_t lo, uint64_t hi, uint64_t max_bytes) const override;
  void append(std::vector<Entry> entries) override;
  void set_hard_state(const HardState& state) override;
  void sync() override;
  std::unique_ptr<SnapshotWriter> begin_snapshot(const SnapshotMeta& meta) override;
  std::unique_ptr<SnapshotReader> open_snapshot() const override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdlab
