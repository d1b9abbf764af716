#pragma once
// A disk that loses power at a chosen moment, for tests that check an order of writes.
//
// PowerCutFileSystem passes every call to a SimFileSystem and counts the calls that change the
// disk (create, write, append, truncate, preallocate, sync, remove, rename, sync_dir). The
// `cut_after`-th one still happens, then the power goes:
//   - that call's directory change (a create, remove or rename) reaches the disk, as if the
//     file system had flushed its journal just then: the worst case for a program that renames
//     or removes before it syncs what the name depends on;
//   - every write that was not synced is lost (CrashMode::kDropUnsynced);
//   - the call, and every later call, throws IoError("power cut"), so the code under test
//     stops there as a process would.
// A test runs the same steps with cut_after = 1, 2, 3, ... until they finish without a cut,
// and after each cut checks what a fresh open() of the disk finds. Nothing is random: the
// same code cuts at the same places every time. With cut_after = 0 the power never goes, and
// the file system only counts what is read (largest_read(), bytes_read()).
//
//   for_each_power_cut(
//       [&](SimFileSystem& disk) { ...make the state before the steps, on `disk`... },
//       [&](FileSystem& fs) { ...the steps under test, on `fs`... },
//       [&](SimFileSystem& disk, const std::string& where) { ...open `disk` and check... });

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "etcdlab/errors.h"
#include "etcdlab/fs/sim_file_system.h"

namespace etcdlab::lab1 {

class PowerCutFileSystem final : public FileSystem {
 public:
  PowerCutFileSystem(SimFileSystem& disk, uint64_t cut_after)
      : disk_(disk), cut_after_(cut_after) {}
  explicit PowerCutFileSystem(SimFileSystem& disk) : PowerCutFileSystem(disk, 0) {}

  // The most bytes one read_at() returned, and the bytes read from files whose path contains
  // `part`, since creation.
  uint64_t largest_read() const { return largest_read_; }
  uint64_t bytes_read(const std::string& part) const {
    uint64_t n = 0;
    for (const auto& [path, bytes] : read_) n += path.find(part) != std::string::npos ? bytes : 0;
    return n;
  }

  bool cut() const { return cut_; }
  // The calls that changed the disk, in order ("sync wal/0001-0001.wal", ...); the last one is
  // where the power went.
  const std::vector<std::string>& changes() const { return changes_; }
  std::string where() const {
    return changes_.empty() ? "before any change" : "right after " + changes_.back();
  }

  std::unique_ptr<File> create(const std::string& path) override {
    alive("create", path);
    auto f = disk_.create(path);
    changed("create " + path, parent_dir(path));
    return std::make_unique<CutFile>(*this, std::move(f));
  }
  std::unique_ptr<File> open(const std::string& path) override {
    alive("open", path);
    return std::make_unique<CutFile>(*this, disk_.open(path));
  }
  bool exists(const std::string& path) const override {
    alive("stat", path);
    return disk_.exists(path);
  }
  std::vector<std::string> list(const std::string& dir) const override {
    alive("list", dir);
    return disk_.list(dir);
  }
  void remove(const std::string& path) override {
    alive("unlink", path);
    disk_.remove(path);
    changed("remove " + path, parent_dir(path));
  }
  void rename(const std::string& from, const std::string& to) override {
    alive("rename", from);
    disk_.rename(from, to);
    changed("rename " + from + " -> " + to, parent_dir(from));
  }
  void create_dirs(const std::string& dir) override {
    alive("mkdir", dir);
    disk_.create_dirs(dir);
    changed("create_dirs " + dir, "");
  }
  void sync_dir(const std::string& dir) override {
    alive("fsync directory", dir);
    disk_.sync_dir(dir);
    changed("sync_dir " + dir, "");
  }

 private:
  class CutFile final : public File {
   public:
    CutFile(PowerCutFileSystem& fs, std::unique_ptr<File> f) : fs_(fs), f_(std::move(f)) {}
    const std::string& path() const override { return f_->path(); }
    uint64_t size() const override {
      fs_.alive("stat", path());
      return f_->size();
    }
    std::string read_at(uint64_t offset, uint64_t length) const override {
      fs_.alive("read", path());
      std::string bytes = f_->read_at(offset, length);
      fs_.largest_read_ = std::max<uint64_t>(fs_.largest_read_, bytes.size());
      fs_.read_[path()] += bytes.size();
      return bytes;
    }
    void write_at(uint64_t offset, std::string_view data) override {
      fs_.alive("write", path());
      f_->write_at(offset, data);
      fs_.changed("write " + path() + " at " + std::to_string(offset), "");
    }
    void append(std::string_view data) override {
      fs_.alive("write", path());
      f_->append(data);
      fs_.changed("append to " + path(), "");
    }
    void truncate(uint64_t size) override {
      fs_.alive("truncate", path());
      f_->truncate(size);
      fs_.changed("truncate " + path() + " to " + std::to_string(size), "");
    }
    void preallocate(uint64_t size) override {
      fs_.alive("fallocate", path());
      f_->preallocate(size);
      fs_.changed("preallocate " + path(), "");
    }
    void sync() override {
      fs_.alive("fdatasync", path());
      f_->sync();
      fs_.changed("sync " + path(), "");
    }

   private:
    PowerCutFileSystem& fs_;
    std::unique_ptr<File> f_;
  };

  void alive(const char* op, const std::string& path) const {
    if (cut_) throw IoError(op, path, "power cut");
  }
  // A change happened; if it is the chosen one, cut the power (its directory change first).
  void changed(std::string what, const std::string& dir) {
    changes_.push_back(std::move(what));
    if (changes_.size() != cut_after_) return;
    if (!dir.empty()) disk_.sync_dir(dir);
    disk_.crash(0, CrashMode::kDropUnsynced);
    cut_ = true;
    throw IoError("power", changes_.back(), "power cut");
  }

  SimFileSystem& disk_;
  uint64_t cut_after_;
  bool cut_ = false;
  std::vector<std::string> changes_;
  uint64_t largest_read_ = 0;
  std::map<std::string, uint64_t> read_;
};

// Runs `steps` once per change it makes to the disk, cutting the power after that change, and
// `check`s the disk each time (with a description of the cut for failure messages). Returns
// how many cuts it made. `prepare` makes the state before the steps, without cuts. An error
// other than the power cut escaping `steps` fails the test: the steps must not fail on their
// own.
inline size_t for_each_power_cut(
    const std::function<void(SimFileSystem&)>& prepare,
    const std::function<void(FileSystem&)>& steps,
    const std::function<void(SimFileSystem&, const std::string&)>& check, size_t max_cuts = 2000) {
  for (uint64_t n = 1; n <= max_cuts; ++n) {
    SimFileSystem disk;
    prepare(disk);
    PowerCutFileSystem fs(disk, n);
    try {
      steps(fs);
    } catch (const IoError& e) {
      if (!fs.cut()) {
        ADD_FAILURE() << "the steps failed without a power cut: " << e.what();
        return n;
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the steps threw " << e.what() << " (" << fs.where() << ")";
      return n;
    }
    if (!fs.cut()) return n - 1;  // the steps finished: every change has been cut after
    std::string where = "power cut " + std::to_string(n) + ", " + fs.where();
    SCOPED_TRACE(where);
    check(disk, where);
    if (::testing::Test::HasFatalFailure()) return n;
  }
  ADD_FAILURE() << "the steps made more than " << max_cuts << " changes";
  return max_cuts;
}

}  // namespace etcdlab::lab1
