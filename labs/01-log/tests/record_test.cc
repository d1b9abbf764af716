// Lab 1, part B: record framing and the three ways reading can stop (record.h).
#include "etcdlab/log/record.h"

#include <gtest/gtest.h>

#include "etcdlab/crc32c.h"

namespace etcdlab::lab1 {
namespace {
using Status = RecordRead::Status;

std::string framed(RecordType type, std::string_view payload) {
  std::string out;
  append_record(out, type, payload);
  return out;
}
}  // namespace

TEST(Record, HeaderLayoutIsExactlyAsSpecified) {
  std::string r = framed(RecordType::kEntry, "abc");
  ASSERT_EQ(r.size(), kRecordHeaderBytes + 3);
  EXPECT_EQ(r.substr(0, 4), std::string("\x03\0\0\0", 4)) << "length, little-endian";
  EXPECT_EQ(r[4], static_cast<char>(RecordType::kEntry)) << "type byte";
  uint32_t check = crc32c(r.substr(0, 5)) & 0xffffff;
  EXPECT_EQ(static_cast<uint8_t>(r[5]), check & 0xff) << "header check, low 24 bits";
  EXPECT_EQ(static_cast<uint8_t>(r[7]), (check >> 16) & 0xff);
  uint32_t crc = crc32c("abc", crc32c(r.substr(4, 1)));
  EXPECT_EQ(static_cast<uint8_t>(r[8]), crc & 0xff) << "crc32c(type + payload)";
  EXPECT_EQ(static_cast<uint8_t>(r[11]), crc >> 24);
  EXPECT_EQ(r.substr(12), "abc");
}

TEST(Record, ReadsBackWhatWasAppended) {
  std::string seg;
  append_record(seg, RecordType::kSegmentHeader, "head");
  append_record(seg, RecordType::kEntry, "");  // a zero-length payload is legal
  append_record(seg, RecordType::kHardState, std::string(3000, 'h'));
  RecordRead a = read_record(seg, 0);
  ASSERT_EQ(a.status, Status::kOk) << a.problem;
  EXPECT_EQ(a.type, RecordType::kSegmentHeader);
  EXPECT_EQ(a.payload, "head");
  RecordRead b = read_record(seg, a.next_offset);
  ASSERT_EQ(b.status, Status::kOk) << b.problem;
  EXPECT_EQ(b.payload, "");
  RecordRead c = read_record(seg, b.next_offset);
  ASSERT_EQ(c.status, Status::kOk) << c.problem;
  EXPECT_EQ(c.payload.size(), 3000u);
  EXPECT_EQ(c.next_offset, seg.size());
  EXPECT_EQ(read_record(seg, c.next_offset).status, Status::kEnd) << "the end of the file";
  EXPECT_EQ(read_record(seg, seg.size() + 100).status, Status::kEnd) << "and past it";
  std::string last_empty = framed(RecordType::kEntry, "");
  EXPECT_EQ(read_record(last_empty, 0).status, Status::kOk)
      << "a record with an empty payload is exactly 12 bytes; at the end of a file it is whole";
}

TEST(Record, ZeroFilledTailIsACleanEnd) {
  std::string seg = framed(RecordType::kEntry, "x");
  size_t end = seg.size();
  seg.resize(4096, '\0');  // a preallocated segment
  EXPECT_EQ(read_record(seg, end).status, Status::kEnd);
  std::string short_zero(5, '\0');
  EXPECT_EQ(read_record(short_zero, 0).status, Status::kEnd) << "fewer than 12 zero bytes";
}

TEST(Record, TruncatedRecordIsTorn) {
  std::string r = framed(RecordType::kEntry, std::string(100, 'p'));
  EXPECT_EQ(read_record(r.substr(0, 50), 0).status, Status::kTorn)
      << "a verified header whose payload runs past the end of the file";
  EXPECT_EQ(read_record(r.substr(0, 7), 0).status, Status::kTorn) << "a header cut short";
}

TEST(Record, UnwrittenSectorMakesABadChecksumTorn) {
  // A record spanning sectors 0-2; sector 1 never reached the disk (zeros).
  std::string seg = framed(RecordType::kEntry, std::string(1400, 'p'));
  std::fill(seg.begin() + 512, seg.begin() + 1024, '\0');
  RecordRead r = read_record(seg, 0);
  EXPECT_EQ(r.status, Status::kTorn) << r.problem;
}

TEST(Record, FlippedBitIsCorruption) {
  std::string seg = framed(RecordType::kEntry, std::string(1400, 'p'));
  seg[700] ^= 0x10;
  RecordRead r = read_record(seg, 0);
  EXPECT_EQ(r.status, Status::kCorrupt) << "every sector written, checksum wrong: " << r.problem;
  EXPECT_FALSE(r.problem.empty()) << "say what is wrong";
}

TEST(Record, DamagedLengthIsCaughtBeforeItIsTrusted) {
  std::string seg = framed(RecordType::kEntry, "abc") + framed(RecordType::kEntry, "def");
  seg[2] = 0x7f;  // the length now claims megabytes; the header check must catch it
  RecordRead r = read_record(seg, 0);
  EXPECT_EQ(r.status, Status::kCorrupt)
      << "a flipped length must not look like a record running past the end: " << r.problem;
}

TEST(Record, UnknownTypeIsCorruption) {
  std::string seg = framed(static_cast<RecordType>(9), "abc");
  EXPECT_EQ(read_record(seg, 0).status, Status::kCorrupt);
  EXPECT_EQ(read_record(framed(static_cast<RecordType>(0), "abc"), 0).status, Status::kCorrupt)
      << "type 0 never appears in a record";
}

TEST(Record, LengthAboveTheLimitIsCorruption) {
  // A header claiming `length` bytes, with a valid header check, and nothing after it.
  auto header = [](uint64_t length) {
    std::string h;
    for (int i = 0; i < 4; ++i) h.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
    h.push_back(static_cast<char>(RecordType::kEntry));
    uint32_t check = crc32c(h) & 0xffffff;
    for (int i = 0; i < 3; ++i) h.push_back(static_cast<char>((check >> (8 * i)) & 0xff));
    h.append(4, '\x01');  // some crc
    return h;
  };
  EXPECT_EQ(read_record(header(kMaxRecordPayload), 0).status, Status::kTorn)
      << "a length at the limit is allowed: the record just runs past the end of the file";
  EXPECT_EQ(read_record(header(kMaxRecordPayload + 1), 0).status, Status::kCorrupt)
      << "a length over the limit is never a record";
}

TEST(Record, ReadsAtAnyOffsetOfTheFile) {
  std::string seg(1000, 'z');
  size_t at = seg.size();
  append_record(seg, RecordType::kEntry, std::string(600, 'q'));  // crosses a sector boundary
  RecordRead r = read_record(seg, at);
  ASSERT_EQ(r.status, Status::kOk) << r.problem;
  EXPECT_EQ(r.next_offset, seg.size());
}

TEST(Record, TornRecordAtAnUnalignedOffsetIsFoundBySectorsOfTheFile) {
  // A record at file offset 1000 spans the file's sectors [1024, 1536) and [1536, 2048) whole;
  // [1536, 2048) never reached the disk. Measured from the record's start (0, 512, ...) no piece
  // of it is all zero, and the record would look corrupt instead of torn.
  std::string seg(1000, 'z');
  append_record(seg, RecordType::kEntry, std::string(1400, 'q'));
  std::fill(seg.begin() + 1536, seg.begin() + 2048, '\0');
  RecordRead r = read_record(seg, 1000);
  EXPECT_EQ(r.status, Status::kTorn) << "sector pieces start at multiples of 512 of the file, "
                                        "not of the record: "
                                     << r.problem;
}

TEST(Record, UnwrittenSectorsAreMeasuredByFileOffset) {
  // Bytes [500, 600) of a file: pieces [500, 512) and [512, 600).
  std::string bytes(100, 'x');
  EXPECT_FALSE(has_unwritten_sector(bytes, 500));
  std::fill(bytes.begin(), bytes.begin() + 12, '\0');
  EXPECT_TRUE(has_unwritten_sector(bytes, 500)) << "[500, 512) is a whole piece and all zero";
  EXPECT_FALSE(has_unwritten_sector(bytes, 496)) << "at 496 the first piece is [496, 512)";
  EXPECT_TRUE(all_zero(std::string(10, '\0')));
  EXPECT_FALSE(all_zero("a"));
  EXPECT_TRUE(all_zero(""));
}

}  // namespace etcdlab::lab1
