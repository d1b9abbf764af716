// Lab 1, part E: the durable log storage (wal_storage.h): restart, snapshots across crashes,
// and a randomized differential test against the in-memory twin.
#include "etcdlab/log/wal_storage.h"
#include "etcdlab/log/snapshot_file.h"

#include <gtest/gtest.h>

#include "etcdlab/errors.h"
#include "etcdlab/fs/sim_file_system.h"
#include "etcdlab/testing/seeds.h"
#include "log_test_util.h"

namespace etcdlab::lab1 {
namespace {

WalStorageOptions small_options() {
  return WalStorageOptions{WalOptions{4096, true}, 2};
}

void write_snapshot(LogStorage& s, const SnapshotMeta& meta, const std::string& payload) {
  auto w = s.begin_snapshot(meta);
  w->write(payload);
  w->commit();
}

std::string read_all(const SnapshotReader& r) {
  return r.read(0, r.size());
}

// Everything observable, for comparing a storage with its twin.
std::string observe(const LogStorage& s) {
  std::string out = to_string(s.hard_state()) + " | " + to_string(s.snapshot()) + " | [" +
                    std::to_string(s.first_index()) + ", " + std::to_string(s.last_index()) + "] " +
                    describe(all_entries(s));
  auto r = s.open_snapshot();
  out += " | payload " + (r ? read_all(*r) : std::string("(none)"));
  return out;
}

}  // namespace

class WalStorageTest : public ::testing::Test {
 protected:
  std::unique_ptr<WalStorage> open() { return WalStorage::open(fs, "data", small_options()); }
  SimFileSystem fs;
};

TEST_F(WalStorageTest, RestartRestoresEverythingSynced) {
  {
    auto s = open();
    s->append(make_entries(1, 21, 1));
    s->set_hard_state({1, 1, 15});
    s->append(make_entries(18, 22, 2));
    s->sync();
  }
  fs.crash(1, CrashMode::kDropUnsynced);
  auto s = open();
  EXPECT_EQ(s->hard_state(), (HardState{1, 1, 15}));
  EXPECT_EQ(s->last_index(), 21u);
  EXPECT_EQ(s->term(17), 1u);
  EXPECT_EQ(s->term(18), 2u);
}

TEST_F(WalStorageTest, RejectedAppendLeavesNothingOnDisk) {
  {
    auto s = open();
    s->append(make_entries(1, 3, 1));
    auto gap = make_entries(3, 5, 1);
    gap[1].index = 5;
    EXPECT_THROW(s->append(gap), std::invalid_argument) << "3 then 5 is not consecutive";
    EXPECT_THROW(s->append(make_entries(5, 6, 1)), std::invalid_argument) << "4 is missing";
    s->sync();
  }
  auto s = open();  // must not find a gap on disk
  EXPECT_EQ(s->last_index(), 2u);
}

TEST_F(WalStorageTest, SnapshotSurvivesRestartAndTheLogResumesAfterIt) {
  {
    auto s = open();
    s->append(make_entries(1, 101, 1, std::string(100, 'x')));
    s->set_hard_state({1, 1, 100});
    s->sync();
    write_snapshot(*s, {80, 1, {{1, 2, 3}, {}}}, "state@80");
  }
  fs.crash(2, CrashMode::kDropUnsynced);
  auto s = open();
  EXPECT_EQ(s->snapshot(), (SnapshotMeta{80, 1, {{1, 2, 3}, {}}}));
  EXPECT_EQ(s->first_index(), 81u);
  EXPECT_EQ(s->last_index(), 100u);
  EXPECT_EQ(read_all(*s->open_snapshot()), "state@80");
  EXPECT_EQ(s->hard_state().commit, 100u);
}

TEST_F(WalStorageTest, SnapshotReleasesOldSegmentsAndFiles) {
  auto s = open();
  for (uint64_t i = 1; i <= 300; i += 10) {
    s->append(make_entries(i, i + 10, 1, std::string(100, 'x')));
  }
  s->sync();
  size_t before = fs.list("data/wal").size();
  for (uint64_t at : {100, 200, 290}) {
    write_snapshot(*s, {at, 1, {{1}, {}}}, "s" + std::to_string(at));
  }
  EXPECT_LT(fs.list("data/wal").size(), before) << "segments below the snapshot are released";
  EXPECT_EQ(fs.list("data/snap").size(), 2u) << "keep_snapshots = 2";
}

TEST_F(WalStorageTest, InstalledSnapshotReplacesTheLogAcrossRestart) {
  {
    auto s = open();
    s->append(make_entries(1, 31, 1));
    s->sync();
    write_snapshot(*s, {20, 5, {{1, 2}, {}}}, "leader state");  // disagrees with entry 20
    s->append(make_entries(21, 23, 5));
    s->sync();
  }
  auto s = open();
  EXPECT_EQ(all_entries(*s), make_entries(21, 23, 5));
}

TEST_F(WalStorageTest, SnapshotFileWithoutItsMarkerIsDropped) {
  {
    auto s = open();
    s->append(make_entries(1, 11, 1));
    s->sync();
  }
  // Step 1 of a snapshot commit happened, step 2 (the WAL marker) did not.
  SnapshotMeta meta{5, 1, {{1}, {}}};
  fs.create_dirs("data/snap");
  SnapshotFileWriter w(fs, "data/snap", meta);
  w.write("orphan");
  w.commit();
  auto s = open();
  EXPECT_EQ(s->snapshot().index, 0u);
  EXPECT_EQ(s->first_index(), 1u) << "the log still holds everything";
  EXPECT_TRUE(fs.list("data/snap").empty());
}

TEST_F(WalStorageTest, MarkerWithoutItsFileIsCorruption) {
  {
    auto s = open();
    s->append(make_entries(1, 11, 1));
    s->sync();
    write_snapshot(*s, {5, 1, {{1}, {}}}, "state");
  }
  fs.remove("data/snap/" + snapshot_file_name({5, 1, {}}));
  EXPECT_THROW(open(), CorruptionError);
}

TEST_F(WalStorageTest, FailedSyncDuringSnapshotLeavesTheOldOrTheNewState) {
  for (const char* failing : {"data/snap", "data/wal"}) {
    SCOPED_TRACE(std::string("failing syncs under ") + failing);
    SimFileSystem disk;
    {
      auto s = WalStorage::open(disk, "data", small_options());
      s->append(make_entries(1, 51, 1));
      s->set_hard_state({1, 1, 50});
      s->sync();
      disk.fail_syncs(failing, -1);
      EXPECT_THROW(write_snapshot(*s, {40, 1, {{1}, {}}}, "state@40"), IoError);
    }
    disk.fail_syncs("", 0);
    disk.crash(3, CrashMode::kAny);
    auto s = WalStorage::open(disk, "data", small_options());
    EXPECT_EQ(s->last_index(), 50u) << "no entry may be lost";
    if (s->snapshot().index == 40) {
      EXPECT_EQ(read_all(*s->open_snapshot()), "state@40");
    } else {
      EXPECT_EQ(s->snapshot().index, 0u);
      EXPECT_EQ(s->first_index(), 1u);
    }
  }
}

TEST_F(WalStorageTest, TornTailIsRepairedAndReported) {
  {
    auto s = open();
    s->append(make_entries(1, 6, 1, std::string(700, 'p')));
    s->sync();
    s->append(make_entries(6, 9, 1, std::string(700, 'p')));
  }
  fs.crash(11, CrashMode::kTornWrite);
  auto s = open();
  EXPECT_GE(s->last_index(), 5u);
  EXPECT_LE(s->last_index(), 8u);
}

// A random mix of appends (with overwrites), hard states, snapshots, syncs, clean reopens and
// crashes right after a sync, applied to WalStorage and to MemoryStorage; after every step
// both must show the same state.
TEST(WalStorageDifferential, MatchesTheInMemoryTwin) {
  testing::for_each_seed(30, [&](uint64_t seed) {
    Rng rng(seed);
    SimFileSystem fs;
    MemoryStorage twin;
    auto wal = WalStorage::open(fs, "data", small_options());
    uint64_t term = 1;
    for (int step = 0; step < 120; ++step) {
      std::string what;
      uint64_t first = twin.first_index(), last = twin.last_index();
      switch (rng.uniform(0, 9)) {
        case 0:
        case 1:
        case 2:
        case 3: {
          uint64_t start = last + 1;
          if (last >= first && rng.chance(0.2)) {
            start = rng.uniform(first, last);
            term++;
          }
          auto entries =
              make_entries(start, start + rng.uniform(1, 6), term, random_data(rng, 300));
          what = "append [" + std::to_string(start) + ", " + std::to_string(entries.back().index) +
                 "]";
          twin.append(entries);
          wal->append(entries);
          break;
        }
        case 4: {
          HardState hs{term, rng.uniform(0, 3), rng.uniform(0, last)};
          what = "hard state " + to_string(hs);
          twin.set_hard_state(hs);
          wal->set_hard_state(hs);
          break;
        }
        case 5: {
          if (last < first) break;
          bool install = rng.chance(0.3);
          uint64_t index = install ? last + rng.uniform(0, 5) : rng.uniform(first, last);
          SnapshotMeta meta{index, install ? term + 1 : twin.term(index), {{1, 2, 3}, {}}};
          if (install) term++;
          std::string payload = random_data(rng, 2000);
          what = "snapshot " + to_string(meta);
          wal->sync();
          write_snapshot(twin, meta, payload);
          write_snapshot(*wal, meta, payload);
          break;
        }
        case 6:
        case 7:
          what = "sync";
          wal->sync();
          break;
        case 8:
          what = "sync, close, reopen";
          wal->sync();
          wal.reset();
          wal = WalStorage::open(fs, "data", small_options());
          break;
        default:
          what = "sync, crash, reopen";
          wal->sync();
          wal.reset();
          fs.crash(rng.next(), CrashMode::kAny);
          wal = WalStorage::open(fs, "data", small_options());
          break;
      }
      ASSERT_EQ(observe(*wal), observe(twin)) << "after step " << step << ": " << what;
    }
  });
}

}  // namespace etcdlab::lab1
