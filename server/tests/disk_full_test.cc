// A disk that fills up (ENOSPC) under the member's Raft storage, on the simulated disk (issue
// 23, item 4: "ENOSPC on the WAL or SQLite gives the NOSPACE alarm or a clean stop, never a
// corrupted file"). What the runtime relies on, checked here:
//   - the WAL: its segments are preallocated, so appends inside one always fit; the write that
//     needs a new segment fails with ENOSPC naming the segment, the WAL refuses every later
//     write (the member stops: NodeDriverDeathTest.ADiskThatFillsUp...), and once space is
//     given back the log reopens with everything that was synced, and takes writes again;
//   - a snapshot file that does not fit: its temporary file goes, the log goes on, and the
//     next snapshot is written once there is room.
// The same on real processes over a small tmpfs: python/tests/e2e/test_disk_full_e2e.py.
#include <gtest/gtest.h>

#include <string>

#include "etcdlab/errors.h"
#include "etcdlab/fs/sim_file_system.h"
#include "etcdlab/log/wal_storage.h"
#include "etcdlab/testing/seeds.h"

namespace etcdlab {
namespace {

constexpr uint64_t kSegmentBytes = 4096;

WalStorageOptions small_segments() {
  WalStorageOptions o;
  o.wal.segment_bytes = kSegmentBytes;
  return o;
}

Entry entry(uint64_t index) {
  return Entry{index, 1, EntryType::kNormal, "value-" + std::to_string(index) + std::string(90, 'x')};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Fills the disk `room` bytes past what the log uses, then appends and syncs one entry at a
// time until the disk refuses; a crash (seeded) ends the process; the disk gets space back; the
// log must reopen with every synced entry and take new ones.
TEST(DiskFull, AWalThatRunsOutOfSpaceRefusesWritesAndKeepsEverythingSynced) {
  const uint64_t rooms[] = {0, 1, 100, kSegmentBytes / 2, kSegmentBytes - 1};
  testing::for_each_seed(testing::seed_count(3, 50), [&](uint64_t seed) {
    for (uint64_t room : rooms) {
      SCOPED_TRACE("room left: " + std::to_string(room) + " bytes");
      SimFileSystem disk;
      disk.create_dirs("/m/raft");
      auto storage = WalStorage::open(disk, "/m/raft", small_segments());
      uint64_t synced = 0;
      for (uint64_t i = 1; i <= 10; ++i) storage->append({entry(i)});
      storage->sync();
      synced = 10;
      disk.set_capacity(disk.used_bytes() + room);
      std::string error;
      for (uint64_t i = synced + 1; i < synced + 1000 && error.empty(); ++i) {
        try {
          storage->append({entry(i)});
          storage->set_hard_state(HardState{1, 1, i});
          storage->sync();
          synced = i;
        } catch (const StorageError& e) {
          error = e.what();
        }
      }
      ASSERT_FALSE(error.empty()) << "the disk never filled";
      EXPECT_TRUE(contains(error, "No space left on device")) << error;
      EXPECT_TRUE(contains(error, "/m/raft/")) << "the error names the file: " << error;
      EXPECT_THROW(storage->append({entry(synced + 1)}), StorageError)
          << "a WAL that failed a write takes no more (the member stops)";
      storage.reset();
      disk.crash(seed, CrashMode::kAny);

      // Still full: opening may fail, but only for want of space, never as corruption.
      try {
        WalStorage::open(disk, "/m/raft", small_segments());
      } catch (const CorruptionError& e) {
        FAIL() << "a full disk read as corruption: " << e.what();
      } catch (const IoError& e) {
        EXPECT_TRUE(contains(e.what(), "No space left on device")) << e.what();
      }

      disk.set_capacity(std::nullopt);  // the operator gives space back
      auto again = WalStorage::open(disk, "/m/raft", small_segments());
      ASSERT_GE(again->last_index(), synced) << "a synced entry was lost";
      auto kept = again->entries(1, synced + 1, UINT64_MAX);
      ASSERT_EQ(kept.size(), synced);
      for (uint64_t i = 1; i <= synced; ++i) EXPECT_EQ(kept[i - 1], entry(i)) << "entry " << i;
      uint64_t next = again->last_index() + 1;
      for (uint64_t i = next; i < next + 100; ++i) again->append({entry(i)});
      again->sync();
      again.reset();
      auto third = WalStorage::open(disk, "/m/raft", small_segments());
      EXPECT_EQ(third->last_index(), next + 99) << "the log takes writes again after the fill";
    }
  });
}

// A Raft snapshot whose file does not fit fails alone: its temporary file is removed (the
// space comes back), the log keeps taking writes, and a later snapshot commits.
TEST(DiskFull, ASnapshotThatDoesNotFitLeavesNoFileAndTheLogGoesOn) {
  SimFileSystem disk;
  disk.create_dirs("/m/raft");
  auto storage = WalStorage::open(disk, "/m/raft", small_segments());
  for (uint64_t i = 1; i <= 10; ++i) storage->append({entry(i)});
  storage->sync();
  uint64_t before = disk.used_bytes();
  disk.set_capacity(before + 1000);
  SnapshotMeta meta{5, 1, ConfState{{1}, {}}};
  try {
    auto writer = storage->begin_snapshot(meta);
    writer->write(std::string(5000, 's'));
    FAIL() << "a 5,000-byte payload fitted in 1,000 bytes";
  } catch (const IoError& e) {
    EXPECT_TRUE(contains(e.what(), "No space left on device")) << e.what();
    EXPECT_TRUE(contains(e.what(), ".snap.tmp")) << "the error names the file: " << e.what();
  }
  EXPECT_TRUE(disk.list("/m/raft/snap").empty()) << "the temporary file is removed";
  EXPECT_EQ(disk.used_bytes(), before) << "its space is given back";
  storage->append({entry(11)});  // inside the preallocated segment
  storage->sync();
  disk.set_capacity(std::nullopt);
  auto writer = storage->begin_snapshot(meta);
  writer->write(std::string(5000, 's'));
  writer->sync_payload();
  writer->commit();
  storage.reset();
  auto again = WalStorage::open(disk, "/m/raft", small_segments());
  EXPECT_EQ(again->snapshot().index, 5u);
  EXPECT_EQ(again->last_index(), 11u);
}

}  // namespace
}  // namespace etcdlab
