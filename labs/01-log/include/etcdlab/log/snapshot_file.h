#pragma once
// Lab 1, part D: snapshot files. A snapshot is the state machine's bytes at a log index, plus
// the metadata Raft needs (index, term, membership). It can be gigabytes, so it is written and
// read in chunks, never held whole in memory.
//
// File format (integers little-endian):
//
//   <term:016x>-<index:016x>.snap          (named so that names sort by term, then index)
//   offset   size  field
//   0        16    magic "etcdlab-snapshot"
//   16       4     format version (kSnapshotFormatVersion)
//   20       4     meta length m
//   24       m     SnapshotMeta (codec.h, with its version prefix)
//   24+m     n     payload
//   24+m+n   8     payload length n
//   32+m+n   4     crc32c of bytes [16, 24+m+n): version, meta and payload
//   36+m+n   4     trailer magic "SNAP"
//
// Writing: the file is created as "<name>.tmp", the chunks appended, the trailer written, the
// file fdatasynced, renamed to <name>, and the directory fsynced. Only then does a snapshot
// exist. A crash at any earlier point leaves at most a ".tmp" file, which is ignored (and
// removed by the storage that owns the directory).
// Reading: open() checks the magic, version, meta, trailer and the checksum of the whole file
// before anything is trusted; any fault is a CorruptionError naming the file and offset. It
// reads the file in chunks (of, say, 1 MiB; never more than a few MiB at once): a snapshot can
// be gigabytes.

#include <cstdint>
#include <memory>
#include <string>

#include "etcdlab/fs/file_system.h"
#include "etcdlab/log/log_storage.h"

namespace etcdlab {

inline constexpr uint32_t kSnapshotFormatVersion = 1;
inline constexpr std::string_view kSnapshotMagic = "etcdlab-snapshot";
inline constexpr std::string_view kSnapshotTrailerMagic = "SNAP";

// "<term:016x>-<index:016x>.snap"
std::string snapshot_file_name(const SnapshotMeta& meta);

class SnapshotFileWriter final : public SnapshotWriter {
 public:
  // Creates <dir>/<name>.tmp. The directory must exist.
  SnapshotFileWriter(FileSystem& fs, const std::string& dir, const SnapshotMeta& meta);
  // Without commit(): removes the .tmp file. Never throws: after a crash the handle is stale
  // and the .tmp may be gone, so errors are swallowed.
  ~SnapshotFileWriter() override;
  void write(std::string_view chunk) override;
  // Writes the trailer, syncs, renames into place and syncs the directory.
  void commit() override;
  const std::string& path() const;  // the final path

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

class SnapshotFileReader final : public SnapshotReader {
 public:
  // Opens and verifies the whole file; CorruptionError (file, offset) if anything is wrong.
  static std::unique_ptr<SnapshotFileReader> open(FileSystem& fs, const std::string& path);
  ~SnapshotFileReader() override;
  const SnapshotMeta& meta() const override;
  uint64_t size() const override;
  std::string read(uint64_t offset, uint64_t max_bytes) const override;

  struct Impl;

 private:
  explicit SnapshotFileReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdlab
