// Lab 1, part C (recovery): what the WAL repairs, what it refuses, and failed syncs.
#include <gtest/gtest.h>

#include "etcdlab/codec.h"
#include "etcdlab/errors.h"
#include "etcdlab/fs/sim_file_system.h"
#include "etcdlab/log/record.h"
#include "etcdlab/log/wal.h"
#include "log_test_util.h"
#include "power_cut_fs.h"

namespace etcdlab::lab1 {

class WalRecovery : public ::testing::Test {
 protected:
  std::unique_ptr<Wal> open(bool preallocate = true) {
    return Wal::open(fs, "wal", WalOptions{4096, preallocate});
  }
  // Writes entries [1, n] of `size` bytes each, one record per call, and syncs.
  void write_entries(uint64_t n, size_t size, bool preallocate = true) {
    auto wal = open(preallocate);
    for (uint64_t i = 1; i <= n; ++i) {
      wal->append_entries(make_entries(i, i + 1, 1, std::string(size, 'v')));
    }
    wal->sync();
  }
  std::string segment(size_t k) { return "wal/" + fs.list("wal").at(k); }
  // Offsets of the records of a segment, in order.
  std::vector<uint64_t> record_offsets(const std::string& path) {
    std::string data = fs.contents(path);
    std::vector<uint64_t> out;
    for (uint64_t at = 0;;) {
      RecordRead r = read_record(data, at);
      if (r.status != RecordRead::Status::kOk) break;
      out.push_back(at);
      at = r.next_offset;
    }
    return out;
  }
  // The records of a segment header for (sequence, first index), with extra bytes if asked.
  static std::string header_record(uint64_t sequence, uint64_t first_index,
                                   std::string extra = "") {
    std::string payload;
    Writer w(payload);
    w.bytes(kWalMagic);
    w.u64(kWalFormatVersion);
    w.u64(sequence);
    w.u64(first_index);
    payload += extra;
    std::string record;
    append_record(record, RecordType::kSegmentHeader, payload);
    return record;
  }
  void expect_corruption(const std::string& what, const std::string& path, uint64_t offset) {
    try {
      open();
      ADD_FAILURE() << what << ": recovery must stop";
    } catch (const CorruptionError& e) {
      EXPECT_EQ(e.path(), path) << what << ": " << e.what();
      EXPECT_EQ(e.offset(), offset) << what << ": " << e.what();
    }
  }
  SimFileSystem fs;
};

TEST_F(WalRecovery, TornTailInLastSegmentIsCutAndLogged) {
  write_entries(5, 700);  // each record spans two sectors
  std::string path = segment(0);
  uint64_t last = record_offsets(path).back();
  // The last record's second sector never reached the disk.
  uint64_t sector = (last / kSectorBytes + 1) * kSectorBytes;
  fs.corrupt(path, sector, std::string(kSectorBytes, '\0'));
  auto wal = open();
  EXPECT_EQ(wal->replayed().entries, make_entries(1, 5, 1, std::string(700, 'v')))
      << "the torn record (entry 5) is cut, everything before it kept";
  EXPECT_GT(wal->replayed().repaired_bytes, 0u) << "the repair is reported";
  EXPECT_EQ(fs.contents(path).size(), 4096u) << "the cut segment is preallocated again";
  wal->append_entries(make_entries(5, 6, 2));
  wal->sync();
  wal.reset();
  auto again = open();
  EXPECT_EQ(again->replayed().entries.back(), make_entries(5, 6, 2)[0])
      << "the repaired log takes new appends";
  EXPECT_EQ(again->replayed().repaired_bytes, 0u) << "a repaired log needs no second repair";
}

TEST_F(WalRecovery, TruncatedLastRecordIsCut) {
  write_entries(5, 300, /*preallocate=*/false);
  std::string path = segment(0);
  uint64_t last = record_offsets(path).back();
  fs.open(path)->truncate(last + 20);  // the crash hit in the middle of the last record
  auto wal = open(false);
  EXPECT_EQ(wal->replayed().entries.size(), 4u);
  EXPECT_EQ(fs.contents(path).size(), last) << "cut at the record; not preallocated (option off)";
}

TEST_F(WalRecovery, FlippedByteMidLogIsCorruptionNamingFileAndOffset) {
  write_entries(5, 700);
  std::string path = segment(0);
  uint64_t third = record_offsets(path).at(3);  // header record, hard state, then entries
  std::string bytes = fs.contents(path);
  fs.corrupt(path, third + 100, std::string(1, static_cast<char>(bytes[third + 100] ^ 0x04)));
  try {
    open();
    FAIL() << "a flipped byte before intact records must stop recovery";
  } catch (const CorruptionError& e) {
    EXPECT_EQ(e.path(), path) << e.what();
    EXPECT_EQ(e.offset(), third) << "the offset of the damaged record: " << e.what();
  }
}

TEST_F(WalRecovery, FlippedByteInOlderSegmentIsCorruption) {
  write_entries(60, 200);
  ASSERT_GE(fs.list("wal").size(), 2u);
  std::string path = segment(0);
  uint64_t at = record_offsets(path).back();
  fs.corrupt(path, at + 30, "X");
  EXPECT_THROW(open(), CorruptionError);
}

TEST_F(WalRecovery, TornRecordInOlderSegmentIsCorruption) {
  write_entries(60, 200);
  std::string path = segment(0);
  std::string data = fs.contents(path);
  fs.open(path)->truncate(data.size() - 5);  // only the last segment may end in a torn record
  EXPECT_THROW(open(), CorruptionError);
}

TEST_F(WalRecovery, MissingSegmentIsCorruption) {
  write_entries(80, 200);
  ASSERT_GE(fs.list("wal").size(), 3u);
  fs.remove(segment(1));
  EXPECT_THROW(open(), CorruptionError) << "a gap in the sequence numbers loses entries";
}

TEST_F(WalRecovery, UnknownFormatVersionIsRefused) {
  write_entries(2, 10);
  std::string path = segment(0);
  std::string payload;
  Writer w(payload);
  w.bytes(kWalMagic);
  w.u64(99);  // a future format
  w.u64(1);
  w.u64(1);
  std::string record;
  append_record(record, RecordType::kSegmentHeader, payload);
  fs.corrupt(path, 0, record);  // same length as the original header record
  try {
    open();
    FAIL() << "a version this build cannot read must be refused";
  } catch (const CorruptionError& e) {
    EXPECT_EQ(e.offset(), 0u);
    EXPECT_NE(std::string(e.what()).find("version"), std::string::npos) << e.what();
  }
}

TEST_F(WalRecovery, IndexGapIsCorruption) {
  write_entries(3, 10, /*preallocate=*/false);
  std::string record;
  append_record(record, RecordType::kEntry, encode_value(make_entries(5, 6, 1)[0]));
  auto f = fs.open(segment(0));
  uint64_t at = f->size();
  f->append(record);
  f->sync();
  try {
    open(false);
    FAIL() << "entry 5 after entry 3 is a hole in the log";
  } catch (const CorruptionError& e) {
    EXPECT_EQ(e.offset(), at) << e.what();
  }
}

TEST_F(WalRecovery, UnknownRecordTypeIsCorruption) {
  write_entries(3, 10, /*preallocate=*/false);
  std::string record;
  append_record(record, static_cast<RecordType>(77), "future");
  auto f = fs.open(segment(0));
  f->append(record);
  f->append(std::string(kRecordHeaderBytes, '\0'));
  f->sync();
  EXPECT_THROW(open(false), CorruptionError);
}

TEST_F(WalRecovery, FailedSyncPoisonsTheWal) {
  auto wal = open();
  wal->append_entries(make_entries(1, 3, 1));
  wal->sync();
  wal->append_entries(make_entries(3, 5, 1));
  fs.fail_syncs("wal/");
  EXPECT_THROW(wal->sync(), IoError);
  EXPECT_THROW(wal->append_entries(make_entries(5, 6, 1)), IoError)
      << "after a failed fsync the WAL must refuse everything: the process has to restart";
  EXPECT_THROW(wal->sync(), IoError) << "a retried fsync must not report success";
  EXPECT_THROW(wal->release_before(2), IoError)
      << "release_before must refuse too: the marker it relies on may not be durable";
  wal.reset();
  fs.crash(1, CrashMode::kDropUnsynced);
  EXPECT_EQ(open()->replayed().entries, make_entries(1, 3, 1))
      << "what the failed sync covered is not durable; what came before is";
}

TEST_F(WalRecovery, ACutIsSyncedBeforeTheWalIsUsed) {
  write_entries(5, 700);
  std::string path = segment(0);
  uint64_t last = record_offsets(path).back();
  fs.corrupt(path, (last / kSectorBytes + 1) * kSectorBytes, std::string(kSectorBytes, '\0'));
  ASSERT_GT(open()->replayed().repaired_bytes, 0u);
  fs.crash(1, CrashMode::kDropUnsynced);  // right after the repair, before anything else
  EXPECT_EQ(open()->replayed().repaired_bytes, 0u)
      << "the torn bytes came back after a crash: the truncation that cut them was not synced";
}

TEST_F(WalRecovery, TornRecordInAnOlderSegmentIsCorruptionEvenWithoutAnIndexGap) {
  {
    auto wal = open();
    for (uint64_t i = 1; i <= 5; ++i) {
      wal->append_entries(make_entries(i, i + 1, 1, std::string(300, 'v')));
    }
    wal->append_hard_state({1, 1, 5});  // the last record of segment 1
    wal->append_entries(make_entries(6, 7, 1, std::string(3000, 'w')));  // does not fit: segment 2
    wal->sync();
  }
  ASSERT_EQ(fs.list("wal").size(), 2u);
  std::string path = segment(0);
  uint64_t last = record_offsets(path).back();
  ASSERT_EQ(read_record(fs.contents(path), last).type, RecordType::kHardState);
  fs.open(path)->truncate(last + 5);
  EXPECT_THROW(open(), CorruptionError)
      << "segment 1 was synced before segment 2 was made, so a torn record there is damage to "
         "synced data (here a hard state: a vote), not a crash trace: it must not be cut";
}

TEST_F(WalRecovery, ZeroTailInAnOlderSegmentIsCorruption) {
  write_entries(60, 200);
  ASSERT_GE(fs.list("wal").size(), 2u);
  std::string path = segment(0);
  fs.corrupt(path, fs.contents(path).size(), std::string(600, '\0'));
  EXPECT_THROW(open(), CorruptionError)
      << "older segments are trimmed to their last record before the WAL moves on: zeros "
         "after it mean records that were synced are gone";
}

TEST_F(WalRecovery, SegmentHeaderMustMatchItsFileName) {
  write_entries(3, 10);
  fs.rename("wal/" + wal_segment_name(1, 1), "wal/" + wal_segment_name(1, 4));
  try {
    open();
    FAIL() << "the header says sequence 1, first index 1; the name says first index 4";
  } catch (const CorruptionError& e) {
    EXPECT_EQ(e.offset(), 0u) << e.what();
  }
}

TEST_F(WalRecovery, MissingSegmentWithoutAnIndexGapIsCorruption) {
  {
    auto wal = open();
    wal->append_entries(make_entries(1, 3, 1));
    // Hard states only: segments 2 and 3 both start at index 3.
    for (uint64_t t = 1; t <= 2000 && fs.list("wal").size() < 3; ++t) {
      wal->append_hard_state({t, 1, 2});
    }
    wal->sync();
  }
  ASSERT_EQ(fs.list("wal").size(), 3u);
  ASSERT_EQ(fs.list("wal")[1], wal_segment_name(2, 3));
  fs.remove(segment(1));
  EXPECT_THROW(open(), CorruptionError)
      << "sequence 2 is missing: no index is, but the hard states it held are lost; the "
         "sequence numbers must have no gaps";
}

// A fixed workload: appends that rotate through 2 KB segments, an overwrite, hard states,
// syncs, a snapshot marker and a release. The power is cut after every change it makes to the
// disk; each time, what open() recovers must be the state after some call between the last
// completed sync and the call that was cut, and the WAL must take appends again.
namespace {

struct WalCall {
  enum class Kind { kAppend, kHardState, kSync, kMark, kRelease } kind;
  std::vector<Entry> entries;
  HardState state;
  uint64_t index = 0, term = 0;
};

std::vector<WalCall> power_cut_workload() {
  using K = WalCall::Kind;
  std::vector<WalCall> calls;
  auto append = [&](uint64_t lo, uint64_t hi, uint64_t term) {
    calls.push_back({K::kAppend,
                     make_entries(lo, hi, term, std::string(400, static_cast<char>('a' + term))),
                     {}});
  };
  append(1, 4, 1);
  calls.push_back({K::kSync, {}, {}});
  calls.push_back({K::kHardState, {}, {1, 1, 2}});
  for (uint64_t i = 4; i <= 6; ++i) append(i, i + 1, 1);
  calls.push_back({K::kSync, {}, {}});
  append(5, 8, 2);  // a new leader replaces 5 and 6
  for (uint64_t i = 8; i <= 14; ++i) append(i, i + 1, 2);
  calls.push_back({K::kHardState, {}, {2, 2, 10}});
  calls.push_back({K::kSync, {}, {}});
  calls.push_back({K::kMark, {}, {}, 12, 2});
  calls.push_back({K::kSync, {}, {}});
  calls.push_back({K::kRelease, {}, {}, 13});
  for (uint64_t i = 15; i <= 18; ++i) append(i, i + 1, 2);
  calls.push_back({K::kSync, {}, {}});
  return calls;
}

// What replay must find after some calls (wal.h's rules; every marker here matches the log).
struct WalModel {
  std::vector<Entry> entries;
  uint64_t base = 0;
  HardState state;
  void apply(const WalCall& c) {
    switch (c.kind) {
      case WalCall::Kind::kAppend:
        for (const Entry& e : c.entries) {
          while (!entries.empty() && entries.back().index >= e.index) entries.pop_back();
          entries.push_back(e);
        }
        break;
      case WalCall::Kind::kHardState:
        state = c.state;
        break;
      case WalCall::Kind::kMark:
        while (!entries.empty() && entries.front().index <= c.index) entries.erase(entries.begin());
        base = std::max(base, c.index);
        break;
      default:
        break;
    }
  }
  bool matches(const WalContents& got) const {
    return got.entries == entries && got.hard_state == state && got.base_index == base;
  }
  std::string describe() const {
    return lab1::describe(entries) + " base=" + std::to_string(base) + " " + to_string(state);
  }
};

void run(Wal& wal, const WalCall& c) {
  switch (c.kind) {
    case WalCall::Kind::kAppend:
      wal.append_entries(c.entries);
      break;
    case WalCall::Kind::kHardState:
      wal.append_hard_state(c.state);
      break;
    case WalCall::Kind::kSync:
      wal.sync();
      break;
    case WalCall::Kind::kMark:
      wal.append_snapshot({c.index, c.term});
      break;
    case WalCall::Kind::kRelease:
      wal.release_before(c.index);
      break;
  }
}

}  // namespace

TEST_F(WalRecovery, PowerCutAfterEveryDiskChangeKeepsWhatWasSynced) {
  const WalOptions options{2048, true};
  const std::vector<WalCall> calls = power_cut_workload();
  std::vector<WalModel> models{WalModel{}};  // models[k]: after the first k calls
  for (const auto& c : calls) {
    models.push_back(models.back());
    models.back().apply(c);
  }
  size_t completed = 0;  // calls that returned before the cut
  size_t cuts = for_each_power_cut(
      [](SimFileSystem&) {},
      [&](FileSystem& cut_fs) {
        completed = 0;
        auto wal = Wal::open(cut_fs, "wal", options);
        for (const auto& c : calls) {
          run(*wal, c);
          completed++;
        }
      },
      [&](SimFileSystem& disk, const std::string&) {
        SCOPED_TRACE("the cut came during call " + std::to_string(completed + 1) + " of " +
                     std::to_string(calls.size()));
        size_t floor = 0;  // everything up to the last completed sync is durable
        for (size_t k = 0; k < completed; ++k) {
          if (calls[k].kind == WalCall::Kind::kSync) floor = k + 1;
        }
        std::unique_ptr<Wal> wal;
        ASSERT_NO_THROW(wal = Wal::open(disk, "wal", options))
            << "recovery must not fail after a power cut";
        const WalContents& got = wal->replayed();
        bool ok = false;
        for (size_t k = floor; k <= std::min(completed + 1, calls.size()) && !ok; ++k) {
          ok = models[k].matches(got);
        }
        ASSERT_TRUE(ok) << "recovered: " << describe(got.entries) << " base=" << got.base_index
                        << " " << to_string(got.hard_state)
                        << "\n  at least (last sync): " << models[floor].describe()
                        << "\n  at most:  "
                        << models[std::min(completed + 1, calls.size())].describe();
        Entry next{got.entries.empty() ? got.base_index + 1 : got.entries.back().index + 1, 9,
                   EntryType::kNormal, "after the cut"};
        wal->append_entries(std::vector<Entry>{next});
        wal->sync();
        wal.reset();
        EXPECT_EQ(Wal::open(disk, "wal", options)->replayed().entries.back(), next)
            << "the recovered WAL must take appends again";
      });
  EXPECT_GT(cuts, 40u) << "the workload rotates through several segments";
}

TEST_F(WalRecovery, SegmentNamesAreChecked) {
  for (const std::string bad :
       {"0000000000000001_0000000000000001.wal", "000000000000000g-0000000000000001.wal",
        "0000000000000001-0000000000000001a.wal"}) {
    SCOPED_TRACE(bad);
    fs = SimFileSystem();
    write_entries(3, 10);
    fs.rename(segment(0), "wal/" + bad);
    expect_corruption("a segment named " + bad, "wal/" + bad, 0);
  }
}

TEST_F(WalRecovery, FilesThatAreNotSegmentsAreLeftAlone) {
  write_entries(3, 10);
  fs.create("wal/README")->append("notes");
  EXPECT_EQ(open()->replayed().entries.size(), 3u);
  EXPECT_TRUE(fs.exists("wal/README"));
}

TEST_F(WalRecovery, EverySegmentStartsWithItsHeaderAndHasOnlyOne) {
  write_entries(3, 10, /*preallocate=*/false);
  std::string path = segment(0);
  std::string records = fs.contents(path);
  std::string entry;
  append_record(entry, RecordType::kEntry, encode_value(make_entries(1, 2, 1)[0]));
  fs.remove(path);
  fs.create(path)->append(entry + records);
  expect_corruption("a segment that starts with an entry", path, 0);

  fs.remove(path);
  fs.create(path)->append(records + header_record(1, 1));
  expect_corruption("a second segment header", path, records.size());

  fs.remove(path);
  fs.create(path)->append(header_record(1, 1, "x") + records.substr(header_record(1, 1).size()));
  expect_corruption("a segment header with bytes after its fields", path, 0);

  fs.remove(path);
  fs.create(path)->append(records);
  fs.create("wal/" + wal_segment_name(2, 4));  // an empty segment file
  expect_corruption("an empty segment", "wal/" + wal_segment_name(2, 4), 0);
}

TEST_F(WalRecovery, ReplayStartsAtTheBaseOfTheOldestSegment) {
  write_entries(60, 200);
  auto names = fs.list("wal");
  ASSERT_GE(names.size(), 3u);
  uint64_t first = std::stoull(names[1].substr(17, 16), nullptr, 16);
  fs.remove(segment(0));  // as if released
  auto wal = open();
  EXPECT_EQ(wal->replayed().base_index, first - 1)
      << "the oldest segment left starts at " << first << ": the log replayed starts there";
  ASSERT_FALSE(wal->replayed().entries.empty());
  EXPECT_EQ(wal->replayed().entries.front().index, first);
}

TEST_F(WalRecovery, HoleBetweenSegmentsIsCorruption) {
  write_entries(60, 200);
  auto names = fs.list("wal");
  ASSERT_GE(names.size(), 3u);
  uint64_t first = std::stoull(names[1].substr(17, 16), nullptr, 16);
  ASSERT_LT(first + 3, 128u) << "the header rewritten below keeps its length";
  // Segment 2 now claims to start 3 entries later, its name too: no sequence gap, no name
  // mismatch, but entries first .. first + 2 are nowhere.
  std::string path = "wal/" + names[1];
  fs.corrupt(path, 0, header_record(2, first + 3));
  std::string renamed = "wal/" + wal_segment_name(2, first + 3);
  fs.rename(path, renamed);
  expect_corruption("a hole between segment 1 and 2", renamed, 0);
}

TEST_F(WalRecovery, LeftoverTemporarySegmentIsRemoved) {
  write_entries(3, 10);
  fs.create("wal/0000000000000002-0000000000000004.wal.tmp")->append("half made");
  fs.sync_dir("wal");
  auto wal = open();
  EXPECT_EQ(wal->replayed().entries.size(), 3u);
  EXPECT_FALSE(fs.exists("wal/0000000000000002-0000000000000004.wal.tmp"));
  wal.reset();
  fs.crash(1, CrashMode::kDropUnsynced);
  EXPECT_FALSE(fs.exists("wal/0000000000000002-0000000000000004.wal.tmp"))
      << "the removal is made durable (a directory sync)";
}

TEST_F(WalRecovery, GarbageAfterAZeroHeaderInLastSegmentIsCut) {
  // A multi-record write whose first sector was lost while a later one landed: reading stops at
  // the zero header, and the stray bytes after it must not survive to be misread later.
  write_entries(3, 10);
  std::string path = segment(0);
  std::string data = fs.contents(path);
  uint64_t end = record_offsets(path).back();
  end = read_record(data, end).next_offset;
  std::string stray;
  append_record(stray, RecordType::kEntry, encode_value(make_entries(9, 10, 9)[0]));
  fs.corrupt(path, end + 2000, stray);
  auto wal = open();
  EXPECT_EQ(wal->replayed().entries.size(), 3u);
  EXPECT_GT(wal->replayed().repaired_bytes, 0u);
  wal.reset();
  EXPECT_EQ(fs.contents(path).find(stray), std::string::npos) << "the stray record is gone";
}

}  // namespace etcdlab::lab1
