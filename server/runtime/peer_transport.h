#pragma once
// Raft messages between members, over TCP. Each member listens on its peer URL; to each peer
// it keeps one outgoing connection (reconnected with backoff) fed by a bounded queue.
//
// Frames (integers little-endian):   u32 length | u32 crc32c(kind + payload) | u8 kind | payload
//   kind 1  hello            (the first frame of a connection) magic "etcdlab-peer", protocol
//                            version, cluster id, a hash of the cluster token, from, to
//   kind 2  message          a Raft message (codec.h)
//   kind 3  snapshot begin   a kSnapshot message and the payload's size; its chunks follow
//   kind 4  snapshot chunk   up to 64 KiB of the payload
//   kind 5  members request  instead of a hello: magic, protocol version, the token's hash;
//                            answered by one kind 6 frame, then the connection is closed
//   kind 6  members          what TransportHandlers::on_members_request returns (a member
//                            joining an existing cluster learns the cluster id and its own id)
//   kind 7  removed          the answer to a hello from a member removed from the cluster: it
//                            learns it was removed (it may have missed the entry) and stops
// A frame over the size limit, a bad checksum, an unknown kind, a hello from another cluster
// or a message whose sender is not the hello's: the connection is logged and dropped, and the
// member keeps serving. A snapshot's payload is streamed from the sender's snapshot file and
// staged in a file on the receiver; the message is delivered once the whole payload is there.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "etcdlab/log/log_storage.h"
#include "etcdlab/types.h"

namespace etcdlab::runtime {

struct TransportOptions {
  NodeId self = kNoNode;
  uint64_t cluster_id = 0;
  std::string cluster_token;
  std::string staging_dir;  // where incoming snapshot payloads are written
  size_t queue_limit = 8192;             // messages waiting per peer before we drop
  uint64_t max_frame_bytes = 64ULL << 20;
};

struct TransportHandlers {
  // A message arrived (for kSnapshot: staged_payload is the file holding its payload).
  std::function<void(Message m, const std::string& staged_payload)> on_message;
  std::function<void(NodeId peer)> on_unreachable;              // a message to it was dropped
  std::function<void(NodeId peer, bool ok)> on_snapshot_sent;   // a snapshot stream ended
  std::function<std::string()> on_members_request;              // kind 6's payload
  std::function<void(NodeId by)> on_removed;                    // a peer said we were removed
};

// Failpoints (--enable-failpoints): traffic to or from these members is dropped silently, as
// a partition would, and what is sent may be held back first.
struct PeerFaults {
  std::set<NodeId> drop_to;
  std::set<NodeId> drop_from;
  uint32_t delay_ms = 0;  // every outgoing message waits this long first
};

struct PeerStats {
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t messages_dropped = 0;
  uint64_t heartbeats_dropped = 0;  // of those, heartbeats dropped for a full send queue
  std::map<NodeId, uint64_t> sent_to;          // bytes, per peer
  std::map<NodeId, uint64_t> received_from;    // bytes, per peer
};

class PeerTransport {
 public:
  PeerTransport(boost::asio::io_context& io, TransportOptions options, TransportHandlers handlers);
  ~PeerTransport();

  uint16_t listen(const std::string& host, uint16_t port);
  void set_peer(NodeId id, const std::string& host, uint16_t port);
  void remove_peer(NodeId id);
  void send(Message m);
  void send_snapshot(Message m, std::shared_ptr<SnapshotReader> payload);
  PeerStats stats() const;
  void set_faults(PeerFaults faults);
  void set_removed(std::set<NodeId> removed);  // hellos from these are answered "removed"
  const PeerFaults& faults() const;
  void stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// Asks the member at host:port for the cluster's members (kind 5 and 6), waiting at most
// `timeout`; nullopt if it cannot be reached, is of another cluster token, or does not answer.
std::optional<std::string> fetch_members(const std::string& host, uint16_t port,
                                         const std::string& cluster_token,
                                         std::chrono::milliseconds timeout);

// Parses "http://host:port" (or "host:port"); throws std::invalid_argument.
std::pair<std::string, uint16_t> parse_host_port(const std::string& url);

}  // namespace etcdlab::runtime
