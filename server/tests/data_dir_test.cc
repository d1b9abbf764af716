// The data directory's offline work: reading a saved snapshot and restoring a member from it
// (etcdlabctl snapshot status / restore), and what they refuse.
#include "../runtime/data_dir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "etcdlab/errors.h"
#include "etcdlab/fs/posix_file_system.h"
#include "etcdlab/mvcc/store.h"
#include "etcdlab/sha256.h"
#include "temp_dir.h"

namespace etcdlab::runtime {
namespace {

namespace fs = std::filesystem;

using etcdlab::testing::TempDir;

// A file as `snapshot save` writes it: the store's database, then the SHA-256 of it.
std::string saved_snapshot(int keys) {
  auto store = mvcc::KvStore::open({});
  store->begin_batch();
  for (int i = 0; i < keys; ++i) store->put("k" + std::to_string(i), "v" + std::to_string(i));
  store->commit_batch(7);
  std::string db;
  store->snapshot([&](std::string_view chunk) { db.append(chunk); });
  return db + sha256(db);
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

RestoreOptions restore_options(const std::string& file, const std::string& dir) {
  RestoreOptions o;
  o.snapshot_path = file;
  o.name = "r1";
  o.data_dir = dir;
  o.initial_cluster = "r1=http://127.0.0.1:24011,r2=http://127.0.0.1:24021";
  o.initial_cluster_token = "tok";
  o.initial_advertise_peer_urls = {"http://127.0.0.1:24011"};
  return o;
}

TEST(SnapshotFile, StatusReadsTheRevisionAndKeysOfASavedFile) {
  TempDir tmp;
  write_file(tmp / "s.db", saved_snapshot(5));
  SnapshotFileStatus st = snapshot_file_status(tmp / "s.db");
  EXPECT_EQ(st.revision, 6);  // the first revision is 1; five puts
  EXPECT_EQ(st.total_keys, 5);
  EXPECT_GT(st.total_size, 0u);
}

TEST(SnapshotFile, AHashMismatchIsRefusedUnlessSkipped) {
  TempDir tmp;
  std::string bytes = saved_snapshot(3);
  bytes.back() ^= 1;  // the trailer no longer matches
  write_file(tmp / "s.db", bytes);
  EXPECT_THROW(snapshot_file_status(tmp / "s.db"), StorageError);
  EXPECT_EQ(snapshot_file_status(tmp / "s.db", /*skip_hash_check=*/true).total_keys, 3);
}

TEST(SnapshotFile, AMissingFileIsNamedAsGosStatNamesIt) {
  TempDir tmp;
  try {
    snapshot_file_status(tmp / "nope.db");
    FAIL() << "a missing file was read";
  } catch (const StorageError& e) {
    EXPECT_EQ(std::string(e.what()), "stat " + (tmp / "nope.db") + ": no such file or directory");
  }
}

TEST(Restore, MakesADataDirWithTheClusterFileTheLogAndTheDatabase) {
  TempDir tmp;
  write_file(tmp / "s.db", saved_snapshot(4));
  RestoreResult r = restore_snapshot(restore_options(tmp / "s.db", tmp / "r1"));
  EXPECT_EQ(r.revision, 5);
  EXPECT_EQ(r.member, member_id_of({"http://127.0.0.1:24011"}, "tok"));
  EXPECT_NE(r.cluster, 0u);
  DataDir dir(tmp / "r1");
  EXPECT_TRUE(fs::exists(dir.cluster_file()));
  EXPECT_TRUE(fs::exists(dir.db()));
  EXPECT_TRUE(fs::is_directory(dir.raft()));
  PosixFileSystem pfs;
  auto ids = read_cluster_file(pfs, dir.cluster_file());
  ASSERT_TRUE(ids.has_value());
  EXPECT_EQ(ids->member, r.member);
  EXPECT_EQ(ids->cluster, r.cluster);
}

TEST(Restore, RefusesAnExistingDirAndANameMissingFromTheCluster) {
  TempDir tmp;
  write_file(tmp / "s.db", saved_snapshot(1));
  fs::create_directories(tmp / "taken");
  EXPECT_THROW(restore_snapshot(restore_options(tmp / "s.db", tmp / "taken")),
               std::invalid_argument);
  RestoreOptions stranger = restore_options(tmp / "s.db", tmp / "r9");
  stranger.name = "r9";
  EXPECT_THROW(restore_snapshot(stranger), std::invalid_argument);
  EXPECT_FALSE(fs::exists(tmp / "r9"));
}

TEST(Restore, AFailedRestoreLeavesNoDataDirBehind) {
  TempDir tmp;
  std::string bytes = saved_snapshot(2);
  bytes.back() ^= 1;
  write_file(tmp / "s.db", bytes);
  EXPECT_THROW(restore_snapshot(restore_options(tmp / "s.db", tmp / "r1")), StorageError);
  EXPECT_FALSE(fs::exists(tmp / "r1")) << "a retry would be refused as \"exists\"";
}

}  // namespace
}  // namespace etcdlab::runtime
