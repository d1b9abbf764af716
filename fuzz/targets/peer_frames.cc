// The peer protocol (server/runtime/peer_frames.h): a stream of frames with good lengths and
// checksums around fuzzed kinds and payloads (or raw bytes), fed to the decoder in fuzzed
// pieces; each frame decoded as the receiver would (hello and its verdict, a Raft message, a
// snapshot's begin, a members request, a node message and the node's bytes inside it).
// Errors are DecodeError; anything else is a finding.
#include "../fuzz_input.h"
#include "etcdlab/errors.h"
#include "kv_node.h"
#include "peer_frames.h"

using namespace etcdlab;
using namespace etcdlab::runtime::peer;

namespace {

void decode(const Frame& f) {
  static const std::set<NodeId> members = {1, 2, 3};
  static const std::set<NodeId> removed = {4};
  try {
    switch (f.kind) {
      case FrameKind::kHello: {
        Hello h = decode_hello(f.payload);
        ReceiverView view{2, 7, token_hash("t"), &members, &removed};
        (void)judge_hello(h, view);
        if (decode_hello(encode_hello(h)) != h) __builtin_trap();
        break;
      }
      case FrameKind::kMessage:
        (void)decode_value<Message>(f.payload, "peer message");
        break;
      case FrameKind::kSnapshotBegin:
        (void)decode_snapshot_begin(f.payload);
        break;
      case FrameKind::kMembersRequest: {
        MembersRequest r = decode_members_request(f.payload);
        if (decode_members_request(encode_members_request(r)) != r) __builtin_trap();
        break;
      }
      case FrameKind::kNodeMessage: {
        NodeMessageFrame m = decode_node_message_frame(f.payload);
        if (decode_node_message_frame(encode_node_message_frame(m)) != m) __builtin_trap();
        // What the receiving node decodes (NodeDriver::receive_node_message).
        (void)server::decode_node_message(m.data);
        break;
      }
      case FrameKind::kSnapshotRefused: {
        SnapshotRefused r = decode_snapshot_refused(f.payload);
        if (r.reason.size() <= kMaxRefusalBytes &&
            decode_snapshot_refused(encode_snapshot_refused(r)) != r) {
          __builtin_trap();
        }
        break;
      }
      default:
        break;
    }
  } catch (const DecodeError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput in(data, size);
  uint64_t limit = 1 + in.number(2) * 16;
  std::string stream;
  if (in.byte() < 32) {
    stream = std::string(in.rest());
  } else {
    while (!in.empty() && stream.size() < (1 << 20)) {
      uint8_t kind = in.byte() % (kMaxFrameKind + 2);  // 0 and kMaxFrameKind + 1 are not kinds
      stream += encode_frame(static_cast<FrameKind>(kind), in.take(512));
    }
  }
  fuzz::FuzzInput pieces(data, size);  // the same bytes choose where the stream is cut
  FrameDecoder decoder(limit);
  try {
    size_t at = 0;
    while (at < stream.size()) {
      size_t n = 1 + pieces.byte() % 97;
      decoder.feed(std::string_view(stream).substr(at, n));
      at += n;
      if (decoder.buffered() > stream.size()) __builtin_trap();  // only what arrived is held
      while (auto f = decoder.next()) decode(*f);
    }
  } catch (const DecodeError&) {
  }
  return 0;
}
