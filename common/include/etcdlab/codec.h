#pragma once
// The binary encoding of the shared types (types.h): WAL record payloads, snapshot metadata and
// peer messages all use it.
//
// Format. A value is a fixed sequence of fields, each written as:
//   unsigned integer   LEB128 varint (7 bits per byte, low group first, high bit = "more")
//   bool, enum         one varint
//   bytes / string     varint length, then the bytes
//   list               varint count, then the elements
// Fields have no tags: the order below is the format, and every top-level value starts with a
// version varint (kCodecVersion) so a future layout can be told apart. Decoding is strict: a
// truncated field, an overlong varint, a length past the end, an unknown enum value, an unknown
// version or trailing bytes all throw DecodeError with the offset of the fault.
//
//   Entry        = index term type data
//   HardState    = term vote commit
//   ConfState    = [voters] [learners]
//   ConfChange   = type node_id context
//   SnapshotMeta = index term ConfState
//   Message      = type to from term log_term index [Entry] commit reject reject_hint
//                  SnapshotMeta context
//
// Why not Protocol Buffers: the types are few and stable, students read them as plain structs,
// and a 200-line codec with strict errors is easier to read than generated code (see
// docs/architecture.md). The fuzz-style tests in common/tests/codec_test.cc keep it honest.

#include <cstdint>
#include <string>
#include <string_view>

#include "etcdlab/errors.h"
#include "etcdlab/types.h"

namespace etcdlab {

inline constexpr uint64_t kCodecVersion = 1;

// Appends fields to a byte string.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void u64(uint64_t value);
  void boolean(bool value) { u64(value ? 1 : 0); }
  void bytes(std::string_view value);
  void fixed32(uint32_t value);  // 4 bytes little-endian (record framing)
  void fixed64(uint64_t value);  // 8 bytes little-endian

 private:
  std::string& out_;
};

// Reads fields from a byte string; every read checks bounds and throws DecodeError.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  uint64_t u64(const char* field);
  bool boolean(const char* field);
  std::string bytes(const char* field);
  std::string_view bytes_view(const char* field);
  uint32_t fixed32(const char* field);
  uint64_t fixed64(const char* field);
  uint64_t count(const char* field, uint64_t min_element_bytes);  // a list length, sanity-checked
  size_t offset() const { return pos_; }
  bool done() const { return pos_ == in_.size(); }
  void expect_done(const char* what) const;  // throws if bytes remain

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

void encode(Writer& w, const Entry& entry);
void encode(Writer& w, const HardState& state);
void encode(Writer& w, const ConfState& conf);
void encode(Writer& w, const ConfChange& change);
void encode(Writer& w, const SnapshotMeta& meta);
void encode(Writer& w, const Message& message);

void decode(Reader& r, Entry& entry);
void decode(Reader& r, HardState& state);
void decode(Reader& r, ConfState& conf);
void decode(Reader& r, ConfChange& change);
void decode(Reader& r, SnapshotMeta& meta);
void decode(Reader& r, Message& message);

// Whole values with the version prefix; decode_* throw DecodeError on any fault.
template <typename T>
std::string encode_value(const T& value) {
  std::string out;
  Writer w(out);
  w.u64(kCodecVersion);
  encode(w, value);
  return out;
}

template <typename T>
T decode_value(std::string_view bytes, const char* what) {
  Reader r(bytes);
  uint64_t version = r.u64("version");
  if (version != kCodecVersion) {
    throw DecodeError(std::string(what) + ": unknown encoding version " + std::to_string(version),
                      0);
  }
  T value;
  decode(r, value);
  r.expect_done(what);
  return value;
}

}  // namespace etcdlab
