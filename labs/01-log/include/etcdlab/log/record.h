#pragma once
// Lab 1, part B: how one WAL record is framed on disk, and how a reader tells a clean end, a torn
// write and real corruption apart.
//
// Record format (all integers little-endian):
//
//   offset size field
//   0      4    length        payload bytes (at most kMaxRecordPayload)
//   4      1    type          a RecordType; 0 never appears in a record
//   5      3    header_check  low 24 bits of crc32c(bytes 0..4): a damaged length is caught
//                             before it is trusted
//   8      4    crc           crc32c(type byte + payload)
//   12     n    payload
//
// Reading stops at the first record that is not whole and intact. What stopped it matters:
//   kEnd      no record starts here: the end of the file, or a header of twelve zero bytes (the
//             zero-filled preallocated tail of a segment).
//   kTorn     the record was being written when the machine stopped: its verified header says it
//             runs past the end of the file, fewer than 12 bytes remain, or its checksum fails and
//             some sector-aligned piece of it reads as all zeros (disks write 512-byte sectors
//             atomically; a sector that never reached the platter reads as zeros in a
//             preallocated file). Only the last segment may end this way; the WAL cuts it off.
//   kCorrupt  anything else: a checksum that fails with every sector written, an unknown type,
//             a length over the limit. Never repaired: the node must stop.
// The rule cannot tell every flipped bit from a torn write (a flip in a record that happens to
// hold a zero-filled sector looks torn); it errs toward "torn" only where a torn write would
// leave exactly that trace, as etcd's WAL does.
// The sector pieces are taken over the whole record, header included, cut at multiples of
// kSectorBytes of the file: a record that starts at offset 508 has a first piece of 4 bytes,
// [508, 512). If that piece (or any other) is all zero, a failed check reads as torn. With a
// failed header check, only the header's own 12 bytes are looked at (the length is not trusted).

#include <cstdint>
#include <string>
#include <string_view>

namespace etcdlab {

enum class RecordType : uint8_t {
  kSegmentHeader = 1,  // first record of every segment: magic, format version, sequence, index
  kEntry = 2,          // one Raft log entry (codec.h's Entry)
  kHardState = 3,      // Raft's term, vote and commit
  kSnapshot = 4,       // a snapshot was taken or installed at (index, term)
};
inline constexpr uint8_t kMaxRecordType = 4;
inline constexpr uint64_t kRecordHeaderBytes = 12;
inline constexpr uint64_t kMaxRecordPayload = 256ULL << 20;  // 256 MiB
inline constexpr uint64_t kSectorBytes = 512;

// Appends one framed record to `out`.
void append_record(std::string& out, RecordType type, std::string_view payload);

struct RecordRead {
  enum class Status { kOk, kEnd, kTorn, kCorrupt };
  Status status = Status::kEnd;
  RecordType type = RecordType::kEntry;  // kOk only
  std::string_view payload;              // kOk only; points into the bytes given to read_record
  uint64_t next_offset = 0;              // kOk: where the next record starts
  std::string problem;                   // kTorn/kCorrupt: what is wrong, for the error message
};

// Reads the record starting at `offset` of `segment` (a whole segment file's bytes; offsets
// are file offsets, which is what sector alignment is measured against).
RecordRead read_record(std::string_view segment, uint64_t offset);

// Whether the bytes at [offset, offset + bytes.size()) of a file contain a sector-aligned piece
// that is entirely zero: the trace of a sector that was never written.
bool has_unwritten_sector(std::string_view bytes, uint64_t offset);

// Whether every byte is zero.
bool all_zero(std::string_view bytes);

}  // namespace etcdlab
