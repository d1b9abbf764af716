#pragma once
// A simulated disk for tests and the simulator: all in memory, deterministic, and able to
// crash the way a real disk does.
//
// Each file has durable bytes and a list of pending writes (appends, overwrites, truncations,
// preallocations) made since its last sync(). Reads see every write. Creations, renames and
// removals are pending in their directory until sync_dir(). crash() ends the world: every open
// File handle becomes stale (its calls throw IoError), and each file's pending writes are
//   kDropUnsynced  all dropped;
//   kRandomPrefix  a random prefix of them kept, in order (the page cache was flushed partway);
//   kTornWrite     a random prefix kept, and the last kept write torn: only a random subset of
//                  its 512-byte sectors reaches the disk (sectors are written atomically; the
//                  others keep their old bytes, or read as zeros past the old end);
//   kAny           one of the three, chosen per file.
// Pending directory changes are dropped or kept as a random prefix in the same way.
// A sync can be made to fail (fail_syncs); the failed sync throws IoError and its pending writes
// are never made durable, even by a later sync that succeeds, as on Linux.
// The disk can be given a capacity (set_capacity): a write, preallocation or truncation that
// would make the files' sizes add up to more throws IoError "No space left on device" (ENOSPC).
// As a real disk: a write keeps the bytes that fit (a short write, then the error) and an
// overwrite inside a file's size, preallocated or not, always fits; a preallocation is all or
// nothing (posix_fallocate); removing or truncating a file gives its bytes back.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "etcdlab/fs/file_system.h"
#include "etcdlab/random.h"

namespace etcdlab {

enum class CrashMode { kDropUnsynced, kRandomPrefix, kTornWrite, kAny };
std::string to_string(CrashMode mode);

class SimFileSystem final : public FileSystem {
 public:
  SimFileSystem();
  ~SimFileSystem() override;

  std::unique_ptr<File> create(const std::string& path) override;
  std::unique_ptr<File> open(const std::string& path) override;
  bool exists(const std::string& path) const override;
  std::vector<std::string> list(const std::string& dir) const override;
  void remove(const std::string& path) override;
  void rename(const std::string& from, const std::string& to) override;
  void create_dirs(const std::string& dir) override;
  void sync_dir(const std::string& dir) override;

  // Loses unsynced state as `mode` says, choosing with `seed`; invalidates every open handle.
  // Throws std::invalid_argument for a value that is not a CrashMode.
  void crash(uint64_t seed, CrashMode mode);
  // The next `count` syncs of files whose path contains `path_part` fail (count < 0: all).
  void fail_syncs(std::string path_part, int count = 1);
  // The files' sizes may add up to `bytes` at most (std::nullopt: no limit, the default). A
  // capacity below what is used now fails every growth until enough is removed.
  void set_capacity(std::optional<uint64_t> bytes) { capacity_ = bytes; }
  // The sum of the sizes of the files as readers see them now (what the capacity limits).
  uint64_t used_bytes() const;
  // Test helpers: the whole current content of a file, and a direct overwrite that bypasses the
  // crash model (a bit flip on the platter).
  std::string contents(const std::string& path) const;
  void corrupt(const std::string& path, uint64_t offset, std::string_view bytes);
  // Bytes written, syncs done and failed, since creation (for budgets and benchmarks).
  uint64_t bytes_written() const { return bytes_written_; }
  uint64_t syncs() const { return syncs_; }

  struct Inode;  // the implementation's; public only so File handles can refer to it

 private:
  friend class SimFile;
  struct DirOp;
  std::shared_ptr<Inode> lookup(const std::string& path, const char* op) const;
  void check_dir(const std::string& dir, const char* op, const std::string& path) const;
  bool sync_should_fail(const std::string& path);
  // How many of `wanted` more bytes fit (all of them without a capacity).
  uint64_t room_for(uint64_t wanted) const;
  static void apply_dir_op(std::map<std::string, std::shared_ptr<Inode>>& names, const DirOp& op);

  std::map<std::string, std::shared_ptr<Inode>> files_;          // what a reader sees now
  std::map<std::string, std::shared_ptr<Inode>> durable_files_;  // what survives a crash
  std::map<std::string, std::vector<std::shared_ptr<DirOp>>> pending_dir_ops_;
  std::set<std::string> dirs_;
  uint64_t generation_ = 0;  // bumped by crash(); handles of older generations are stale
  std::string fail_part_;
  int fail_count_ = 0;
  uint64_t bytes_written_ = 0;
  std::optional<uint64_t> capacity_;
  uint64_t syncs_ = 0;
};

}  // namespace etcdlab
