#pragma once
// The small file-system interface every durable layer writes through (the WAL, snapshot files,
// the data directory's lock). Two implementations: PosixFileSystem (the real disk) and
// SimFileSystem (an in-memory disk that loses unsynced bytes on a simulated crash).
//
// The durability contract is POSIX's, stated plainly:
//   - File::sync() (fdatasync) makes the file's bytes and size durable. Until then, appends,
//     overwrites, truncations and preallocations may be lost on a crash, wholly or in part.
//   - Creating, renaming and removing a file change its directory; they are durable only after
//     FileSystem::sync_dir() on that directory. A new file that was synced but whose directory
//     was not may vanish in a crash.
//   - A failed sync() throws IoError and must be treated as fatal: the bytes it covered may be
//     gone, and a later sync() that succeeds does not bring them back (PostgreSQL's
//     "fsyncgate"). Never retry a failed sync and report success.
// All paths are plain strings; every error is an IoError naming the operation and the path.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace etcdlab {

class File {
 public:
  virtual ~File() = default;
  virtual const std::string& path() const = 0;
  virtual uint64_t size() const = 0;
  // Reads up to `length` bytes at `offset`; fewer (possibly none) at the end of the file.
  virtual std::string read_at(uint64_t offset, uint64_t length) const = 0;
  virtual void write_at(uint64_t offset, std::string_view data) = 0;  // extends the file if needed
  virtual void append(std::string_view data) = 0;                     // write_at(size(), data)
  virtual void truncate(uint64_t size) = 0;
  // Makes the file at least `size` bytes long, the new bytes zero, with the blocks allocated so
  // later overwrites do not change the file's size (which makes each fdatasync cheaper).
  virtual void preallocate(uint64_t size) = 0;
  virtual void sync() = 0;  // fdatasync
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;
  // Creates a new empty file; fails if it exists.
  virtual std::unique_ptr<File> create(const std::string& path) = 0;
  // Opens an existing file for reading and writing; fails if it does not exist.
  virtual std::unique_ptr<File> open(const std::string& path) = 0;
  virtual bool exists(const std::string& path) const = 0;
  // Names (not paths) of the regular files directly in `dir`, sorted bytewise.
  virtual std::vector<std::string> list(const std::string& dir) const = 0;
  virtual void remove(const std::string& path) = 0;
  // Atomically replaces `to` with `from` (both in the same directory).
  virtual void rename(const std::string& from, const std::string& to) = 0;
  // Creates the directory and its parents if missing (immediately durable).
  virtual void create_dirs(const std::string& dir) = 0;
  // Makes the creations, renames and removals in `dir` durable (fsync of the directory).
  virtual void sync_dir(const std::string& dir) = 0;
};

// `dir` + "/" + `name`, without doubling the slash.
std::string join_path(std::string_view dir, std::string_view name);
// The directory part of `path` ("." when there is none).
std::string parent_dir(std::string_view path);

}  // namespace etcdlab
