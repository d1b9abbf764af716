// Lab 1, part C: the WAL's behaviour on a healthy disk: append, replay, rotation, release.
#include "etcdlab/log/wal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "etcdlab/codec.h"
#include "etcdlab/fs/posix_file_system.h"
#include "etcdlab/fs/sim_file_system.h"
#include "etcdlab/log/record.h"
#include "log_test_util.h"

namespace etcdlab::lab1 {

class WalTest : public ::testing::Test {
 protected:
  std::unique_ptr<Wal> open(WalOptions options = small()) { return Wal::open(fs, "wal", options); }
  static WalOptions small() { return WalOptions{4096, true}; }
  SimFileSystem fs;
};

TEST_F(WalTest, EmptyWalReplaysNothing) {
  auto wal = open();
  EXPECT_TRUE(wal->replayed().entries.empty());
  EXPECT_TRUE(wal->replayed().hard_state.empty());
  EXPECT_EQ(wal->segments().size(), 1u) << "opening an empty directory creates the first segment";
  EXPECT_EQ(wal->segments()[0], wal_segment_name(1, 1));
  EXPECT_EQ(wal_segment_name(1, 1), "0000000000000001-0000000000000001.wal");
  EXPECT_EQ(wal_segment_name(0x2a, 0x3e9), "000000000000002a-00000000000003e9.wal");
}

TEST_F(WalTest, ReplaysAppendedRecordsAfterReopen) {
  {
    auto wal = open();
    wal->append_entries(make_entries(1, 4, 1));
    wal->append_hard_state({1, 2, 3});
    wal->append_entries(make_entries(4, 6, 1));
    wal->sync();
  }
  auto wal = open();
  EXPECT_EQ(wal->replayed().entries, make_entries(1, 6, 1));
  EXPECT_EQ(wal->replayed().hard_state, (HardState{1, 2, 3}));
  EXPECT_EQ(wal->replayed().repaired_bytes, 0u) << "a clean close needs no repair";
}

TEST_F(WalTest, LatestHardStateWins) {
  {
    auto wal = open();
    for (uint64_t t = 1; t <= 5; ++t) wal->append_hard_state({t, t % 3, t});
    wal->sync();
  }
  EXPECT_EQ(open()->replayed().hard_state, (HardState{5, 2, 5}));
}

TEST_F(WalTest, AppendAtLowerIndexReplacesSuffixOnReplay) {
  {
    auto wal = open();
    wal->append_entries(make_entries(1, 8, 1));
    wal->append_entries(make_entries(5, 7, 2));  // a new leader replaced 5.. with its own
    wal->sync();
  }
  auto expected = make_entries(1, 5, 1);
  for (auto& e : make_entries(5, 7, 2)) expected.push_back(e);
  EXPECT_EQ(open()->replayed().entries, expected) << "entry 7 of term 1 must not come back";
}

TEST_F(WalTest, AppendRejectsAGap) {
  auto wal = open();
  wal->append_entries(make_entries(1, 3, 1));
  EXPECT_THROW(wal->append_entries(make_entries(5, 6, 1)), std::invalid_argument);
  auto not_consecutive = make_entries(3, 5, 1);
  not_consecutive[1].index = 7;
  EXPECT_THROW(wal->append_entries(not_consecutive), std::invalid_argument);
  wal->sync();
  wal.reset();
  EXPECT_EQ(open()->replayed().entries.size(), 2u) << "a rejected batch writes nothing";
}

TEST_F(WalTest, RotatesAtTheSegmentSize) {
  {
    auto wal = open();
    for (uint64_t i = 1; i <= 100; ++i) {
      wal->append_entries(make_entries(i, i + 1, 1, std::string(200, 'r')));
    }
    wal->sync();
    EXPECT_GE(wal->segments().size(), 5u) << "100 x ~230 bytes in 4 KiB segments";
    auto names = wal->segments();
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end())) << "names sort in log order";
  }
  EXPECT_EQ(open()->replayed().entries, make_entries(1, 101, 1, std::string(200, 'r')));
}

TEST_F(WalTest, NewSegmentsArePreallocatedAndOldOnesTrimmed) {
  auto wal = open();
  for (uint64_t i = 1; i <= 40; ++i) {
    wal->append_entries(make_entries(i, i + 1, 1, std::string(200, 'r')));
  }
  wal->sync();
  auto names = wal->segments();
  ASSERT_GE(names.size(), 2u);
  EXPECT_EQ(fs.contents("wal/" + names.back()).size(), 4096u) << "the last segment is preallocated";
  std::string first = fs.contents("wal/" + names.front());
  EXPECT_LT(first.size(), 4096u) << "a finished segment is cut at its last record";
  EXPECT_NE(first.back(), '\0');
}

TEST_F(WalTest, HugeRecordGetsItsOwnSegment) {
  std::string big(3 << 20, 'B');  // far above the segment size
  {
    auto wal = open();
    wal->append_entries(make_entries(1, 3, 1));
    wal->append_entries(make_entries(3, 4, 1, big));
    wal->append_entries(make_entries(4, 5, 1));
    wal->sync();
    EXPECT_EQ(wal->segments().size(), 3u) << "entries 1-2, the huge entry 3, entry 4";
  }
  auto replayed = open()->replayed().entries;
  ASSERT_EQ(replayed.size(), 4u);
  EXPECT_EQ(replayed[2].data, big);
}

TEST_F(WalTest, ASegmentHoldingOnlyItsHeaderRecordsIsNeverRotated) {
  std::string big(10000, 'B');
  {
    SimFileSystem other;
    auto wal = Wal::open(other, "wal", small());
    wal->append_entries(make_entries(1, 2, 1, big));
    EXPECT_EQ(wal->segments().size(), 1u)
        << "a new segment holds only its header records (the header and the hard state): a big "
           "record goes in whole, rather than leave a segment with nothing in it behind";
  }
  open().reset();  // a new WAL, closed: segment 1 holds its header records only
  {
    auto wal = open();
    wal->append_entries(make_entries(1, 2, 1, big));
    EXPECT_EQ(wal->segments().size(), 1u) << "the same after a reopen";
    wal->sync();
  }
  auto wal = open();
  wal->append_entries(make_entries(2, 3, 1, big));
  EXPECT_EQ(wal->segments().size(), 2u) << "segment 1 holds entry 1 as well: entry 2 goes on";
}

TEST_F(WalTest, ARecordThatExactlyFillsTheSegmentStaysInIt) {
  auto wal = open(WalOptions{4096, false});
  wal->append_entries(make_entries(1, 2, 1));
  uint64_t used = fs.contents("wal/" + wal->segments()[0]).size();
  // An entry whose record takes exactly the bytes left.
  Entry e{2, 1, EntryType::kNormal, ""};
  while (kRecordHeaderBytes + encode_value(e).size() < 4096 - used) e.data.push_back('x');
  ASSERT_EQ(kRecordHeaderBytes + encode_value(e).size(), 4096 - used);
  wal->append_entries(std::vector<Entry>{e});
  EXPECT_EQ(wal->segments().size(), 1u) << "rotate only when a write would go past the size";
  wal->append_entries(make_entries(3, 4, 1));
  EXPECT_EQ(wal->segments().size(), 2u);
}

TEST_F(WalTest, AppendsAtOrBelowTheBaseAreRefused) {
  auto wal = open();
  wal->append_entries({});  // nothing: fine
  wal->append_entries(make_entries(1, 11, 1));
  wal->append_snapshot({6, 1});
  EXPECT_THROW(wal->append_entries(make_entries(6, 7, 2)), std::invalid_argument)
      << "the snapshot covers 6: the log starts at 7";
  EXPECT_THROW(wal->append_entries(make_entries(5, 6, 2)), std::invalid_argument);
  wal->append_entries(make_entries(7, 8, 2));  // a new leader's 7 replaces 7..10
  wal->sync();
  wal.reset();
  EXPECT_EQ(open()->replayed().entries, make_entries(7, 8, 2));
}

TEST_F(WalTest, InstalledSnapshotWithNothingAfterItLeavesAnEmptyLog) {
  {
    auto wal = open();
    wal->append_entries(make_entries(1, 11, 1));
    wal->append_snapshot({6, 3});  // term 3 at 6: not this log's entry
    EXPECT_THROW(wal->append_entries(make_entries(8, 9, 3)), std::invalid_argument)
        << "the snapshot replaced the log: it ends at 6 now, and 8 would leave a gap";
    wal->sync();
  }
  auto wal = open();
  EXPECT_TRUE(wal->replayed().entries.empty())
      << "a snapshot that replaced the log drops every entry, those after it included";
  EXPECT_EQ(wal->replayed().base_index, 6u);
}

TEST_F(WalTest, AMarkerAtTheBaseChangesNothing) {
  {
    auto wal = open();
    wal->append_entries(make_entries(1, 11, 1));
    wal->append_snapshot({6, 1});
    wal->append_snapshot({6, 1});  // the same snapshot recorded again
    wal->sync();
  }
  EXPECT_EQ(open()->replayed().entries, make_entries(7, 11, 1))
      << "a marker at the base covers nothing new: the entries after it stay";
}

TEST_F(WalTest, AMarkerBeyondTheLogThatStartsASegmentReplays) {
  {
    auto wal = open(WalOptions{600, true});
    wal->append_entries(make_entries(1, 5, 1, std::string(150, 'a')));  // fills segment 1
    wal->append_snapshot({20, 5});  // installed beyond the log; its record starts segment 2
    ASSERT_EQ(wal->segments().size(), 2u);
    wal->append_entries(make_entries(21, 23, 5));
    wal->sync();
  }
  auto wal = open(WalOptions{600, true});
  EXPECT_EQ(wal->replayed().base_index, 20u);
  EXPECT_EQ(wal->replayed().entries, make_entries(21, 23, 5))
      << "segment 2 starts at index 5 (one past the log when it was made), not 21: the marker "
         "it holds moves the base only when replay reaches it";
}

TEST_F(WalTest, ReleaseRemovesASegmentWhoseSuccessorStartsAtTheIndex) {
  auto wal = open();
  for (uint64_t i = 1; i <= 40; ++i) {
    wal->append_entries(make_entries(i, i + 1, 1, std::string(200, 'r')));
  }
  wal->append_snapshot({39, 1});
  wal->sync();
  auto names = wal->segments();
  ASSERT_GE(names.size(), 3u);
  // Segment 2 starts at index n: release_before(n) removes segment 1, and only it.
  uint64_t n = std::stoull(names[1].substr(17, 16), nullptr, 16);
  wal->release_before(n);
  EXPECT_EQ(wal->segments(), std::vector<std::string>(names.begin() + 1, names.end()));
}

TEST_F(WalTest, ZeroLengthEntriesSurvive) {
  {
    auto wal = open();
    std::vector<Entry> empty_data = make_entries(1, 4, 1);
    for (auto& e : empty_data) e.data.clear();
    wal->append_entries(empty_data);
    wal->sync();
  }
  auto replayed = open()->replayed().entries;
  ASSERT_EQ(replayed.size(), 3u);
  EXPECT_TRUE(replayed[1].data.empty());
}

TEST_F(WalTest, SnapshotMarkerDropsCoveredEntriesOnReplay) {
  {
    auto wal = open();
    wal->append_entries(make_entries(1, 11, 2));
    wal->append_snapshot({6, 2});
    wal->sync();
  }
  auto wal = open();
  EXPECT_EQ(wal->replayed().entries, make_entries(7, 11, 2));
  EXPECT_EQ(wal->replayed().base_index, 6u);
  ASSERT_EQ(wal->replayed().snapshots.size(), 1u);
  EXPECT_EQ(wal->replayed().snapshots[0], (SnapshotMark{6, 2}));
}

TEST_F(WalTest, InstalledSnapshotDropsADisagreeingLog) {
  {
    auto wal = open();
    wal->append_entries(make_entries(1, 11, 1));
    wal->append_snapshot({6, 3});  // term 3 at 6: the leader's history, not this log's
    wal->append_entries(make_entries(7, 9, 3));
    wal->sync();
  }
  auto wal = open();
  EXPECT_EQ(wal->replayed().entries, make_entries(7, 9, 3))
      << "entries 7..10 of term 1 must not come back after an installed snapshot";
}

TEST_F(WalTest, ReleaseRemovesOnlyWhollyCoveredSegments) {
  auto wal = open();
  for (uint64_t i = 1; i <= 100; ++i) {
    wal->append_entries(make_entries(i, i + 1, 1, std::string(200, 'r')));
  }
  wal->append_hard_state({1, 1, 100});
  wal->append_snapshot({60, 1});
  wal->sync();
  size_t before = wal->segments().size();
  wal->release_before(61);
  auto after = wal->segments();
  EXPECT_LT(after.size(), before);
  EXPECT_FALSE(after.empty());
  for (const auto& name : fs.list("wal")) {
    EXPECT_NE(std::find(after.begin(), after.end(), name), after.end())
        << name << " should be gone";
  }
  wal.reset();
  auto reopened = open();
  EXPECT_EQ(reopened->replayed().entries, make_entries(61, 101, 1, std::string(200, 'r')));
  EXPECT_EQ(reopened->replayed().hard_state, (HardState{1, 1, 100}))
      << "the hard state must survive the release of the segment that held it";
}

TEST_F(WalTest, EntriesBelowTheBaseOfAReleasedLogStayDropped) {
  {
    auto wal = open();
    wal->append_entries(make_entries(1, 11, 1, std::string(350, 'a')));
    // A new leader's 8..12, in one write that does not fit: segment 2 starts at index 11.
    wal->append_entries(make_entries(8, 13, 2, std::string(350, 'b')));
    wal->append_snapshot({12, 2});
    wal->sync();
    wal->release_before(13);
    ASSERT_EQ(wal->segments(), std::vector<std::string>{wal_segment_name(2, 11)});
    wal->append_entries(make_entries(13, 15, 2));
    wal->sync();
  }
  auto wal = open();
  EXPECT_EQ(wal->replayed().base_index, 12u);
  EXPECT_EQ(wal->replayed().entries, make_entries(13, 15, 2))
      << "replay starts at segment 2 (base 10); its records of entries 8..10 lie at or below "
         "that base and must not come back, nor survive the marker at 12";
}

TEST_F(WalTest, AReplayedOverwriteAtOrBelowTheBaseEndsTheLogAtTheBase) {
  {
    auto wal = open();
    wal->append_entries(make_entries(1, 11, 1, std::string(350, 'a')));
    // 11..12 do not fit: segment 2 starts at index 11 (replay's base 10 once segment 1 goes).
    wal->append_entries(make_entries(11, 13, 1, std::string(350, 'a')));
    wal->append_entries(make_entries(9, 11, 2));  // a new leader's 9..10 replace 9..12
    wal->append_snapshot({10, 2});
    wal->sync();
    wal->release_before(11);
    ASSERT_EQ(wal->segments(), std::vector<std::string>{wal_segment_name(2, 11)});
  }
  auto wal = open();
  EXPECT_EQ(wal->replayed().base_index, 10u);
  EXPECT_TRUE(wal->replayed().entries.empty());
  EXPECT_THROW(wal->append_entries(make_entries(12, 13, 3)), std::invalid_argument)
      << "replay read 11..12 and then 9..10, which replace them: the log ends at 10, and an "
         "append at 12 would leave a gap";
  wal->append_entries(make_entries(11, 12, 3));
  wal->sync();
  wal.reset();
  EXPECT_EQ(open()->replayed().entries, make_entries(11, 12, 3));
}

TEST_F(WalTest, ReleasedSegmentsStayGoneAfterACrash) {
  auto wal = open();
  for (uint64_t i = 1; i <= 60; ++i) {
    wal->append_entries(make_entries(i, i + 1, 1, std::string(200, 'r')));
  }
  wal->append_snapshot({50, 1});
  wal->sync();
  wal->release_before(51);
  auto kept = wal->segments();
  wal.reset();
  fs.crash(1, CrashMode::kDropUnsynced);
  EXPECT_EQ(fs.list("wal"), kept) << "release_before syncs the directory: the removals are durable";
}

TEST_F(WalTest, ReleaseNeverRemovesTheLastSegment) {
  auto wal = open();
  wal->append_entries(make_entries(1, 5, 1));
  wal->append_snapshot({4, 1});
  wal->sync();
  wal->release_before(1000);
  EXPECT_EQ(wal->segments().size(), 1u);
}

TEST_F(WalTest, AppendsAfterReopenContinueTheLog) {
  for (uint64_t round = 0; round < 5; ++round) {
    auto wal = open();
    wal->append_entries(make_entries(round * 10 + 1, round * 10 + 11, round + 1));
    wal->sync();
  }
  auto replayed = open()->replayed().entries;
  ASSERT_EQ(replayed.size(), 50u);
  EXPECT_EQ(replayed.back().term, 5u);
}

TEST(WalOnRealDisk, ReplaysAfterReopen) {
  std::string dir =
      (std::filesystem::temp_directory_path() / ("etcdlab-lab1-" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(dir);
  PosixFileSystem fs;
  {
    auto wal = Wal::open(fs, dir, {8192, true});
    for (uint64_t i = 1; i <= 200; ++i) {
      wal->append_entries(make_entries(i, i + 1, 1, std::string(100, 'd')));
    }
    wal->append_hard_state({1, 1, 200});
    wal->sync();
  }
  auto wal = Wal::open(fs, dir, {8192, true});
  EXPECT_EQ(wal->replayed().entries.size(), 200u);
  EXPECT_EQ(wal->replayed().hard_state.commit, 200u);
  wal.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace etcdlab::lab1
