#pragma once
// Lab 1, part E: the durable Raft log storage, a LogStorage built on the WAL and snapshot files.
//
//   <dir>/wal/    the WAL (wal.h)
//   <dir>/snap/   snapshot files (snapshot_file.h)
//
// Memory holds the latest snapshot's metadata, the hard state and the entries after the
// snapshot; reads never touch the disk. append() and set_hard_state() write WAL records;
// sync() makes them durable.
//
// A snapshot commits in this order, so a crash anywhere leaves a state open() understands:
//   1. the snapshot file is written and made durable (snapshot_file.h);
//   2. a kSnapshot marker (index, term) is appended to the WAL and synced;
//   3. memory drops the entries the snapshot covers (or the whole log, see log_storage.h);
//   4. WAL segments wholly below the snapshot are released, and all but the newest
//      `keep_snapshots` snapshot files removed.
// open() replays the WAL and loads the snapshot file that matches the WAL's newest marker; it
// removes ".tmp" files and snapshot files newer than that marker (step 1 done, step 2 not).
// Only files named <16 hex>-<16 hex>.snap are snapshots; other files in <dir>/snap are left
// alone. "Newer" compares the index in the file name with the marker's index (names are
// <term>-<index>.snap; terms and indexes grow together). Files older than the marker are left
// alone at open(): the next commit trims them to keep_snapshots. open() reads the marker's file
// once, to verify it (SnapshotFileReader::open); the payload is read when open_snapshot() asks,
// never held in memory.
// A marker without its file (or with a damaged one) is a CorruptionError: the entries it
// covers are gone from the WAL, so nothing else can stand in for it.

#include <memory>
#include <string>

#include "etcdlab/fs/file_system.h"
#include "etcdlab/log/log_storage.h"
#include "etcdlab/log/wal.h"

namespace etcdlab {

struct WalStorageOptions {
  WalOptions wal;
  size_t keep_snapshots = 2;  // snapshot files kept (the newest ones); at least 1
};

class WalStorage final : public LogStorage {
 public:
  // Opens the storage in `dir`, creating it if needed; replays and recovers (see above).
  static std::unique_ptr<WalStorage> open(FileSystem& fs, const std::string& dir,
                                          const WalStorageOptions& options = {});
  ~WalStorage() override;

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

  // Bytes cut from a torn WAL tail when this storage was opened (0 if none).
  uint64_t repaired_bytes() const;

  struct Impl;

 private:
  explicit WalStorage(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdlab
