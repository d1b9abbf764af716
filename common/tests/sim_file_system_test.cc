#include "etcdlab/fs/sim_file_system.h"

#include <gtest/gtest.h>

#include "etcdlab/errors.h"
#include "etcdlab/testing/seeds.h"

namespace etcdlab {

class SimFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override { fs.create_dirs("d"); }
  SimFileSystem fs;
};

TEST_F(SimFileSystemTest, ReadsSeeUnsyncedWrites) {
  auto f = fs.create("d/a");
  f->append("hello");
  f->write_at(1, "E");
  EXPECT_EQ(f->read_at(0, 100), "hEllo");
  EXPECT_EQ(f->size(), 5u);
}

TEST_F(SimFileSystemTest, CrashDropsUnsyncedBytes) {
  auto f = fs.create("d/a");
  fs.sync_dir("d");
  f->append("durable");
  f->sync();
  f->append("-lost");
  fs.crash(1, CrashMode::kDropUnsynced);
  EXPECT_EQ(fs.contents("d/a"), "durable");
  EXPECT_THROW(f->append("x"), IoError) << "handles die with the crash";
}

TEST_F(SimFileSystemTest, CreationIsDurableOnlyAfterDirectorySync) {
  auto f = fs.create("d/a");
  f->append("x");
  f->sync();
  fs.crash(1, CrashMode::kDropUnsynced);
  EXPECT_FALSE(fs.exists("d/a"));
}

TEST_F(SimFileSystemTest, RenameIsAtomicAndNeedsDirectorySync) {
  auto f = fs.create("d/tmp");
  f->append("new");
  f->sync();
  fs.sync_dir("d");
  fs.rename("d/tmp", "d/final");
  fs.crash(1, CrashMode::kDropUnsynced);
  EXPECT_TRUE(fs.exists("d/tmp"));
  EXPECT_FALSE(fs.exists("d/final"));
  fs.rename("d/tmp", "d/final");
  fs.sync_dir("d");
  fs.crash(2, CrashMode::kDropUnsynced);
  EXPECT_EQ(fs.contents("d/final"), "new");
}

TEST_F(SimFileSystemTest, RandomPrefixKeepsWritesInOrder) {
  testing::for_each_seed(50, [&](uint64_t seed) {
    SimFileSystem disk;
    disk.create_dirs("d");
    auto f = disk.create("d/a");
    disk.sync_dir("d");
    for (char c = 'a'; c <= 'j'; ++c) f->append(std::string(3, c));
    disk.crash(seed, CrashMode::kRandomPrefix);
    std::string got = disk.contents("d/a");
    EXPECT_EQ(got, std::string("aaabbbcccdddeeefffggghhhiiijjj").substr(0, got.size()));
    EXPECT_EQ(got.size() % 3, 0u);
  });
}

TEST_F(SimFileSystemTest, TornWriteKeepsWholeSectorsOnly) {
  testing::for_each_seed(50, [&](uint64_t seed) {
    SimFileSystem disk;
    disk.create_dirs("d");
    auto f = disk.create("d/a");
    disk.sync_dir("d");
    f->preallocate(4096);
    f->sync();
    f->write_at(100, std::string(2000, 'x'));
    disk.crash(seed, CrashMode::kTornWrite);
    std::string got = disk.contents("d/a");
    ASSERT_EQ(got.size(), 4096u);
    // Each sector-aligned piece of the write is all 'x' or all zero.
    for (uint64_t s = 0; s < 4096; s += 512) {
      uint64_t lo = std::max<uint64_t>(s, 100), hi = std::min<uint64_t>(s + 512, 2100);
      if (lo >= hi) continue;
      std::string piece = got.substr(lo, hi - lo);
      EXPECT_TRUE(piece == std::string(hi - lo, 'x') || piece == std::string(hi - lo, '\0'))
          << "sector at " << s;
    }
  });
}

TEST_F(SimFileSystemTest, FailedSyncLosesTheDataForGood) {
  auto f = fs.create("d/a");
  fs.sync_dir("d");
  f->append("abc");
  fs.fail_syncs("d/a");
  EXPECT_THROW(f->sync(), IoError);
  f->sync();  // "succeeds", but the bytes it should have covered are gone
  fs.crash(1, CrashMode::kDropUnsynced);
  EXPECT_EQ(fs.contents("d/a"), "");
}

TEST_F(SimFileSystemTest, ListsFilesOfOneDirectorySorted) {
  fs.create_dirs("d/sub");
  fs.create("d/b");
  fs.create("d/a");
  fs.create("d/sub/c");
  EXPECT_EQ(fs.list("d"), (std::vector<std::string>{"a", "b"}));
  EXPECT_THROW(fs.create("nodir/x"), IoError);
  EXPECT_THROW(fs.create("d/a"), IoError);
}

// A full disk (ENOSPC) as Linux gives it: a short write then the error, all-or-nothing
// preallocation, overwrites inside a file always fit, and removed files give their bytes back.
TEST_F(SimFileSystemTest, AFullDiskShortWritesThenRefusesUntilSpaceIsGivenBack) {
  fs.set_capacity(10);
  auto a = fs.create("d/a");
  a->append("0123456");
  try {
    a->append("789ab");
    FAIL() << "a write past the capacity succeeded";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("d/a: No space left on device"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(fs.contents("d/a"), "0123456789") << "the bytes that fit are written";
  EXPECT_EQ(fs.used_bytes(), 10u);
  a->write_at(0, "xy");  // inside the file: no new block
  auto b = fs.create("d/b");
  EXPECT_THROW(b->preallocate(4), IoError);
  EXPECT_EQ(b->size(), 0u) << "posix_fallocate allocates all or nothing";
  EXPECT_THROW(b->truncate(1), IoError);
  a->truncate(6);  // gives 4 bytes back
  b->preallocate(4);
  EXPECT_EQ(b->size(), 4u);
  fs.remove("d/a");
  b->append("abcdef");
  fs.set_capacity(std::nullopt);
  b->append(std::string(1000, 'z'));
  EXPECT_EQ(fs.used_bytes(), 1010u);
}

}  // namespace etcdlab
