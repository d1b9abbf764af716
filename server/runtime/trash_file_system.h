#pragma once
// A file system that removes big files beside the node thread.
//
// ext4 frees a file's blocks inside unlink(). The log releases a 64 MiB WAL segment on the
// node thread when a snapshot passes it, and every member releases at the same index: measured
// (bench/compare-etcd --sustained, December 2026), the snapshot commit that released one took
// 105-112 ms on each of the three members at once, against 10-36 ms for the others, and the
// cluster answered nothing meanwhile. etcd purges its WAL files from a goroutine of its own.
//
// Here remove() of a file of at least `min_bytes` renames it into a trash directory (one
// metadata change in the same directories, which the caller's sync_dir() makes durable as it
// would the unlink) and a thread of this class unlinks it there. Smaller files, and a file
// that cannot be renamed there (another file system), are removed at once. What a crash
// leaves in the trash is removed by empty_trash() at the next start.
#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <string>

#include "etcdlab/fs/file_system.h"

namespace etcdlab::runtime {

class TrashFileSystem final : public FileSystem {
 public:
  explicit TrashFileSystem(FileSystem& inner, uint64_t min_bytes = 1 << 20)
      : inner_(inner), min_bytes_(min_bytes) {}
  ~TrashFileSystem() override;  // waits for the unlinks under way

  // Until this is called every remove() is immediate. Creates `dir` and empties it.
  void use_trash(const std::string& dir);

  std::unique_ptr<File> create(const std::string& path) override { return inner_.create(path); }
  std::unique_ptr<File> open(const std::string& path) override { return inner_.open(path); }
  bool exists(const std::string& path) const override { return inner_.exists(path); }
  std::vector<std::string> list(const std::string& dir) const override { return inner_.list(dir); }
  void remove(const std::string& path) override;
  void rename(const std::string& from, const std::string& to) override {
    inner_.rename(from, to);
  }
  void create_dirs(const std::string& dir) override { inner_.create_dirs(dir); }
  void sync_dir(const std::string& dir) override { inner_.sync_dir(dir); }

 private:
  FileSystem& inner_;
  uint64_t min_bytes_;
  std::string trash_;
  std::atomic<uint64_t> serial_{0};  // (remove() may run on the snapshot thread too)
  std::unique_ptr<boost::asio::thread_pool> unlinker_;
};

}  // namespace etcdlab::runtime
