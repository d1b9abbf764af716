#include "peer_frames.h"

#include <fmt/format.h>

#include "etcdlab/codec.h"
#include "etcdlab/crc32c.h"
#include "etcdlab/errors.h"

namespace etcdlab::runtime::peer {

std::string encode_frame(FrameKind kind, std::string_view payload) {
  std::string body;
  body.reserve(1 + payload.size());
  body.push_back(static_cast<char>(kind));
  body.append(payload);
  std::string out;
  out.reserve(kFrameHeaderBytes + body.size());
  Writer w(out);
  w.fixed32(static_cast<uint32_t>(body.size()));
  w.fixed32(crc32c(body));
  out += body;
  return out;
}

void FrameDecoder::feed(std::string_view bytes) {
  // Taken bytes go before the buffer grows, so it holds at most one frame plus one read.
  if (start_ > 0 && (start_ == data_.size() || start_ >= data_.size() / 2)) {
    data_.erase(0, start_);
    start_ = 0;
  }
  data_.append(bytes);
}

std::optional<Frame> FrameDecoder::next() {
  if (data_.size() - start_ < kFrameHeaderBytes) return std::nullopt;
  Reader r(std::string_view(data_).substr(start_, kFrameHeaderBytes));
  uint32_t length = r.fixed32("frame length");
  uint32_t crc = r.fixed32("frame crc");
  if (length == 0 || length > max_frame_bytes_) {
    throw DecodeError(fmt::format("frame of {} bytes (limit {})", length, max_frame_bytes_),
                      consumed_);
  }
  if (data_.size() - start_ < kFrameHeaderBytes + length) return std::nullopt;
  std::string_view body = std::string_view(data_).substr(start_ + kFrameHeaderBytes, length);
  if (crc32c(body) != crc) throw DecodeError("frame checksum mismatch", consumed_);
  auto kind = static_cast<uint8_t>(body[0]);
  if (kind == 0 || kind > kMaxFrameKind) {
    throw DecodeError(fmt::format("unknown frame kind {}", kind), consumed_);
  }
  Frame f{static_cast<FrameKind>(kind), std::string(body.substr(1))};
  start_ += kFrameHeaderBytes + length;
  consumed_ += kFrameHeaderBytes + length;
  return f;
}

uint64_t token_hash(std::string_view token) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : token) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
  return h;
}

std::string encode_hello(const Hello& h) {
  std::string p;
  Writer w(p);
  w.bytes(kMagic);
  w.u64(h.version);
  w.u64(h.cluster);
  w.u64(h.token_hash);
  w.u64(h.from);
  w.u64(h.to);
  return p;
}

Hello decode_hello(std::string_view payload) {
  Reader r(payload);
  if (r.bytes_view("magic") != kMagic) throw DecodeError("not an etcdlab peer", 0);
  Hello h;
  h.version = r.u64("version");
  h.cluster = r.u64("cluster id");
  h.token_hash = r.u64("token");
  h.from = r.u64("from");
  h.to = r.u64("to");
  r.expect_done("hello");
  return h;
}

HelloVerdict judge_hello(const Hello& h, const ReceiverView& view) {
  if (h.version != kProtocolVersion) return HelloVerdict::kWrongVersion;
  if (h.cluster != view.cluster || h.token_hash != view.token_hash) {
    return HelloVerdict::kOtherCluster;
  }
  if (h.to != view.self) return HelloVerdict::kNotForUs;
  if (view.removed && view.removed->count(h.from)) return HelloVerdict::kRemoved;
  // The receiver itself is not a peer either: a message "from" us did not come from us.
  if (h.from == view.self || !view.members || !view.members->count(h.from)) {
    return HelloVerdict::kNotAMember;
  }
  return HelloVerdict::kAccept;
}

std::string_view to_string(HelloVerdict v) {
  switch (v) {
    case HelloVerdict::kAccept: return "accepted";
    case HelloVerdict::kWrongVersion: return "unknown peer protocol version";
    case HelloVerdict::kOtherCluster: return "belongs to another cluster (or token)";
    case HelloVerdict::kNotForUs: return "meant for another member";
    case HelloVerdict::kRemoved: return "was removed from the cluster";
    case HelloVerdict::kNotAMember: return "is not a member of the cluster";
  }
  return "?";
}

std::string encode_members_request(const MembersRequest& req) {
  std::string p;
  Writer w(p);
  w.bytes(kMagic);
  w.u64(req.version);
  w.u64(req.token_hash);
  w.u64(req.peer_urls.size());
  for (const auto& url : req.peer_urls) w.bytes(url);
  return p;
}

MembersRequest decode_members_request(std::string_view payload) {
  Reader r(payload);
  if (r.bytes_view("magic") != kMagic) throw DecodeError("not an etcdlab peer", 0);
  MembersRequest req;
  req.version = r.u64("version");
  if (req.version != kProtocolVersion) {
    throw DecodeError(fmt::format("unknown peer protocol version {}", req.version), r.offset());
  }
  req.token_hash = r.u64("token");
  uint64_t n = r.count("peer urls", 1);
  for (uint64_t i = 0; i < n; ++i) req.peer_urls.push_back(r.bytes("peer url"));
  r.expect_done("members request");
  return req;
}

std::string encode_snapshot_begin(uint64_t size, const Message& m) {
  std::string p;
  Writer w(p);
  w.u64(size);
  p += encode_value(m);
  return p;
}

SnapshotBegin decode_snapshot_begin(std::string_view payload) {
  Reader r(payload);
  SnapshotBegin b;
  b.size = r.u64("snapshot size");
  b.message = decode_value<Message>(payload.substr(r.offset()), "snapshot message");
  if (b.message.type != MessageType::kSnapshot) {
    throw DecodeError("snapshot begin without a snapshot message", r.offset());
  }
  return b;
}

// u64 from | u64 to | bytes data
std::string encode_node_message_frame(const NodeMessageFrame& m) {
  std::string p;
  Writer w(p);
  w.u64(m.from);
  w.u64(m.to);
  w.bytes(m.data);
  return p;
}

NodeMessageFrame decode_node_message_frame(std::string_view payload) {
  Reader r(payload);
  NodeMessageFrame m;
  m.from = r.u64("node message from");
  m.to = r.u64("node message to");
  m.data = r.bytes("node message");
  r.expect_done("node message frame");
  return m;
}

// u64 term | u64 index | bytes reason
std::string encode_snapshot_refused(const SnapshotRefused& r) {
  std::string p;
  Writer w(p);
  w.u64(r.term);
  w.u64(r.index);
  w.bytes(std::string_view(r.reason).substr(0, kMaxRefusalBytes));
  return p;
}

SnapshotRefused decode_snapshot_refused(std::string_view payload) {
  Reader r(payload);
  SnapshotRefused out;
  out.term = r.u64("refused snapshot term");
  out.index = r.u64("refused snapshot index");
  out.reason = r.bytes("refusal reason");
  r.expect_done("snapshot refused frame");
  return out;
}

}  // namespace etcdlab::runtime::peer
