// Lab 1, part D: snapshot files (snapshot_file.h).
#include "etcdlab/log/snapshot_file.h"

#include <gtest/gtest.h>

#include "etcdlab/crc32c.h"
#include "etcdlab/errors.h"
#include "etcdlab/fs/sim_file_system.h"
#include "log_test_util.h"
#include "power_cut_fs.h"

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

TEST_F(SnapshotFile, ChecksumCoversVersionMetaAndPayloadOnly) {
  std::string bytes = fs.contents(write(meta, {"payload"}));
  uint64_t n = bytes.size();
  auto le = [&](uint64_t at, int width) {
    uint64_t v = 0;
    for (int i = 0; i < width; ++i) v |= uint64_t{static_cast<uint8_t>(bytes[at + i])} << (8 * i);
    return v;
  };
  EXPECT_EQ(le(n - 16, 8), 7u) << "the trailer starts with the payload length";
  EXPECT_EQ(le(n - 8, 4), crc32c(std::string_view(bytes).substr(16, n - 16 - 16)))
      << "the crc is crc32c of bytes [16, 24+m+n): not the magic, not the trailer";
}

TEST_F(SnapshotFile, OpenVerifiesTheFileInChunks) {
  std::string path = write(meta, {std::string(12 << 20, 'g')});
  PowerCutFileSystem counting(fs);  // never cuts; counts what is read
  auto r = SnapshotFileReader::open(counting, path);
  EXPECT_EQ(r->size(), uint64_t{12} << 20);
  EXPECT_LE(counting.largest_read(), uint64_t{4} << 20)
      << "open() read " << counting.largest_read() << " bytes at once: a snapshot can be "
      << "gigabytes, so it is verified in chunks (of, say, 1 MiB), never read whole";
}

TEST_F(SnapshotFile, PowerCutAtAnyStepLeavesNoSnapshotOrAWholeOne) {
  std::string path = "snap/" + snapshot_file_name(meta);
  std::string payload(3000, 'a');
  size_t cuts = for_each_power_cut(
      [](SimFileSystem& disk) { disk.create_dirs("snap"); },
      [&](FileSystem& cut_fs) {
        SnapshotFileWriter w(cut_fs, "snap", meta);
        w.write(payload);
        w.commit();
      },
      [&](SimFileSystem& disk, const std::string& where) {
        if (where.ends_with("sync_dir snap")) {
          EXPECT_TRUE(disk.exists(path)) << "the directory sync ends a commit";
        }
        if (!disk.exists(path)) return;  // not committed: the old state
        try {
          EXPECT_EQ(SnapshotFileReader::open(disk, path)->read(0, 10000), payload);
        } catch (const CorruptionError& e) {
          ADD_FAILURE() << "after a power cut the snapshot's name points at bytes that were not "
                           "durable: sync the file before renaming it. "
                        << e.what();
        }
      });
  EXPECT_GE(cuts, 5u) << "create, write, sync, rename, sync_dir at least";
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
  // After the crash the writer's handle is stale and its .tmp file may be gone (its creation was
  // never made durable): the destructor must swallow the errors, or the program terminates.
  for (CrashMode mode : {CrashMode::kDropUnsynced, CrashMode::kAny}) {
    SimFileSystem disk;
    disk.create_dirs("snap");
    {
      SnapshotFileWriter w(disk, "snap", meta);
      w.write("partial");
      disk.crash(1, mode);
    }
    EXPECT_FALSE(disk.exists("snap/" + snapshot_file_name(meta))) << to_string(mode);
  }
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
  fs.open(path)->truncate(10);
  EXPECT_THROW(SnapshotFileReader::open(fs, path), CorruptionError)
      << "shorter than a header and a trailer";
}

TEST_F(SnapshotFile, ReadsPastThePayloadReturnNothing) {
  auto r = SnapshotFileReader::open(fs, write(meta, {"payload"}));
  EXPECT_EQ(r->read(7, 10), "");
  EXPECT_EQ(r->read(8, 10), "") << "past the payload lies the trailer: never return it";
}

TEST_F(SnapshotFile, UnknownVersionIsRefusedEvenWithAValidChecksum) {
  std::string path = write(meta, {"payload"});
  std::string bytes = fs.contents(path);
  bytes[16] = 2;  // a future format version
  uint32_t crc = crc32c(std::string_view(bytes).substr(16, bytes.size() - 32));
  for (int i = 0; i < 4; ++i)
    bytes[bytes.size() - 8 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  fs.corrupt(path, 0, bytes);
  try {
    SnapshotFileReader::open(fs, path);
    FAIL() << "a version this build cannot read must be refused";
  } catch (const CorruptionError& e) {
    EXPECT_NE(std::string(e.what()).find("version"), std::string::npos) << e.what();
  }
}

TEST_F(SnapshotFile, LeftoverTemporaryFileIsReplaced) {
  fs.create("snap/" + snapshot_file_name(meta) + ".tmp")->append("left by a crash");
  auto r = SnapshotFileReader::open(fs, write(meta, {"fresh"}));
  EXPECT_EQ(r->read(0, 10), "fresh") << "a .tmp an earlier crash left behind is not in the way";
}

}  // namespace etcdlab::lab1
