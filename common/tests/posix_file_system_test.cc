#include "etcdlab/fs/posix_file_system.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "etcdlab/errors.h"

namespace etcdlab {

class PosixFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = (std::filesystem::temp_directory_path() /
           ("etcdlab-fs-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name()))
              .string();
    std::filesystem::remove_all(dir);
    fs.create_dirs(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  PosixFileSystem fs;
  std::string dir;
};

TEST_F(PosixFileSystemTest, WritesReadsAndSyncs) {
  auto f = fs.create(join_path(dir, "a"));
  f->append("hello");
  f->write_at(10, "x");
  f->sync();
  EXPECT_EQ(f->size(), 11u);
  EXPECT_EQ(f->read_at(0, 100), std::string("hello\0\0\0\0\0x", 11));
  f->truncate(5);
  EXPECT_EQ(fs.open(join_path(dir, "a"))->read_at(0, 100), "hello");
}

TEST_F(PosixFileSystemTest, PreallocatesZeros) {
  auto f = fs.create(join_path(dir, "a"));
  f->preallocate(1 << 16);
  EXPECT_EQ(f->size(), 1u << 16);
  EXPECT_EQ(f->read_at(100, 4), std::string(4, '\0'));
}

TEST_F(PosixFileSystemTest, RenamesListsAndRemoves) {
  fs.create(join_path(dir, "b.tmp"))->append("x");
  fs.rename(join_path(dir, "b.tmp"), join_path(dir, "b"));
  fs.sync_dir(dir);
  fs.create(join_path(dir, "a"));
  EXPECT_EQ(fs.list(dir), (std::vector<std::string>{"a", "b"}));
  fs.remove(join_path(dir, "a"));
  EXPECT_FALSE(fs.exists(join_path(dir, "a")));
  EXPECT_THROW(fs.open(join_path(dir, "a")), IoError);
  EXPECT_THROW(fs.create(join_path(dir, "b")), IoError);
}

TEST_F(PosixFileSystemTest, DirectoryLockIsExclusive) {
  DirectoryLock lock(join_path(dir, "LOCK"));
  // flock locks belong to the open file description, so a second open in this process
  // conflicts just as another process would.
  EXPECT_THROW(DirectoryLock(join_path(dir, "LOCK")), IoError);
}

}  // namespace etcdlab
