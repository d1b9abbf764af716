// The peer transport's public calls and its sending side: a queue per peer, a writer coroutine
// that dials (resolving the peer's host each time), coalesces message frames and streams
// snapshots. The receiving side is peer_receiver.cc.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/write.hpp>

#include "etcdlab/codec.h"
#include "etcdlab/errors.h"
#include "peer_transport_impl.h"

namespace etcdlab::runtime {

using peer::FrameKind;

namespace {
constexpr uint64_t kChunkBytes = 64 << 10;
}  // namespace

void PeerTransport::Impl::enqueue(NodeId to, Outgoing item) {
  if (faults.drop_to.count(to)) {
    stats.messages_dropped++;
    if (item.snapshot && handlers.on_snapshot_sent) handlers.on_snapshot_sent(to, false);
    return;
  }
  if (faults.delay_ms > 0) {
    auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(faults.delay_ms));
    timer->async_wait([self = shared_from_this(), timer, to, item = std::move(item)](
                          const boost::system::error_code& ec) mutable {
      if (!ec && !self->stopping) self->enqueue_now(to, std::move(item));
    });
    return;
  }
  enqueue_now(to, std::move(item));
}

void PeerTransport::Impl::enqueue_now(NodeId to, Outgoing item) {
  auto it = peers.find(to);
  if (it == peers.end()) {
    stats.messages_dropped++;
    if (handlers.on_unreachable) handlers.on_unreachable(to);
    return;
  }
  Peer& p = *it->second;
  if (p.queue.size() >= options.queue_limit) {
    stats.messages_dropped++;
    if (item.heartbeat) stats.heartbeats_dropped++;
    if (item.snapshot && handlers.on_snapshot_sent) handlers.on_snapshot_sent(to, false);
    if (handlers.on_unreachable) handlers.on_unreachable(to);
    return;
  }
  p.queue.push_back(std::move(item));
  if (p.wake) p.wake->cancel();
  if (!p.writer_running) {
    p.writer_running = true;
    asio::co_spawn(io, writer(it->second), asio::detached);
  }
}

asio::awaitable<bool> PeerTransport::Impl::connect(Peer& p) {
  // Resolved on every dial: a peer whose name now points elsewhere is found there.
  std::string error;
  auto ep = co_await resolve(io, p.host, p.port, error);
  auto sock = std::make_shared<PeerStream>(io);
  if (ep) {
    auto [ec] = co_await sock->socket().async_connect(*ep, kTuple);
    if (ec) error = fmt::format("cannot connect to {}:{}: {}", p.host, p.port, ec.message());
  }
  if (error.empty() && p.tls) {
    std::string why =
        co_await sock->handshake(*options.tls_client, false, p.host, options.handshake_timeout);
    if (!why.empty()) {
      error = fmt::format("TLS handshake with {}:{} refused: {}", p.host, p.port, why);
    }
  }
  if (!error.empty()) {
    if (error != p.last_dial_error) {
      spdlog::warn("peer transport: member {:x}: {}", p.id, error);
      p.last_dial_error = error;
    }
    co_return false;
  }
  p.last_dial_error.clear();
  boost::system::error_code ec;
  sock->set_option(tcp::no_delay(true), ec);
  peer::Hello h;
  h.cluster = options.cluster_id;
  h.token_hash = peer::token_hash(options.cluster_token);
  h.from = options.self;
  h.to = p.id;
  std::string hello = peer::encode_frame(FrameKind::kHello, peer::encode_hello(h));
  auto [wec, n] = co_await asio::async_write(*sock, asio::buffer(hello), kTuple);
  (void)n;
  if (wec) co_return false;
  p.socket = sock;
  asio::co_spawn(io, watch_outgoing(peers.count(p.id) ? peers[p.id] : nullptr, sock),
                 asio::detached);
  co_return true;
}

// A receiver only ever answers on our connection to say we were removed or that it refused a
// snapshot, then closes it; otherwise its close
// (an idle deadline, a restart) is seen here, and the next message redials.
asio::awaitable<void> PeerTransport::Impl::watch_outgoing(std::shared_ptr<Peer> peer,
                                                          std::shared_ptr<PeerStream> sock) {
  auto self = shared_from_this();
  peer::FrameDecoder decoder(options.max_first_frame_bytes);
  std::vector<char> buffer(256);
  bool timed_out = false;
  std::optional<peer::Frame> f;
  try {
    f = co_await read_frame(*sock, decoder, buffer, std::chrono::hours(24 * 365), timed_out);
  } catch (const DecodeError&) {
  }
  if (f && f->kind == FrameKind::kRemoved && peer) {
    spdlog::warn("peer transport: member {:x} says this member was removed from the cluster",
                 peer->id);
    if (handlers.on_removed && !stopping) handlers.on_removed(peer->id);
  }
  if (f && f->kind == FrameKind::kSnapshotRefused && peer) {
    // The stream was written whole, but the member found the payload damaged: its Raft will
    // need another one (peer_transport.h).
    std::string what;
    try {
      peer::SnapshotRefused r = peer::decode_snapshot_refused(f->payload);
      what = fmt::format("snapshot {} (term {}): {}", r.index, r.term, r.reason);
    } catch (const DecodeError& e) {
      what = fmt::format("a snapshot (the refusal does not decode: {})", e.what());
    }
    spdlog::warn("peer transport: member {:x} refused {}", peer->id, what);
    if (handlers.on_snapshot_sent && !stopping) handlers.on_snapshot_sent(peer->id, false);
  }
  if (peer && peer->socket == sock && !peer->writer_running) {
    boost::system::error_code ignored;
    sock->close(ignored);
    peer->socket.reset();
  } else if (peer && peer->socket == sock) {
    // The writer owns it now: closing makes its next write fail and redial.
    boost::system::error_code ignored;
    sock->close(ignored);
  }
}

asio::awaitable<bool> PeerTransport::Impl::write_snapshot(Peer& p, Outgoing& item) {
  std::string f = peer::encode_frame(
      FrameKind::kSnapshotBegin, peer::encode_snapshot_begin(item.snapshot->size(),
                                                             item.snapshot_message));
  auto [ec, n] = co_await asio::async_write(*p.socket, asio::buffer(f), kTuple);
  (void)n;
  if (ec) co_return false;
  stats.bytes_sent += f.size();
  stats.sent_to[p.id] += f.size();
  for (uint64_t at = 0; at < item.snapshot->size(); at += kChunkBytes) {
    std::string chunk;
    try {
      chunk = item.snapshot->read(at, kChunkBytes);
    } catch (const StorageError& e) {
      spdlog::error("peer {:x}: reading the snapshot to send failed: {}", p.id, e.what());
      co_return false;
    }
    std::string cf = peer::encode_frame(FrameKind::kSnapshotChunk, chunk);
    auto [cec, cn] = co_await asio::async_write(*p.socket, asio::buffer(cf), kTuple);
    (void)cn;
    if (cec) co_return false;
    stats.bytes_sent += cf.size();
    stats.sent_to[p.id] += cf.size();
  }
  co_return true;
}

asio::awaitable<void> PeerTransport::Impl::writer(std::shared_ptr<Peer> peer) {
  auto self = shared_from_this();
  Peer& p = *peer;
  std::chrono::milliseconds backoff(50);
  while (!stopping && !p.removed) {
    if (p.queue.empty()) {
      p.wake = std::make_unique<asio::steady_timer>(io, std::chrono::hours(24));
      co_await p.wake->async_wait(kTuple);
      continue;
    }
    if (p.socket && !p.socket->is_open()) p.socket.reset();  // closed by its watcher
    if (!p.socket) {
      if (!co_await connect(p)) {
        // Down or unreachable: drop what is queued (Raft resends) and retry later.
        size_t dropped = p.queue.size();
        for (auto& item : p.queue) {
          if (item.snapshot && handlers.on_snapshot_sent) handlers.on_snapshot_sent(p.id, false);
        }
        p.queue.clear();
        stats.messages_dropped += dropped;
        if (handlers.on_unreachable) handlers.on_unreachable(p.id);
        asio::steady_timer pause(io, backoff);
        co_await pause.async_wait(kTuple);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
        continue;
      }
      backoff = std::chrono::milliseconds(50);
    }
    // Coalesce queued message frames into one write.
    std::string batch;
    while (!p.queue.empty() && !p.queue.front().snapshot && batch.size() < (1 << 20)) {
      batch += p.queue.front().frame;
      p.queue.pop_front();
    }
    bool ok = true;
    if (!batch.empty()) {
      auto [ec, n] = co_await asio::async_write(*p.socket, asio::buffer(batch), kTuple);
      (void)n;
      ok = !ec;
      if (ok) {
        stats.bytes_sent += batch.size();
        stats.sent_to[p.id] += batch.size();
      }
    } else if (!p.queue.empty()) {
      Outgoing item = std::move(p.queue.front());
      p.queue.pop_front();
      ok = co_await write_snapshot(p, item);
      if (handlers.on_snapshot_sent) handlers.on_snapshot_sent(p.id, ok);
    }
    if (!ok && p.socket) {
      boost::system::error_code ignored;
      p.socket->close(ignored);  // (the removal watcher holds it too)
      p.socket.reset();
      if (handlers.on_unreachable) handlers.on_unreachable(p.id);
    }
  }
  p.writer_running = false;
}

// ---- the public calls

PeerTransport::PeerTransport(asio::io_context& io, TransportOptions options,
                             TransportHandlers handlers)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handlers))) {}

PeerTransport::~PeerTransport() { stop(); }

uint16_t PeerTransport::listen(const std::string& host, uint16_t port, bool tls) {
  if (tls && !impl_->options.tls_server) {
    throw std::invalid_argument("a TLS peer listener needs --peer-cert-file and --peer-key-file");
  }
  tcp::endpoint endpoint(asio::ip::make_address(resolve_host_now(host)), port);
  auto& acceptor = impl_->acceptors.emplace_back(impl_->io);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen();
  asio::co_spawn(impl_->io, impl_->accept_loop(acceptor, tls), asio::detached);
  return acceptor.local_endpoint().port();
}

void PeerTransport::set_peer(NodeId id, const std::string& host, uint16_t port, bool tls) {
  if (id == impl_->options.self) return;
  if (tls && !impl_->options.tls_client) {
    spdlog::warn(
        "peer transport: member {:x} has an https:// peer URL but this member has no "
        "peer TLS files (--peer-cert-file, --peer-key-file, --peer-trusted-ca-file)",
        id);
    tls = false;  // (its listener refuses the plaintext; the dial is logged there)
  }
  auto& p = impl_->peers[id];
  if (!p) p = std::make_shared<Impl::Peer>();
  if ((p->host != host || p->port != port || p->tls != tls) && p->socket) {
    boost::system::error_code ignored;
    p->socket->close(ignored);
    p->socket.reset();
  }
  p->id = id;
  p->host = host;
  p->port = port;
  p->tls = tls;
  p->removed = false;
}

void PeerTransport::remove_peer(NodeId id) {
  auto it = impl_->peers.find(id);
  if (it == impl_->peers.end()) return;
  it->second->removed = true;
  if (it->second->wake) it->second->wake->cancel();
  impl_->peers.erase(it);
}

void PeerTransport::send(Message m) {
  NodeId to = m.to;
  bool heartbeat = m.type == MessageType::kHeartbeat;
  impl_->enqueue(to, Outgoing{peer::encode_frame(FrameKind::kMessage, encode_value(m)), nullptr,
                              {}, heartbeat});
}

void PeerTransport::send_node_message(NodeId to, std::string data) {
  peer::NodeMessageFrame m{impl_->options.self, to, std::move(data)};
  impl_->enqueue(to, Outgoing{peer::encode_frame(FrameKind::kNodeMessage,
                                                 peer::encode_node_message_frame(m)),
                              nullptr, {}, false});
}

void PeerTransport::send_snapshot(Message m, std::shared_ptr<SnapshotReader> payload) {
  NodeId to = m.to;
  impl_->enqueue(to, Outgoing{"", std::move(payload), std::move(m)});
}

PeerStats PeerTransport::stats() const { return impl_->stats; }

void PeerTransport::set_faults(PeerFaults faults) {
  impl_->faults = std::move(faults);
  if (!impl_->faults.drop_to.empty() || !impl_->faults.drop_from.empty() ||
      impl_->faults.delay_ms > 0) {
    spdlog::warn("peer transport: failpoints set: dropping to {} member(s), from {}, delay {} ms",
                 impl_->faults.drop_to.size(), impl_->faults.drop_from.size(),
                 impl_->faults.delay_ms);
  }
}

const PeerFaults& PeerTransport::faults() const { return impl_->faults; }

void PeerTransport::set_removed(std::set<NodeId> removed) { impl_->removed = std::move(removed); }

void PeerTransport::set_members(std::set<NodeId> members) { impl_->members = std::move(members); }

void PeerTransport::stop() {
  if (!impl_ || impl_->stopping) return;
  impl_->stopping = true;
  boost::system::error_code ignored;
  for (auto& a : impl_->acceptors) a.close(ignored);
  for (auto& [id, p] : impl_->peers) {
    p->removed = true;
    if (p->wake) p->wake->cancel();
    if (p->socket) p->socket->close(ignored);
  }
  for (auto& w : impl_->incoming) {
    if (auto s = w.lock()) s->close(ignored);
  }
}

}  // namespace etcdlab::runtime
