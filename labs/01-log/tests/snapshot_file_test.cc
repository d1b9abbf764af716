// Lab 1, part D: snapshot files (snapshot_file.h).
#include "etcdlab/log/snapshot_file.h"

#include <gtest/gtest.h>

#include "etcdlab/errors.h"
#include "etcdlab/fs/sim_file_system.h"
#include "log_test_util.h"

namespace etcdlab::lab1 {

class SnapshotFile : public ::testing::Test {
 protected:
  void SetUp() override { fs.create_dirs("snap"); }
  std::string write(const SnapshotMeta& m, const std::vector<std::string>& chunks) {
    SnapshotFileWriter w(fs, "snap", m);
    for (const auto& c : chunks) w.write(c);
    w.commit();
    return w.path();
  }
  SimFileSystem fs;
  SnapshotMeta meta{42, 7, {{1, 2, 3}, {4}}};
};

TEST_F(SnapshotFile, NameSortsByTermThenIndex) {
  EXPECT_EQ(snapshot_file_name(meta), "0000000000000007-000000000000002a.snap");
}

TEST_F(SnapshotFile, WrittenInChunksReadBackInChunks) {
  std::string path = write(meta, {"alpha-", "", std::string(100000, 'b'), "-omega"});
  EXPECT_EQ(path, "snap/" + snapshot_file_name(meta));
  auto r = SnapshotFileReader::open(fs, path);
  EXPECT_EQ(r->meta(), meta);
  EXPECT_EQ(r->size(), 6u + 100000u + 6u);
  EXPECT_EQ(r->read(0, 6), "alpha-");
  EXPECT_EQ(r->read(100006, 100), "-omega") << "a read past the end returns what is there";
  EXPECT_EQ(r->read(r->size(), 10), "");
}

TEST_F(SnapshotFile, EmptyPayloadIsAllowed) {
  auto r = SnapshotFileReader::open(fs, write(meta, {}));
  EXPECT_EQ(r->size(), 0u);
}

TEST_F(SnapshotFile, LayoutStartsWithMagicAndVersion) {
  std::string bytes = fs.contents(write(meta, {"x"}));
  EXPECT_EQ(bytes.substr(0, 16), "etcdlab-snapshot");
  EXPECT_EQ(bytes.substr(16, 4), std::string("\x01\0\0\0", 4));
  EXPECT_EQ(bytes.substr(bytes.size() - 4), "SNAP");
}

TEST_F(SnapshotFile, ExistsOnlyAfterCommit) {
  {
    SnapshotFileWriter w(fs, "snap", meta);
    w.write("partial");
    EXPECT_FALSE(fs.exists("snap/" + snapshot_file_name(meta))) << "not before commit()";
  }
  EXPECT_TRUE(fs.list("snap").empty()) << "an abandoned writer removes its .tmp file";
}

TEST_F(SnapshotFile, CommitSyncsTheFileAndTheDirectory) {
  std::string path = write(meta, {"durable"});
  fs.crash(1, CrashMode::kDropUnsynced);
  ASSERT_TRUE(fs.exists(path)) << "the rename must be made durable with a directory sync";
  EXPECT_EQ(SnapshotFileReader::open(fs, path)->read(0, 100), "durable")
      << "the bytes must be synced before the rename";
}

TEST_F(SnapshotFile, CrashBeforeCommitLeavesNoSnapshot) {
  {
    SnapshotFileWriter w(fs, "snap", meta);
    w.write("partial");
    fs.crash(1, CrashMode::kAny);
  }
  EXPECT_FALSE(fs.exists("snap/" + snapshot_file_name(meta)));
}

TEST_F(SnapshotFile, AnyFlippedByteIsCaught) {
  std::string path = write(meta, {std::string(3000, 's')});
  std::string bytes = fs.contents(path);
  for (uint64_t at : {uint64_t{3}, uint64_t{17}, uint64_t{30}, uint64_t{1000}, bytes.size() - 10,
                      bytes.size() - 2}) {
    SimFileSystem copy;
    copy.create_dirs("snap");
    auto f = copy.create(path);
    std::string damaged = bytes;
    damaged[at] ^= 0x01;
    f->append(damaged);
    try {
      SnapshotFileReader::open(copy, path);
      ADD_FAILURE() << "a flipped byte at " << at << " went unnoticed";
    } catch (const CorruptionError& e) {
      EXPECT_EQ(e.path(), path);
    }
  }
}

TEST_F(SnapshotFile, TruncatedFileIsCaught) {
  std::string path = write(meta, {std::string(3000, 's')});
  fs.open(path)->truncate(2000);
  EXPECT_THROW(SnapshotFileReader::open(fs, path), CorruptionError);
}

}  // namespace etcdlab::lab1
