// Lab 1, part C (recovery): what the WAL repairs, what it refuses, and failed syncs.
#include <gtest/gtest.h>

#include "etcdlab/codec.h"
#include "etcdlab/errors.h"
#include "etcdlab/fs/sim_file_system.h"
#include "etcdlab/log/record.h"
#include "etcdlab/log/wal.h"
#include "log_test_util.h"

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
  wal.reset();
  fs.crash(1, CrashMode::kDropUnsynced);
  EXPECT_EQ(open()->replayed().entries, make_entries(1, 3, 1))
      << "what the failed sync covered is not durable; what came before is";
}

TEST_F(WalRecovery, LeftoverTemporarySegmentIsRemoved) {
  write_entries(3, 10);
  fs.create("wal/0000000000000002-0000000000000004.wal.tmp")->append("half made");
  auto wal = open();
  EXPECT_EQ(wal->replayed().entries.size(), 3u);
  EXPECT_FALSE(fs.exists("wal/0000000000000002-0000000000000004.wal.tmp"));
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
