// TrashFileSystem (server/runtime/trash_file_system.h): a big file leaves its directory at
// once and is unlinked beside the caller; a small one is removed at once; the trash starts
// empty.
#include "../runtime/trash_file_system.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <thread>

#include "etcdlab/errors.h"
#include "etcdlab/fs/posix_file_system.h"
#include "temp_dir.h"

namespace etcdlab::runtime {
namespace {

using etcdlab::testing::TempDir;

void write_file(FileSystem& fs, const std::string& path, size_t bytes) {
  fs.create(path)->append(std::string(bytes, 'x'));
}

bool listed(const FileSystem& fs, const std::string& dir, const std::string& name) {
  auto names = fs.list(dir);
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The disk, noting which thread removed what.
class NotingDisk final : public FileSystem {
 public:
  std::unique_ptr<File> create(const std::string& path) override { return disk_.create(path); }
  std::unique_ptr<File> open(const std::string& path) override { return disk_.open(path); }
  bool exists(const std::string& path) const override { return disk_.exists(path); }
  std::vector<std::string> list(const std::string& dir) const override { return disk_.list(dir); }
  void remove(const std::string& path) override {
    std::lock_guard lock(mutex_);
    removed_by[path] = std::this_thread::get_id();
    disk_.remove(path);
  }
  void rename(const std::string& from, const std::string& to) override {
    disk_.rename(from, to);
  }
  void create_dirs(const std::string& dir) override { disk_.create_dirs(dir); }
  void sync_dir(const std::string& dir) override { disk_.sync_dir(dir); }
  std::map<std::string, std::thread::id> removed_by;

 private:
  PosixFileSystem disk_;
  std::mutex mutex_;
};

TEST(TrashFileSystem, ABigFileLeavesItsDirectoryAtOnceAndIsUnlinkedBeside) {
  TempDir dir;
  NotingDisk disk;
  {
    TrashFileSystem fs(disk, /*min_bytes=*/1000);
    fs.create_dirs(dir / "wal");
    fs.use_trash(dir / "trash");
    write_file(fs, dir / "wal/old.wal", 4096);
    fs.remove(dir / "wal/old.wal");
    EXPECT_FALSE(fs.exists(dir / "wal/old.wal"));
    EXPECT_FALSE(listed(fs, dir / "wal", "old.wal")) << "gone from its directory at once";
  }  // (the destructor waits for the unlinks under way)
  EXPECT_TRUE(disk.list(dir / "trash").empty()) << "unlinked, not kept";
  ASSERT_EQ(disk.removed_by.size(), 1u);
  EXPECT_EQ(disk.removed_by.count(dir / "wal/old.wal"), 0u) << "moved, not unlinked, in place";
  EXPECT_NE(disk.removed_by.begin()->second, std::this_thread::get_id())
      << "unlinked on the trash's thread, not the caller's";
}

TEST(TrashFileSystem, ASmallFileIsRemovedAtOnceNotMoved) {
  TempDir dir;
  PosixFileSystem disk;
  TrashFileSystem fs(disk, /*min_bytes=*/1000);
  fs.use_trash(dir / "trash");
  write_file(fs, dir / "small", 10);
  fs.remove(dir / "small");
  EXPECT_FALSE(fs.exists(dir / "small"));
  EXPECT_TRUE(disk.list(dir / "trash").empty());
}

TEST(TrashFileSystem, RemovesAtOnceUntilItHasATrash) {
  TempDir dir;
  PosixFileSystem disk;
  TrashFileSystem fs(disk, /*min_bytes=*/1);
  write_file(fs, dir / "big", 4096);
  fs.remove(dir / "big");
  EXPECT_FALSE(fs.exists(dir / "big"));
}

TEST(TrashFileSystem, TheTrashACrashLeftIsEmptiedWhenUsedAgain) {
  TempDir dir;
  PosixFileSystem disk;
  disk.create_dirs(dir / "trash");
  write_file(disk, dir / "trash/7-left.wal", 4096);
  TrashFileSystem fs(disk);
  fs.use_trash(dir / "trash");
  EXPECT_TRUE(disk.list(dir / "trash").empty());
}

TEST(TrashFileSystem, RemovingAFileThatIsNotThereFailsAsTheDiskWould) {
  TempDir dir;
  PosixFileSystem disk;
  TrashFileSystem fs(disk);
  fs.use_trash(dir / "trash");
  EXPECT_THROW(fs.remove(dir / "missing"), IoError);
}

}  // namespace
}  // namespace etcdlab::runtime
