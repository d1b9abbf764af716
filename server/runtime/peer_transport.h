#pragma once
// Raft messages, and the nodes' own messages (lease questions for the leader), between
// members, over TCP. Each member listens on its peer URL; to each peer
// it keeps one outgoing connection (reconnected with backoff) fed by a bounded queue.
//
// Frames (peer_frames.h, integers little-endian):
//                        u32 length | u32 crc32c(kind + payload) | u8 kind | payload
//   kind 1  hello            (the first frame of a connection) magic "etcdlab-peer", protocol
//                            version, cluster id, a hash of the cluster token, from, to
//   kind 2  message          a Raft message (codec.h)
//   kind 3  snapshot begin   a kSnapshot message and the payload's size; its chunks follow
//   kind 4  snapshot chunk   up to 64 KiB of the payload
//   kind 5  members request  instead of a hello: magic, protocol version, the token's hash and
//                            the asker's peer URLs; answered by one kind 6 frame (only if a
//                            member has exactly those URLs), then the connection is closed
//   kind 6  members          what TransportHandlers::on_members_request returns (a member
//                            joining an existing cluster learns the cluster id and its own id)
//   kind 7  removed          the answer to a hello from a member removed from the cluster: it
//                            learns it was removed (it may have missed the entry) and stops
//   kind 8  node message     from, to and a server::NodeMessage's bytes (opaque here): a
//                            follower's lease keep-alive or time-to-live for the leader, and
//                            its answer
//   kind 9  snapshot refused the receiver's answer, on the sender's connection, to a snapshot
//                            whose payload failed its check: the snapshot's term and index and
//                            why; then the receiver closes the connection
// A frame over the size limit, a bad checksum, an unknown kind, a hello from another cluster
// or a message (Raft's or a node message) whose sender is not the hello's or that is not
// addressed to us: the connection is logged and dropped, and the member keeps serving. A hello
// or message from an id that is not in the member list (set_members) is dropped the same way
// and counted (PeerStats::unknown_senders): knowing the cluster token does not make one a
// member. Node messages obey the same limits, deadlines and failpoints as Raft's.
// Limits: a connection must send its first frame within handshake_timeout; after that every
// read must bring bytes within idle_timeout (a leader's links carry heartbeats; a link that is
// idle longer is closed, and its sender sees the close and redials for its next message). Frames are read into memory that grows
// with the bytes received, never with what a header claims. At most max_handshaking
// connections may be waiting for their first frame and max_incoming be open at once; past
// that new connections are closed at once (counted in PeerStats::connections_refused). A snapshot's payload is streamed from the sender's snapshot file and
// staged in a file on the receiver; the message is delivered once the whole payload is there
// and has passed TransportOptions::check_snapshot (issue 24: a payload the node cannot
// install would stop the member when Raft applies it). The check reads the whole payload, so
// it runs on a thread of its own, never on the io_context's (the node's) thread; meanwhile
// this connection is not read (what follows the snapshot keeps its order). A payload that
// fails is removed, never reaches the node, is counted (PeerStats::snapshots_refused) and
// logged with the peer and the reason, and the sender hears of it (kind 9): it logs the
// reason and reports the snapshot failed (TransportHandlers::on_snapshot_sent), and its Raft
// sends one again later.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "etcdlab/log/log_storage.h"
#include "etcdlab/types.h"

namespace etcdlab::runtime {

// The check a staged snapshot payload must pass before the node is told of it (the default
// of TransportOptions::check_snapshot): empty if the node can install it, otherwise why not
// (server/node/snapshot_check.h, with the part and payload offset). Reads the file at `path`.
std::string check_staged_snapshot(const std::string& path);

struct TransportOptions {
  NodeId self = kNoNode;
  uint64_t cluster_id = 0;
  std::string cluster_token;
  std::string staging_dir;  // where incoming snapshot payloads are written
  size_t queue_limit = 8192;             // messages waiting per peer before we drop
  uint64_t max_frame_bytes = 64ULL << 20;
  uint64_t max_first_frame_bytes = 4096;  // a hello or members request is tens of bytes
  std::chrono::milliseconds handshake_timeout{5000};
  std::chrono::milliseconds idle_timeout{30000};
  size_t max_handshaking = 64;
  size_t max_incoming = 1024;
  // Whether a new connection with this descriptor may be kept (descriptors.h); unset: any.
  std::function<bool(int fd)> descriptor_allowed;
  // TLS (https:// peer URLs, tls_context.h): what this member serves with (with
  // --peer-client-cert-auth, dialers must present a certificate of the cluster's CA fit for
  // clientAuth) and dials with (the server's must chain to the CA, be fit for serverAuth and
  // name the dialled host). The handshake comes before the hello, within handshake_timeout: a
  // refused peer is logged in one line and no frame of it reaches the node.
  std::shared_ptr<boost::asio::ssl::context> tls_server;
  std::shared_ptr<boost::asio::ssl::context> tls_client;
  // Run on the transport's checker thread for every staged snapshot (see the top); unset:
  // payloads are not checked (tests of the transport's own mechanics).
  std::function<std::string(const std::string& staged_path)> check_snapshot =
      check_staged_snapshot;
};

struct TransportHandlers {
  // A message arrived (for kSnapshot: staged_payload is the file holding its payload).
  std::function<void(Message m, const std::string& staged_payload)> on_message;
  std::function<void(NodeId peer)> on_unreachable;              // a message to it was dropped
  // A snapshot stream to `peer` ended (ok: all of it was written), or `peer` refused a
  // snapshot's payload afterwards (ok false, possibly after a true for the same snapshot;
  // Raft ignores a report for a follower that is no longer waiting for a snapshot).
  std::function<void(NodeId peer, bool ok)> on_snapshot_sent;
  // A node message (kind 8) from member `from` (the hello's id, which the frame repeats).
  std::function<void(NodeId from, std::string data)> on_node_message;
  // kind 6's payload for a joining member with these peer URLs; empty: no such member (the
  // request is refused).
  std::function<std::string(const std::vector<std::string>& peer_urls)> on_members_request;
  std::function<void(NodeId by)> on_removed;                    // a peer said we were removed
  // Asked for an id that is not in the member list: whether it may be one this member has
  // not applied yet (an addition in its log). Without it such ids are refused.
  std::function<bool(NodeId id)> may_be_member;
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
  uint64_t unknown_senders = 0;       // hellos and messages from ids not in the member list
  uint64_t connections_refused = 0;   // closed at once: over max_handshaking or max_incoming
  uint64_t connections_timed_out = 0; // closed by a read deadline
  uint64_t bad_frames = 0;            // connections dropped for a malformed frame
  uint64_t accept_failures = 0;       // accept() failed (EMFILE...): backed off
  uint64_t snapshots_refused = 0;     // staged payloads that failed check_snapshot
  std::map<NodeId, uint64_t> sent_to;          // bytes, per peer
  std::map<NodeId, uint64_t> received_from;    // bytes, per peer
};

class PeerTransport {
 public:
  PeerTransport(boost::asio::io_context& io, TransportOptions options, TransportHandlers handlers);
  ~PeerTransport();

  uint16_t listen(const std::string& host, uint16_t port, bool tls = false);
  void set_peer(NodeId id, const std::string& host, uint16_t port, bool tls = false);
  void remove_peer(NodeId id);
  void send(Message m);
  void send_snapshot(Message m, std::shared_ptr<SnapshotReader> payload);
  // A node message (server::encode_node_message's bytes) to member `to`, in order with the
  // Raft messages to it; lost like them when the peer is down (the node asks again).
  void send_node_message(NodeId to, std::string data);
  PeerStats stats() const;
  void set_faults(PeerFaults faults);
  void set_removed(std::set<NodeId> removed);  // hellos from these are answered "removed"
  // Who may send to this member: hellos and messages from any other id are dropped. Empty
  // until called (nobody is heard).
  void set_members(std::set<NodeId> members);
  const PeerFaults& faults() const;
  void stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// Asks the member at host:port for the cluster's members (kind 5 and 6) on behalf of a member
// with `peer_urls`, waiting at most `timeout`; nullopt if it cannot be reached, is of another
// cluster token, has no member with those URLs, or does not answer. A host that does not
// resolve is logged by name.
std::optional<std::string> fetch_members(const std::string& host, uint16_t port,
                                         const std::string& cluster_token,
                                         const std::vector<std::string>& peer_urls,
                                         std::chrono::milliseconds timeout,
                                         std::shared_ptr<boost::asio::ssl::context> tls = nullptr);

// Parses "http://host:port" (or "host:port"); the host may be an address or a name (resolved
// when dialled or listened on). Throws std::invalid_argument.
std::pair<std::string, uint16_t> parse_host_port(const std::string& url);

// Resolves a host name (or an address) now, blocking; throws std::invalid_argument naming the
// host when it does not resolve (for the listen URLs at start).
std::string resolve_host_now(const std::string& host);

}  // namespace etcdlab::runtime
