#pragma once
// What every fuzz target shares: a reader over the fuzzer's bytes (each target decides how to
// spend them) and the framing fix-ups that get inputs past the checksums. Targets use these to
// build well-framed files and streams around fuzzed contents; a byte of the input may still
// choose to damage the framing, so the checks themselves stay covered.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "etcdlab/codec.h"
#include "etcdlab/crc32c.h"

namespace etcdlab::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size)
      : data_(reinterpret_cast<const char*>(data), size) {}
  bool empty() const { return pos_ >= data_.size(); }
  uint8_t byte() { return empty() ? 0 : static_cast<uint8_t>(data_[pos_++]); }
  uint64_t number(int bytes) {  // little-endian, 0 past the end
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t{byte()} << (8 * i);
    return v;
  }
  bool flip() { return byte() & 1; }
  // Up to `max` bytes, as many as a length byte asks for.
  std::string_view take(size_t max) {
    size_t n = number(2) % (max + 1);
    n = std::min(n, data_.size() - std::min(pos_, data_.size()));
    std::string_view out = data_.substr(std::min(pos_, data_.size()), n);
    pos_ += n;
    return out;
  }
  std::string_view rest() {
    std::string_view out = data_.substr(std::min(pos_, data_.size()));
    pos_ = data_.size();
    return out;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

// A WAL record (labs/01-log record.h) framed by hand, so types the writer refuses are
// possible: length | type | header_check | crc | payload.
inline std::string wal_record(uint8_t type, std::string_view payload) {
  std::string out;
  Writer w(out);
  w.fixed32(static_cast<uint32_t>(payload.size()));
  out.push_back(static_cast<char>(type));
  uint32_t check = crc32c(std::string_view(out).substr(0, 5)) & 0xffffff;
  out.push_back(static_cast<char>(check & 0xff));
  out.push_back(static_cast<char>((check >> 8) & 0xff));
  out.push_back(static_cast<char>((check >> 16) & 0xff));
  std::string body(1, static_cast<char>(type));
  body.append(payload);
  w.fixed32(crc32c(body));
  out.append(payload);
  return out;
}

// Damages `bytes` as the input says: nothing (most inputs), or one byte flipped at a chosen
// offset, so the checksum paths are reached too.
inline void maybe_damage(FuzzInput& in, std::string& bytes) {
  uint8_t how = in.byte();
  if (bytes.empty() || how < 224) return;
  size_t at = in.number(4) % bytes.size();
  bytes[at] = static_cast<char>(bytes[at] ^ (1u << (how & 7)));
}

}  // namespace etcdlab::fuzz
