#pragma once
// A slow disk on demand, for tests (--enable-failpoints, POST /etcdlab/failpoints/disk): a
// FileSystem that passes every call to the real one, except that each sync (the WAL's
// fdatasync, a snapshot file's, a directory's) first waits `sync_delay`. The wait happens on
// the thread that syncs — the disk thread for the WAL's syncs of each Ready, the node thread for
// the few a segment rotation or a snapshot commit makes — as a slow device would make it.
// SQLite's own writes do not go through FileSystem and are not slowed (in WAL mode with
// synchronous=NORMAL it syncs only at checkpoints; the Raft WAL is what each write waits for).
// Full disks are not simulated here: tests put a member on a small tmpfs
// (python/etcdlab/disk_faults.py), which fails as a real disk does.

#include <atomic>
#include <chrono>

#include "etcdlab/fs/file_system.h"

namespace etcdlab::runtime {

class FailpointFileSystem final : public FileSystem {
 public:
  explicit FailpointFileSystem(FileSystem& real) : real_(real) {}

  // Every sync from now on waits `delay` first (0: none). Any thread may call it.
  void set_sync_delay(std::chrono::milliseconds delay) { delay_ms_ = delay.count(); }
  std::chrono::milliseconds sync_delay() const { return std::chrono::milliseconds(delay_ms_); }
  void wait_before_sync() const;

  std::unique_ptr<File> create(const std::string& path) override;
  std::unique_ptr<File> open(const std::string& path) override;
  bool exists(const std::string& path) const override { return real_.exists(path); }
  std::vector<std::string> list(const std::string& dir) const override { return real_.list(dir); }
  void remove(const std::string& path) override { real_.remove(path); }
  void rename(const std::string& from, const std::string& to) override { real_.rename(from, to); }
  void create_dirs(const std::string& dir) override { real_.create_dirs(dir); }
  void sync_dir(const std::string& dir) override;

 private:
  FileSystem& real_;
  std::atomic<int64_t> delay_ms_{0};
};

}  // namespace etcdlab::runtime
