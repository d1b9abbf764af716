#include "etcdlab/codec.h"

#include <cstring>

#include "etcdlab/errors.h"

namespace etcdlab {

void Writer::u64(uint64_t value) {
  while (value >= 0x80) {
    out_.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out_.push_back(static_cast<char>(value));
}

void Writer::bytes(std::string_view value) {
  u64(value.size());
  out_.append(value);
}

void Writer::fixed32(uint32_t value) {
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

void Writer::fixed64(uint64_t value) {
  for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint64_t Reader::u64(const char* field) {
  uint64_t value = 0;
  size_t start = pos_;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= in_.size()) throw DecodeError(std::string("truncated varint in ") + field, start);
    auto byte = static_cast<uint8_t>(in_[pos_++]);
    if (shift == 63 && byte > 1) {
      throw DecodeError(std::string("varint overflow in ") + field, start);
    }
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  throw DecodeError(std::string("varint too long in ") + field, start);
}

bool Reader::boolean(const char* field) {
  size_t start = pos_;
  uint64_t v = u64(field);
  if (v > 1) throw DecodeError(std::string("bad boolean in ") + field, start);
  return v == 1;
}

std::string_view Reader::bytes_view(const char* field) {
  size_t start = pos_;
  uint64_t length = u64(field);
  if (length > in_.size() - pos_) {
    throw DecodeError(std::string("length of ") + field + " runs past the end", start);
  }
  std::string_view out = in_.substr(pos_, length);
  pos_ += length;
  return out;
}

std::string Reader::bytes(const char* field) {
  return std::string(bytes_view(field));
}

uint32_t Reader::fixed32(const char* field) {
  if (in_.size() - pos_ < 4) throw DecodeError(std::string("truncated ") + field, pos_);
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<uint32_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
  }
  pos_ += 4;
  return v;
}

uint64_t Reader::fixed64(const char* field) {
  if (in_.size() - pos_ < 8) throw DecodeError(std::string("truncated ") + field, pos_);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
  }
  pos_ += 8;
  return v;
}

uint64_t Reader::count(const char* field, uint64_t min_element_bytes) {
  size_t start = pos_;
  uint64_t n = u64(field);
  // Each element takes at least min_element_bytes, so a count the rest cannot hold is a lie;
  // checking it here stops a hostile count from reserving gigabytes.
  if (min_element_bytes > 0 && n > (in_.size() - pos_) / min_element_bytes) {
    throw DecodeError(std::string("count of ") + field + " exceeds the bytes left", start);
  }
  return n;
}

void Reader::expect_done(const char* what) const {
  if (!done()) throw DecodeError(std::string("trailing bytes after ") + what, pos_);
}

namespace {

template <typename Enum>
Enum read_enum(Reader& r, const char* field, uint64_t max) {
  size_t start = r.offset();
  uint64_t v = r.u64(field);
  if (v > max) throw DecodeError(std::string("unknown value of ") + field, start);
  return static_cast<Enum>(v);
}

void encode_ids(Writer& w, const std::vector<NodeId>& ids) {
  w.u64(ids.size());
  for (NodeId id : ids) w.u64(id);
}

void decode_ids(Reader& r, std::vector<NodeId>& ids, const char* field) {
  uint64_t n = r.count(field, 1);
  ids.clear();
  ids.reserve(n);
  for (uint64_t i = 0; i < n; ++i) ids.push_back(r.u64(field));
}

}  // namespace

void encode(Writer& w, const Entry& e) {
  w.u64(e.index);
  w.u64(e.term);
  w.u64(static_cast<uint64_t>(e.type));
  w.bytes(e.data);
}

void decode(Reader& r, Entry& e) {
  e.index = r.u64("entry.index");
  e.term = r.u64("entry.term");
  e.type = read_enum<EntryType>(r, "entry.type", 1);
  e.data = r.bytes("entry.data");
}

void encode(Writer& w, const HardState& s) {
  w.u64(s.term);
  w.u64(s.vote);
  w.u64(s.commit);
}

void decode(Reader& r, HardState& s) {
  s.term = r.u64("hardstate.term");
  s.vote = r.u64("hardstate.vote");
  s.commit = r.u64("hardstate.commit");
}

void encode(Writer& w, const ConfState& c) {
  encode_ids(w, c.voters);
  encode_ids(w, c.learners);
}

void decode(Reader& r, ConfState& c) {
  decode_ids(r, c.voters, "confstate.voters");
  decode_ids(r, c.learners, "confstate.learners");
}

void encode(Writer& w, const ConfChange& c) {
  w.u64(static_cast<uint64_t>(c.type));
  w.u64(c.node_id);
  w.bytes(c.context);
}

void decode(Reader& r, ConfChange& c) {
  c.type = read_enum<ConfChange::Type>(r, "confchange.type", 3);
  c.node_id = r.u64("confchange.node_id");
  c.context = r.bytes("confchange.context");
}

void encode(Writer& w, const SnapshotMeta& m) {
  w.u64(m.index);
  w.u64(m.term);
  encode(w, m.conf);
}

void decode(Reader& r, SnapshotMeta& m) {
  m.index = r.u64("snapshot.index");
  m.term = r.u64("snapshot.term");
  decode(r, m.conf);
}

void encode(Writer& w, const Message& m) {
  w.u64(static_cast<uint64_t>(m.type));
  w.u64(m.to);
  w.u64(m.from);
  w.u64(m.term);
  w.u64(m.log_term);
  w.u64(m.index);
  w.u64(m.entries.size());
  for (const Entry& e : m.entries) encode(w, e);
  w.u64(m.commit);
  w.boolean(m.reject);
  w.u64(m.reject_hint);
  encode(w, m.snapshot);
  w.bytes(m.context);
}

void decode(Reader& r, Message& m) {
  size_t start = r.offset();
  uint64_t type = r.u64("message.type");
  if (type == 0 || type > kMaxMessageType) throw DecodeError("unknown message type", start);
  m.type = static_cast<MessageType>(type);
  m.to = r.u64("message.to");
  m.from = r.u64("message.from");
  m.term = r.u64("message.term");
  m.log_term = r.u64("message.log_term");
  m.index = r.u64("message.index");
  uint64_t n = r.count("message.entries", 4);
  m.entries.clear();
  m.entries.resize(n);
  for (Entry& e : m.entries) decode(r, e);
  m.commit = r.u64("message.commit");
  m.reject = r.boolean("message.reject");
  m.reject_hint = r.u64("message.reject_hint");
  decode(r, m.snapshot);
  m.context = r.bytes("message.context");
}

}  // namespace etcdlab
