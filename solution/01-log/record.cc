// Reference implementation of lab 1, part B: record framing (see record.h for the format).
#include "etcdlab/log/record.h"

#include <algorithm>

#include "etcdlab/broken.h"
#include "etcdlab/codec.h"
#include "etcdlab/crc32c.h"

namespace etcdlab {
namespace {

uint32_t load32(std::string_view b, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<uint32_t>(static_cast<uint8_t>(b[at + i])) << (8 * i);
  }
  return v;
}

uint32_t header_check(std::string_view first_five) {
  return crc32c(first_five) & 0xffffff;
}

RecordRead problem(RecordRead::Status status, std::string what) {
  RecordRead r;
  r.status = status;
  r.problem = std::move(what);
  return r;
}

}  // namespace

void append_record(std::string& out, RecordType type, std::string_view payload) {
  size_t start = out.size();
  Writer w(out);
  w.fixed32(static_cast<uint32_t>(payload.size()));
  out.push_back(static_cast<char>(type));
  uint32_t check = header_check(std::string_view(out).substr(start, 5));
  for (int i = 0; i < 3; ++i) out.push_back(static_cast<char>((check >> (8 * i)) & 0xff));
  if (ETCDLAB_BROKEN("header-check-four-bytes")) out.push_back(0);  // the bug: a 13-byte header
  uint32_t crc = crc32c(payload, crc32c(std::string_view(out).substr(start + 4, 1)));
  if (ETCDLAB_BROKEN("crc-without-type")) crc = crc32c(payload);
  w.fixed32(crc);
  out.append(payload);
}

bool all_zero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

bool has_unwritten_sector(std::string_view bytes, uint64_t offset) {
  uint64_t pos = 0;
  while (pos < bytes.size()) {
    uint64_t file_pos = offset + pos;
    uint64_t piece = std::min<uint64_t>(bytes.size() - pos, kSectorBytes - file_pos % kSectorBytes);
    if (all_zero(bytes.substr(pos, piece))) return true;
    pos += piece;
  }
  return false;
}

RecordRead read_record(std::string_view segment, uint64_t offset) {
  using S = RecordRead::Status;
  if (offset >= segment.size()) return problem(S::kEnd, "");
  std::string_view rest = segment.substr(offset);
  if (rest.size() < kRecordHeaderBytes) {
    if (all_zero(rest) && !ETCDLAB_BROKEN("short-zero-tail-torn")) return problem(S::kEnd, "");
    return problem(S::kTorn, "record header cut short by the end of the file");
  }
  std::string_view header = rest.substr(0, kRecordHeaderBytes);
  if (all_zero(header)) return problem(S::kEnd, "");

  if (ETCDLAB_BROKEN("length-trusted-before-check") &&
      rest.size() - kRecordHeaderBytes < load32(header, 0)) {
    return problem(S::kTorn, "record runs past the end of the file");  // the bug: unchecked
  }
  // The bug: sector pieces measured from the record's start, not from the file's.
  uint64_t sector_base = ETCDLAB_BROKEN("sectors-from-record-start") ? 0 : offset;
  uint32_t check = static_cast<uint8_t>(header[5]) | (static_cast<uint8_t>(header[6]) << 8) |
                   (static_cast<uint32_t>(static_cast<uint8_t>(header[7])) << 16);
  if (check != header_check(header.substr(0, 5))) {
    if (has_unwritten_sector(header, sector_base)) {
      return problem(S::kTorn, "record header partly unwritten");
    }
    return problem(S::kCorrupt, "record header checksum mismatch");
  }
  uint64_t length = load32(header, 0);
  auto type = static_cast<uint8_t>(header[4]);
  if (type == 0 || type > kMaxRecordType) {
    return problem(S::kCorrupt, "unknown record type " + std::to_string(type));
  }
  if (length > kMaxRecordPayload) {
    return problem(S::kCorrupt, "record length " + std::to_string(length) + " over the limit");
  }
  if (rest.size() - kRecordHeaderBytes < length) {
    return problem(S::kTorn,
                   "record of " + std::to_string(length) + " bytes runs past the end of the file");
  }
  std::string_view payload = rest.substr(kRecordHeaderBytes, length);
  uint32_t crc = crc32c(payload, crc32c(header.substr(4, 1)));
  if (ETCDLAB_BROKEN("crc-without-type")) crc = crc32c(payload);
  if (crc != load32(header, 8)) {
    if (has_unwritten_sector(rest.substr(0, kRecordHeaderBytes + length), sector_base)) {
      return problem(S::kTorn, "record checksum mismatch over an unwritten sector");
    }
    return problem(S::kCorrupt, "record checksum mismatch");
  }
  RecordRead r;
  r.status = S::kOk;
  r.type = static_cast<RecordType>(type);
  r.payload = payload;
  r.next_offset = offset + kRecordHeaderBytes + length;
  return r;
}

}  // namespace etcdlab
