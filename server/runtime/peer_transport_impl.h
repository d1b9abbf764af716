#pragma once
// The peer transport's state, shared by its two halves: peer_transport.cc (the public calls and
// the sending side: queues, dialling, snapshot streams) and peer_receiver.cc (accepting,
// reading with deadlines and limits, judging hellos). Private to those files.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "bounded_worker.h"
#include "peer_frames.h"
#include "peer_stream.h"
#include "peer_transport.h"

namespace etcdlab::runtime {

namespace asio = boost::asio;
using asio::ip::tcp;

inline constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// What waits in a peer's queue: a message, or a snapshot to stream.
struct Outgoing {
  std::string frame;                          // a message frame, ready to write
  std::shared_ptr<SnapshotReader> snapshot;   // or: a snapshot begin + chunks
  Message snapshot_message;
  bool heartbeat = false;  // counted when dropped (etcd_server_heartbeat_send_failures_total)
};

struct PeerTransport::Impl : std::enable_shared_from_this<Impl> {
  struct Peer {
    NodeId id = kNoNode;
    std::string host;
    uint16_t port = 0;
    bool tls = false;  // an https:// peer URL
    std::deque<Outgoing> queue;
    std::unique_ptr<asio::steady_timer> wake;  // cancelled when the queue gets work
    std::shared_ptr<PeerStream> socket;
    std::string last_dial_error;  // logged once per change, not once per retry
    bool removed = false;
    bool writer_running = false;
  };

  Impl(asio::io_context& i, TransportOptions o, TransportHandlers h)
      : io(i), options(std::move(o)), handlers(std::move(h)) {}

  asio::io_context& io;
  TransportOptions options;
  TransportHandlers handlers;
  std::map<NodeId, std::shared_ptr<Peer>> peers;
  std::list<tcp::acceptor> acceptors;
  std::list<std::weak_ptr<PeerStream>> incoming;
  PeerStats stats;
  PeerFaults faults;
  std::set<NodeId> members;  // who may send to us (set_members)
  std::set<NodeId> removed;
  size_t open_incoming = 0;   // accepted connections still open
  size_t handshaking = 0;     // of those, the ones that have not sent their first frame
  bool stopping = false;
  uint64_t staged = 0;

  // ---- sending (peer_transport.cc)
  void enqueue(NodeId to, Outgoing item);
  void enqueue_now(NodeId to, Outgoing item);
  asio::awaitable<bool> connect(Peer& p);
  asio::awaitable<void> watch_outgoing(std::shared_ptr<Peer> peer,
                                       std::shared_ptr<PeerStream> sock);
  asio::awaitable<bool> write_snapshot(Peer& p, Outgoing& item);
  asio::awaitable<void> writer(std::shared_ptr<Peer> peer);

  // ---- receiving (peer_receiver.cc)
  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, bool tls);
  asio::awaitable<void> reader(std::shared_ptr<PeerStream> sock, bool tls);
  std::string judge(const peer::Hello& hello);
  asio::awaitable<std::string> serve_member(PeerStream& sock, peer::FrameDecoder& decoder,
                                            std::vector<char>& buffer, NodeId from);
  asio::awaitable<std::string> stage_snapshot(PeerStream& sock, peer::FrameDecoder& decoder,
                                              std::vector<char>& buffer, NodeId from,
                                              uint64_t size);
  asio::awaitable<void> answer_members_request(PeerStream& sock, const std::string& payload);
  // options.check_snapshot's verdict on a staged payload, from the checker thread (empty:
  // it may go to the node).
  asio::awaitable<std::string> check_staged(const std::string& path);

  static constexpr size_t kMaxChecksWaiting = 4;  // past that, a snapshot is refused at once
  // Declared last: joined first, before anything a check could still be using goes.
  BoundedWorker checker{kMaxChecksWaiting};
};

// Reads the next frame through `decoder`, reading from `sock` as needed, each read bounded by
// `timeout` (a stalled or silent sender is cut off). nullopt: the connection ended or timed
// out (`timed_out` says which). Throws DecodeError for a bad frame.
asio::awaitable<std::optional<peer::Frame>> read_frame(PeerStream& sock,
                                                       peer::FrameDecoder& decoder,
                                                       std::vector<char>& buffer,
                                                       std::chrono::milliseconds timeout,
                                                       bool& timed_out);

// Resolves host:port (a name or an address) to its first endpoint; the error message names the
// host when it does not resolve.
asio::awaitable<std::optional<tcp::endpoint>> resolve(asio::io_context& io,
                                                      const std::string& host, uint16_t port,
                                                      std::string& error);

}  // namespace etcdlab::runtime
