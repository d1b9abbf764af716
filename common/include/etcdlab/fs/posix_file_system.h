#pragma once
// The real disk, through POSIX calls (pread/pwrite, fdatasync, posix_fallocate, rename, and an
// fsync of the directory's descriptor for sync_dir).

#include "etcdlab/fs/file_system.h"

namespace etcdlab {

class PosixFileSystem final : public FileSystem {
 public:
  std::unique_ptr<File> create(const std::string& path) override;
  std::unique_ptr<File> open(const std::string& path) override;
  bool exists(const std::string& path) const override;
  std::vector<std::string> list(const std::string& dir) const override;
  void remove(const std::string& path) override;
  void rename(const std::string& from, const std::string& to) override;
  void create_dirs(const std::string& dir) override;
  void sync_dir(const std::string& dir) override;
};

// Holds an exclusive advisory lock (flock) on `path` while alive, so a second process cannot
// open the same data directory. Throws IoError if another process holds it.
class DirectoryLock {
 public:
  explicit DirectoryLock(const std::string& path);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace etcdlab
