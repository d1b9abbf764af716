#pragma once
// The peer protocol's bytes, without sockets: framing, the hello, the members request and the
// rules a receiver applies to a hello. The transport (peer_transport.h) does the I/O with these,
// and the fuzzer (fuzz/) drives them directly.
//
// Frames (integers little-endian):   u32 length | u32 crc32c(kind + payload) | u8 kind | payload
// `length` counts the kind byte and the payload (so it is never 0). See peer_transport.h for
// what each kind carries.
//
// Memory: FrameDecoder holds only bytes it was given. A header that claims 64 MiB costs
// nothing until 64 MiB arrive (the claim is checked against the limit first); a sender that
// claims a big frame and then stalls is cut off by the transport's read deadline.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "etcdlab/types.h"

namespace etcdlab::runtime::peer {

// Version 2: the members request names the asker's peer URLs (version 1 answered anyone), and
// node messages (kind 8), which a version 1 member would drop the connection for.
inline constexpr uint64_t kProtocolVersion = 2;
inline constexpr std::string_view kMagic = "etcdlab-peer";
inline constexpr size_t kFrameHeaderBytes = 8;

enum class FrameKind : uint8_t {
  kHello = 1,
  kMessage = 2,
  kSnapshotBegin = 3,
  kSnapshotChunk = 4,
  kMembersRequest = 5,
  kMembers = 6,
  kRemoved = 7,
  kNodeMessage = 8,
  kSnapshotRefused = 9,
};
inline constexpr uint8_t kMaxFrameKind = 9;

std::string encode_frame(FrameKind kind, std::string_view payload);

struct Frame {
  FrameKind kind = FrameKind::kHello;
  std::string payload;
};

// Cuts a byte stream into frames. feed() what the socket gave, then take frames with next()
// until it returns nullopt. Errors (DecodeError, with the stream offset): a length of 0 or
// over `max_frame_bytes`, a checksum mismatch, an unknown kind. After an error the stream is
// unusable (the transport drops the connection).
class FrameDecoder {
 public:
  explicit FrameDecoder(uint64_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}
  void feed(std::string_view bytes);
  std::optional<Frame> next();
  void set_max_frame_bytes(uint64_t limit) { max_frame_bytes_ = limit; }
  // Whether part of a frame is buffered: the peer is mid-frame (the transport then applies the
  // shorter mid-frame deadline).
  bool mid_frame() const { return start_ < data_.size(); }
  size_t buffered() const { return data_.size() - start_; }
  uint64_t consumed() const { return consumed_; }  // stream bytes of whole frames taken

 private:
  uint64_t max_frame_bytes_;
  std::string data_;   // grows only by what feed() was given
  size_t start_ = 0;   // first byte not yet taken
  uint64_t consumed_ = 0;
};

// FNV-1a of the cluster token: peers compare hashes, the token itself never travels.
uint64_t token_hash(std::string_view token);

// kind 1: the first frame of a connection a member dials.
struct Hello {
  uint64_t version = kProtocolVersion;
  uint64_t cluster = 0;
  uint64_t token_hash = 0;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  friend bool operator==(const Hello&, const Hello&) = default;
};
std::string encode_hello(const Hello& h);       // the payload
Hello decode_hello(std::string_view payload);    // DecodeError: bad magic, truncated, trailing

// What the receiver knows when it judges a hello.
struct ReceiverView {
  NodeId self = kNoNode;
  uint64_t cluster = 0;
  uint64_t token_hash = 0;
  const std::set<NodeId>* members = nullptr;  // the member list (the receiver excluded or not)
  const std::set<NodeId>* removed = nullptr;  // members removed from the cluster
};

enum class HelloVerdict {
  kAccept,
  kWrongVersion,
  kOtherCluster,   // another cluster id or token
  kNotForUs,       // addressed to another member id
  kRemoved,        // a removed member: answered kRemoved so it stops
  kNotAMember,     // an id that is not in the member list: dropped and counted
};
HelloVerdict judge_hello(const Hello& h, const ReceiverView& view);
std::string_view to_string(HelloVerdict v);

// kind 5: a member about to join asks for the cluster. It names its own peer URLs, and is
// answered only if the member list has a member with exactly those URLs (added with member
// add); the answer (kind 6) is what it needs to start: the cluster id and each member's id,
// name and peer URLs (no client URLs).
struct MembersRequest {
  uint64_t version = kProtocolVersion;
  uint64_t token_hash = 0;
  std::vector<std::string> peer_urls;
  friend bool operator==(const MembersRequest&, const MembersRequest&) = default;
};
std::string encode_members_request(const MembersRequest& r);
MembersRequest decode_members_request(std::string_view payload);

// kind 3: a snapshot's size and its message; the payload follows in kind 4 chunks.
struct SnapshotBegin {
  uint64_t size = 0;
  Message message;
};
std::string encode_snapshot_begin(uint64_t size, const Message& m);
SnapshotBegin decode_snapshot_begin(std::string_view payload);

// kind 8: a message between the members' nodes that is not Raft's (server::NodeMessage: a
// follower asks the leader to renew a lease or for its time to live). `data` is the node's
// encoding, opaque here; from and to are checked against the hello before the node sees it.
struct NodeMessageFrame {
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  std::string data;
  friend bool operator==(const NodeMessageFrame&, const NodeMessageFrame&) = default;
};
std::string encode_node_message_frame(const NodeMessageFrame& m);
NodeMessageFrame decode_node_message_frame(std::string_view payload);  // DecodeError

// kind 9: the receiver's answer, on the sender's own connection, to a snapshot whose payload
// failed its check (server/node/snapshot_check.h): which snapshot, and why (at most
// kMaxRefusalBytes, so it fits the sender's first-frame limit). A member of protocol version
// 2 without kind 9 drops the connection at it, which is what follows a refusal anyway.
inline constexpr size_t kMaxRefusalBytes = 1024;
struct SnapshotRefused {
  uint64_t term = 0;
  uint64_t index = 0;
  std::string reason;
  friend bool operator==(const SnapshotRefused&, const SnapshotRefused&) = default;
};
std::string encode_snapshot_refused(const SnapshotRefused& r);  // cuts the reason to the limit
SnapshotRefused decode_snapshot_refused(std::string_view payload);  // DecodeError

}  // namespace etcdlab::runtime::peer
