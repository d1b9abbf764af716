// Lab 1, part E: the durable log storage (wal_storage.h): restart, snapshots across crashes,
// and a randomized differential test against the in-memory twin.
#include "etcdlab/log/wal_storage.h"
#include "etcdlab/log/snapshot_file.h"

#include <gtest/gtest.h>

#include "etcdlab/errors.h"
#include "etcdlab/fs/sim_file_system.h"
#include "etcdlab/testing/seeds.h"
#include "log_test_util.h"
#include "power_cut_fs.h"

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
  s.reset();
  fs.crash(1, CrashMode::kDropUnsynced);
  EXPECT_EQ(fs.list("data/snap").size(), 2u) << "the removals are made durable";
  s = open();
  EXPECT_TRUE(fs.exists("data/snap/" + snapshot_file_name({290, 1, {}})))
      << "the file the newest marker names must stay: the oldest files go";
  s.reset();
  auto again = open();
  EXPECT_EQ(again->snapshot().index, 290u);
  EXPECT_EQ(read_all(*again->open_snapshot()), "s290");
}

TEST_F(WalStorageTest, AnAppendTheWalRefusesNeverReachesMemory) {
  auto s = open();
  s->append(make_entries(1, 4, 1));
  s->set_hard_state({1, 1, 3});
  s->sync();
  s->append(make_entries(4, 6, 1));
  fs.fail_syncs("data/wal");
  EXPECT_THROW(s->sync(), IoError);
  EXPECT_THROW(s->append(make_entries(6, 8, 1)), IoError) << "the WAL is poisoned";
  EXPECT_EQ(s->last_index(), 5u)
      << "memory ran ahead of the WAL: write the WAL first, and memory only if that worked";
  EXPECT_THROW(s->set_hard_state({2, 1, 3}), IoError);
  EXPECT_EQ(s->hard_state(), (HardState{1, 1, 3})) << "the same for the hard state";
}

TEST_F(WalStorageTest, PowerCutAtEveryStepOfASnapshotLeavesTheOldOrTheNewState) {
  // 60 entries over several 4 KB segments, so the snapshot at 40 releases some of them.
  auto prepare = [](SimFileSystem& disk) {
    auto s = WalStorage::open(disk, "data", small_options());
    for (uint64_t i = 1; i <= 60; i += 5)
      s->append(make_entries(i, i + 5, 1, std::string(200, 'e')));
    s->set_hard_state({1, 1, 60});
    s->sync();
  };
  size_t cuts = for_each_power_cut(
      prepare,
      [&](FileSystem& cut_fs) {
        auto s = WalStorage::open(cut_fs, "data", small_options());
        write_snapshot(*s, {40, 1, {{1, 2, 3}, {}}}, "state@40");
      },
      [&](SimFileSystem& disk, const std::string&) {
        std::unique_ptr<WalStorage> s;
        ASSERT_NO_THROW(s = WalStorage::open(disk, "data", small_options()))
            << "recovery must not fail: release WAL segments only after the marker is synced";
        EXPECT_EQ(s->last_index(), 60u) << "no entry may be lost";
        if (s->snapshot().index == 40) {
          EXPECT_EQ(read_all(*s->open_snapshot()), "state@40");
          EXPECT_EQ(s->first_index(), 41u);
        } else {
          EXPECT_EQ(s->snapshot().index, 0u);
          EXPECT_EQ(s->first_index(), 1u) << "without the snapshot every entry is still there";
        }
      });
  EXPECT_GT(cuts, 10u);
}

TEST_F(WalStorageTest, OpenReadsTheSnapshotFileOnlyToVerifyIt) {
  {
    auto s = open();
    s->append(make_entries(1, 11, 1));
    s->sync();
    write_snapshot(*s, {10, 1, {{1}, {}}}, std::string(1 << 20, 'p'));
  }
  uint64_t file = fs.contents("data/snap/" + snapshot_file_name({10, 1, {}})).size();
  PowerCutFileSystem counting(fs);  // never cuts; counts what is read
  auto s = WalStorage::open(counting, "data", small_options());
  EXPECT_LT(counting.bytes_read("data/snap/"), file + file / 2)
      << "open() read the snapshot file once to verify it, then read its payload again: the "
         "payload is read from the file when open_snapshot() asks, never held in memory";
  EXPECT_EQ(s->open_snapshot()->read(0, 4), "pppp");
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

TEST_F(WalStorageTest, FilesNewerThanTheMarkerGoOlderOnesStay) {
  {
    auto s = open();
    s->append(make_entries(1, 21, 1));
    s->sync();
    write_snapshot(*s, {5, 1, {{1}, {}}}, "at 5");
    write_snapshot(*s, {10, 1, {{1}, {}}}, "at 10");
  }
  // A snapshot at 15 was written, and the crash came before its marker; and a .tmp file.
  SnapshotFileWriter w(fs, "data/snap", {15, 1, {{1}, {}}});
  w.write("orphan");
  w.commit();
  fs.create("data/snap/" + snapshot_file_name({18, 1, {}}) + ".tmp");
  fs.sync_dir("data/snap");
  auto s = open();
  EXPECT_EQ(s->snapshot().index, 10u);
  std::vector<std::string> kept{snapshot_file_name({5, 1, {}}), snapshot_file_name({10, 1, {}})};
  EXPECT_EQ(fs.list("data/snap"), kept)
      << "the file newer than the marker and the .tmp go; the one older than the marker stays";
  s.reset();
  fs.crash(1, CrashMode::kDropUnsynced);
  EXPECT_EQ(fs.list("data/snap"), kept) << "the removals are made durable";
}

TEST_F(WalStorageTest, OtherFilesInTheSnapshotDirectoryAreLeftAlone) {
  fs.create_dirs("data/snap");
  fs.create("data/snap/notes.txt")->append("mine");
  fs.create("data/snap/x.snap")->append("not ours");
  fs.create("data/snap/0000000000000001-0000000000000002.data")->append("not ours either");
  auto s = open();
  s->append(make_entries(1, 11, 1));
  for (uint64_t at : {4, 6, 8}) write_snapshot(*s, {at, 1, {{1}, {}}}, "s");
  s.reset();
  open();
  EXPECT_TRUE(fs.exists("data/snap/notes.txt"));
  EXPECT_TRUE(fs.exists("data/snap/x.snap")) << "only <term>-<index>.snap files are snapshots";
  EXPECT_TRUE(fs.exists("data/snap/0000000000000001-0000000000000002.data"));
}

TEST_F(WalStorageTest, AWalThatStartsAfterIndexZeroWithoutAMarkerIsCorruption) {
  {
    auto s = open();
    for (uint64_t i = 1; i <= 60; i += 5)
      s->append(make_entries(i, i + 5, 1, std::string(200, 'e')));
    s->sync();
  }
  auto names = fs.list("data/wal");
  ASSERT_GE(names.size(), 2u);
  fs.remove("data/wal/" + names[0]);  // entries 1.. are gone, and no snapshot covers them
  EXPECT_THROW(open(), CorruptionError);
}

TEST_F(WalStorageTest, AMarkerWhoseFileHoldsOtherMetaIsCorruption) {
  for (SnapshotMeta other : {SnapshotMeta{5, 2, {{1}, {}}}, SnapshotMeta{6, 1, {{1}, {}}}}) {
    SCOPED_TRACE(to_string(other));
    fs = SimFileSystem();
    {
      auto s = open();
      s->append(make_entries(1, 11, 1));
      s->sync();
      write_snapshot(*s, {5, 1, {{1}, {}}}, "state");
    }
    // The marker's file (5, term 1) is replaced by one that says it is another snapshot.
    std::string path = "data/snap/" + snapshot_file_name({5, 1, {}});
    fs.remove(path);
    SnapshotFileWriter w(fs, "data/snap", other);
    w.write("state");
    w.commit();
    fs.rename(w.path(), path);
    EXPECT_THROW(open(), CorruptionError)
        << "the file the newest marker names must hold that snapshot's metadata";
  }
}

TEST_F(WalStorageTest, ASnapshotReleasesTheSegmentItsIndexEnds) {
  auto s = open();
  for (uint64_t i = 1; i <= 60; i += 5) s->append(make_entries(i, i + 5, 1, std::string(200, 'e')));
  s->sync();
  auto names = fs.list("data/wal");
  ASSERT_GE(names.size(), 3u);
  // Segment 2 starts at n: a snapshot at n - 1 covers all of segment 1.
  uint64_t n = std::stoull(names[1].substr(17, 16), nullptr, 16);
  write_snapshot(*s, {n - 1, 1, {{1}, {}}}, "s");
  EXPECT_EQ(fs.list("data/wal").front(), names[1])
      << "segment 1 holds only entries the snapshot at " << n - 1 << " covers: it is released";
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
      EXPECT_EQ(s->snapshot().index, 0u)
          << "memory takes the snapshot only once its marker is durable";
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
    StepTrail trail;
    for (int step = 0; step < 120; ++step) {
      SCOPED_TRACE(trail.text());  // every failure below shows the steps before this one
      std::string what;
      uint64_t first = twin.first_index(), last = twin.last_index();
      try {
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
            what = "append [" + std::to_string(start) + ", " +
                   std::to_string(entries.back().index) + "]";
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
      } catch (const std::exception& e) {
        FAIL() << "step " << step << " (" << what << ") threw: " << e.what();
      }
      trail.add("step " + std::to_string(step) + ": " + (what.empty() ? "(nothing)" : what));
      ASSERT_EQ(observe(*wal), observe(twin)) << "after step " << step << ": " << what;
    }
  });
}

}  // namespace etcdlab::lab1
