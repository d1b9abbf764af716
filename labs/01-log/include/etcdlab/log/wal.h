#pragma once
// Lab 1, part C: the write-ahead log. Raft's durable state (entries, hard state, snapshot
// markers) is appended here and synced before Raft may act on it; on restart it is replayed.
//
// On-disk layout. A WAL is a directory of segment files:
//
//   0000000000000001-0000000000000001.wal     <sequence:016x>-<first index:016x>.wal
//   0000000000000002-00000000000003e9.wal
//
// Names sort in log order. Sequence numbers have no gaps. Files without the ".wal" suffix
// are not segments and are left alone (but "*.wal.tmp" files are removed, see open()). A name
// with the suffix that is not <16 lowercase hex digits>-<16 lowercase hex digits>.wal is
// corruption. Each segment is a series of records
// (record.h), and starts with
//   1. a kSegmentHeader record: the magic "etcdlab-wal", the format version (kWalFormatVersion),
//      the sequence number and the first index: one past the last entry when it was created;
//   2. a kHardState record repeating the latest hard state, so that the oldest remaining
//      segment is enough to replay from after older segments are released.
// New segments are preallocated (zero-filled to segment_bytes) so that each fdatasync of an
// overwrite only has to write data, not extend the file. A segment is created under a ".tmp"
// name, preallocated, given its header records, synced, renamed into place, and the directory
// synced. Before the switch, the previous segment is truncated to its last record and synced,
// so only the last segment can have a zero tail or a torn record.
//
// Record payloads: kEntry and kHardState hold the codec.h encodings; kSnapshot holds the index,
// the term and a flag saying whether the snapshot replaced the log (the writer knows the terms
// of its entries; replay, which may start after released segments, cannot always tell).
//
// Replay. The base starts one below the first segment's first index (released segments held
// nothing above it that is still live). Records are applied in order:
//   kEntry      index i must be at most last + 1 (a gap is corruption); every entry from i on
//               is replaced (a new leader overwrote uncommitted entries); i is kept only if it
//               is above the base.
//   kHardState  the latest one wins.
//   kSnapshot   (index, term, replaced): if the snapshot replaced the log, every entry goes and
//               the base becomes max(base, index); otherwise the entries up to index go, the
//               rest stay, and the base becomes max(base, index).
// A segment whose first index is above last + 1 leaves a hole: corruption.
// A segment's first index is one past the last entry the log holds when the segment is made:
// after an overwrite, one past the overwriting entries; after a snapshot marker that replaced
// the log (and no entry since), the marker's index + 1. It may be below an entry index seen
// later in the segment (an overwrite) but never above last + 1.
// Recovery: a torn tail (record.h) in the last segment is cut off (the file truncated at the
// last whole record, re-preallocated, synced) and logged; bytes after a zero header in the last
// segment are cut the same way. Any other damage -- a failed checksum with every sector written,
// an unknown record type, a bad magic or version, a missing sequence number, an index gap, a
// torn or zero tail in an older segment -- throws CorruptionError naming the file and offset.
// A record that was synced is never dropped silently. The offset is where the damaged record
// starts; for a missing sequence number, a hole between segments, a bad name, or a header that
// does not match its file name, it is 0 in the segment where the problem shows (the one after
// the missing sequence number, the one that starts too high).
//
// Failure. A failed fdatasync throws IoError and poisons the WAL: every later call throws too.
// The process must stop and recover from what is on disk (see file_system.h).

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "etcdlab/fs/file_system.h"
#include "etcdlab/types.h"

namespace etcdlab {

inline constexpr uint64_t kWalFormatVersion = 1;
inline constexpr std::string_view kWalMagic = "etcdlab-wal";

struct WalOptions {
  uint64_t segment_bytes = 64ULL << 20;  // rotate when the next write would pass this size
  bool preallocate = true;               // zero-fill new segments to segment_bytes
};

// A snapshot marker: a snapshot of the state machine exists at (index, term).
struct SnapshotMark {
  uint64_t index = 0;
  uint64_t term = 0;
  friend bool operator==(const SnapshotMark&, const SnapshotMark&) = default;
};

// Everything replay recovered.
struct WalContents {
  HardState hard_state;
  std::vector<SnapshotMark> snapshots;  // every marker still in the WAL, oldest first
  std::vector<Entry> entries;           // the log after the base: consecutive indexes
  uint64_t base_index = 0;              // entries start at base_index + 1
  uint64_t repaired_bytes = 0;          // bytes cut from a torn tail (0 if none)
};

class Wal {
 public:
  // Opens the WAL in `dir` (creating the directory and a first segment if there is none),
  // replays it, repairs a torn tail of the last segment, and gets ready to append after the
  // last whole record. Throws CorruptionError for damage it must not repair.
  static std::unique_ptr<Wal> open(FileSystem& fs, const std::string& dir,
                                   const WalOptions& options = {});
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // What replay found when the WAL was opened.
  const WalContents& replayed() const;

  // Appends records (written to the file at once, durable only after sync()).
  void append_entries(std::span<const Entry> entries);
  void append_hard_state(const HardState& state);
  void append_snapshot(const SnapshotMark& mark);

  // fdatasync of the current segment. A failure throws and poisons the WAL.
  void sync();

  // Removes segments that hold only entries below `index` (never the last segment), oldest
  // first, then syncs the directory. Call only after a snapshot marker at or above index - 1
  // is synced. Like every other call, it throws IoError once a sync has failed.
  void release_before(uint64_t index);

  // The names of the segment files, oldest first.
  std::vector<std::string> segments() const;

  struct Impl;  // the implementation's own state (defined in the implementation's wal.cc)

 private:
  explicit Wal(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The segment file name for a sequence number and first index.
std::string wal_segment_name(uint64_t sequence, uint64_t first_index);

}  // namespace etcdlab
