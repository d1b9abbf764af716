#include "peer_transport.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>
#include <deque>
#include <filesystem>
#include <fstream>
#include <list>
#include <map>

#include "etcdlab/codec.h"
#include "etcdlab/crc32c.h"
#include "etcdlab/errors.h"

namespace etcdlab::runtime {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kMagic = "etcdlab-peer";
constexpr uint64_t kProtocolVersion = 1;
constexpr uint64_t kChunkBytes = 64 << 10;

enum class FrameKind : uint8_t {
  kHello = 1,
  kMessage = 2,
  kSnapshotBegin = 3,
  kSnapshotChunk = 4,
  kMembersRequest = 5,
  kMembers = 6,
  kRemoved = 7,
};


std::string frame(FrameKind kind, std::string_view payload) {
  std::string body;
  body.push_back(static_cast<char>(kind));
  body.append(payload);
  std::string out;
  Writer w(out);
  w.fixed32(static_cast<uint32_t>(body.size()));
  w.fixed32(crc32c(body));
  out += body;
  return out;
}

uint64_t token_hash(const std::string& token) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : token) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
  return h;
}

// What waits in a peer's queue: a message, or a snapshot to stream.
struct Outgoing {
  std::string frame;                          // a message frame, ready to write
  std::shared_ptr<SnapshotReader> snapshot;   // or: a snapshot begin + chunks
  Message snapshot_message;
  bool heartbeat = false;  // counted when dropped (etcd_server_heartbeat_send_failures_total)
};

}  // namespace

std::pair<std::string, uint16_t> parse_host_port(const std::string& url) {
  std::string text = url.find("://") == std::string::npos ? "http://" + url : url;
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed || !parsed->has_port() || parsed->port_number() == 0 || parsed->host().empty()) {
    throw std::invalid_argument("not host:port: " + url);
  }
  std::string host(parsed->host());
  if (host == "localhost") host = "127.0.0.1";
  // Peers are dialled by address (no resolver on the peer path): a host name would fail
  // later, quietly, in the connection loop; it is refused here instead.
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  if (ec) throw std::invalid_argument("peer host is not an IP address or localhost: " + url);
  return {host, parsed->port_number()};
}

struct PeerTransport::Impl : std::enable_shared_from_this<Impl> {
  struct Peer {
    NodeId id = kNoNode;
    std::string host;
    uint16_t port = 0;
    std::deque<Outgoing> queue;
    std::unique_ptr<asio::steady_timer> wake;  // cancelled when the queue gets work
    std::shared_ptr<tcp::socket> socket;
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
  std::list<std::weak_ptr<tcp::socket>> incoming;
  PeerStats stats;
  PeerFaults faults;
  std::set<NodeId> removed;
  bool stopping = false;
  uint64_t staged = 0;

  std::string hello(NodeId to) const {
    std::string p;
    Writer w(p);
    w.bytes(kMagic);
    w.u64(kProtocolVersion);
    w.u64(options.cluster_id);
    w.u64(token_hash(options.cluster_token));
    w.u64(options.self);
    w.u64(to);
    return frame(FrameKind::kHello, p);
  }

  // ---- sending

  void enqueue(NodeId to, Outgoing item) {
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

  void enqueue_now(NodeId to, Outgoing item) {
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

  asio::awaitable<bool> connect(Peer& p) {
    auto sock = std::make_shared<tcp::socket>(io);
    tcp::endpoint ep(asio::ip::make_address(p.host), p.port);
    auto [ec] = co_await sock->async_connect(ep, kTuple);
    if (ec) co_return false;
    sock->set_option(tcp::no_delay(true), ec);
    std::string h = hello(p.id);
    auto [wec, n] = co_await asio::async_write(*sock, asio::buffer(h), kTuple);
    (void)n;
    if (wec) co_return false;
    p.socket = std::move(sock);
    // Peers only ever answer on this connection to say we were removed.
    asio::co_spawn(io, watch_outgoing(p.id, p.socket), asio::detached);
    co_return true;
  }

  asio::awaitable<void> watch_outgoing(NodeId peer, std::shared_ptr<tcp::socket> sock) {
    auto self = shared_from_this();
    FrameKind kind;
    std::string payload;
    FrameBuffer buffer;
    if (co_await read_frame(*sock, buffer, kind, payload) && kind == FrameKind::kRemoved) {
      spdlog::warn("peer transport: member {:x} says this member was removed from the cluster",
                   peer);
      if (handlers.on_removed && !stopping) handlers.on_removed(peer);
    }
  }

  asio::awaitable<bool> write_snapshot(Peer& p, Outgoing& item) {
    std::string begin;
    Writer w(begin);
    w.u64(item.snapshot->size());
    begin += encode_value(item.snapshot_message);
    std::string f = frame(FrameKind::kSnapshotBegin, begin);
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
      std::string cf = frame(FrameKind::kSnapshotChunk, chunk);
      auto [cec, cn] = co_await asio::async_write(*p.socket, asio::buffer(cf), kTuple);
      (void)cn;
      if (cec) co_return false;
      stats.bytes_sent += cf.size();
      stats.sent_to[p.id] += cf.size();
    }
    co_return true;
  }

  asio::awaitable<void> writer(std::shared_ptr<Peer> peer) {
    auto self = shared_from_this();
    Peer& p = *peer;
    std::chrono::milliseconds backoff(50);
    while (!stopping && !p.removed) {
      if (p.queue.empty()) {
        p.wake = std::make_unique<asio::steady_timer>(io, std::chrono::hours(24));
        co_await p.wake->async_wait(kTuple);
        continue;
      }
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
      if (!ok) {
        boost::system::error_code ignored;
        p.socket->close(ignored);  // (the removal watcher holds it too)
        p.socket.reset();
        if (handlers.on_unreachable) handlers.on_unreachable(p.id);
      }
    }
    p.writer_running = false;
  }

  // ---- receiving

  // Frames come off the socket through a buffer: what one read brings is often several frames
  // (the appends a leader sent while this member was fsyncing), and all of them are stepped
  // before the pump, which is posted, gets to run: they share one Ready and one fsync. Reading
  // frame by frame from the socket would give each its own.
  struct FrameBuffer {
    std::string data;
    size_t start = 0;  // the first byte not yet taken
  };

  // Until `need` bytes past `start` are buffered; false when the connection ends first.
  asio::awaitable<bool> fill(tcp::socket& s, FrameBuffer& b, size_t need) {
    while (b.data.size() - b.start < need) {
      if (b.start > 0) {
        b.data.erase(0, b.start);
        b.start = 0;
      }
      size_t have = b.data.size();
      size_t room = std::max<size_t>(need - have, 64 * 1024);
      b.data.resize(have + room);
      auto [ec, n] = co_await s.async_read_some(asio::buffer(b.data.data() + have, room), kTuple);
      b.data.resize(have + n);
      if (ec) co_return false;
    }
    co_return true;
  }

  asio::awaitable<bool> read_frame(tcp::socket& s, FrameBuffer& b, FrameKind& kind,
                                   std::string& payload) {
    if (!co_await fill(s, b, 8)) co_return false;
    Reader r(std::string_view(b.data).substr(b.start, 8));
    uint32_t length = r.fixed32("frame length");
    uint32_t crc = r.fixed32("frame crc");
    if (length == 0 || length > options.max_frame_bytes) {
      spdlog::warn("peer transport: dropping a connection: frame of {} bytes (limit {})", length,
                   options.max_frame_bytes);
      co_return false;
    }
    if (!co_await fill(s, b, 8 + size_t{length})) co_return false;
    std::string_view body = std::string_view(b.data).substr(b.start + 8, length);
    if (crc32c(body) != crc) {
      spdlog::warn("peer transport: dropping a connection: frame checksum mismatch");
      co_return false;
    }
    b.start += 8 + size_t{length};
    stats.bytes_received += 8 + length;
    kind = static_cast<FrameKind>(body[0]);
    payload.assign(body.substr(1));
    co_return true;
  }

  asio::awaitable<void> reader(std::shared_ptr<tcp::socket> sock) {
    auto self = shared_from_this();
    std::string where = "?";
    try {
      boost::system::error_code ec;
      where = sock->remote_endpoint(ec).address().to_string();
      FrameKind kind;
      std::string payload;
      FrameBuffer buffer;
      if (!co_await read_frame(*sock, buffer, kind, payload)) {
        throw DecodeError("the connection did not start with a frame", 0);
      }
      if (kind == FrameKind::kMembersRequest) {
        co_await answer_members_request(*sock, payload);
        sock->close(ec);
        co_return;
      }
      if (kind != FrameKind::kHello) {
        throw DecodeError("the connection did not start with a hello", 0);
      }
      Reader h(payload);
      if (h.bytes_view("magic") != kMagic) throw DecodeError("not an etcdlab peer", 0);
      uint64_t version = h.u64("version");
      uint64_t cluster = h.u64("cluster id");
      uint64_t token = h.u64("token");
      NodeId from = h.u64("from");
      NodeId to = h.u64("to");
      if (version != kProtocolVersion) throw DecodeError("unknown peer protocol version", 0);
      if (cluster != options.cluster_id || token != token_hash(options.cluster_token)) {
        throw DecodeError(fmt::format("member {:x} belongs to another cluster (cluster id {:x})",
                                      from, cluster), 0);
      }
      if (to != options.self) throw DecodeError(fmt::format("meant for member {:x}", to), 0);
      if (removed.count(from)) {
        std::string notice = frame(FrameKind::kRemoved, "");
        co_await asio::async_write(*sock, asio::buffer(notice), kTuple);
        throw DecodeError(fmt::format("member {:x} was removed from the cluster", from), 0);
      }
      while (!stopping) {
        if (!co_await read_frame(*sock, buffer, kind, payload)) break;
        stats.received_from[from] += payload.size() + 9;
        if (kind == FrameKind::kMessage) {
          Message m = decode_value<Message>(payload, "peer message");
          if (m.from != from || m.to != options.self) throw DecodeError("message header mismatch", 0);
          if (faults.drop_from.count(from)) continue;
          if (handlers.on_message) handlers.on_message(std::move(m), "");
        } else if (kind == FrameKind::kSnapshotBegin) {
          Reader b(payload);
          uint64_t size = b.u64("snapshot size");
          Message m = decode_value<Message>(payload.substr(b.offset()), "snapshot message");
          if (m.from != from || m.type != MessageType::kSnapshot) {
            throw DecodeError("snapshot header mismatch", 0);
          }
          std::filesystem::create_directories(options.staging_dir);
          std::string path = fmt::format("{}/{:x}-{}.snap.part", options.staging_dir, from, ++staged);
          std::ofstream out(path, std::ios::binary | std::ios::trunc);
          uint64_t got = 0;
          while (got < size) {
            if (!co_await read_frame(*sock, buffer, kind, payload) ||
                kind != FrameKind::kSnapshotChunk) {
              throw DecodeError("snapshot stream cut short", got);
            }
            stats.received_from[from] += payload.size() + 9;
            out.write(payload.data(), static_cast<std::streamsize>(payload.size()));
            got += payload.size();
          }
          out.close();
          if (!out) throw IoError("write", path, "could not stage the snapshot");
          if (faults.drop_from.count(from)) {
            std::filesystem::remove(path);
            continue;
          }
          if (handlers.on_message) handlers.on_message(std::move(m), path);
        } else {
          throw DecodeError("unknown frame kind", 0);
        }
      }
    } catch (const std::exception& e) {
      spdlog::warn("peer transport: dropping the connection from {}: {}", where, e.what());
    }
    boost::system::error_code ignored;
    sock->close(ignored);
  }

  asio::awaitable<void> answer_members_request(tcp::socket& sock, const std::string& payload) {
    Reader r(payload);
    if (r.bytes_view("magic") != kMagic) throw DecodeError("not an etcdlab peer", 0);
    if (r.u64("version") != kProtocolVersion) throw DecodeError("unknown peer protocol version", 0);
    if (r.u64("token") != token_hash(options.cluster_token)) {
      throw DecodeError("a members request with another cluster token", 0);
    }
    std::string answer = frame(FrameKind::kMembers,
                               handlers.on_members_request ? handlers.on_members_request() : "");
    auto [ec, n] = co_await asio::async_write(sock, asio::buffer(answer), kTuple);
    (void)ec;
    (void)n;
  }

  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
    auto self = shared_from_this();
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kTuple);
      if (ec == asio::error::operation_aborted || stopping) co_return;
      if (ec) {
        spdlog::warn("peer transport: accept failed: {}", ec.message());
        asio::steady_timer pause(io, std::chrono::milliseconds(50));
        co_await pause.async_wait(kTuple);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto sock = std::make_shared<tcp::socket>(std::move(socket));
      incoming.remove_if([](const auto& w) { return w.expired(); });
      incoming.push_back(sock);
      asio::co_spawn(io, reader(sock), asio::detached);
    }
  }
};

PeerTransport::PeerTransport(asio::io_context& io, TransportOptions options,
                             TransportHandlers handlers)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handlers))) {}

PeerTransport::~PeerTransport() { stop(); }

uint16_t PeerTransport::listen(const std::string& host, uint16_t port) {
  tcp::endpoint endpoint(asio::ip::make_address(host), port);
  auto& acceptor = impl_->acceptors.emplace_back(impl_->io);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen();
  asio::co_spawn(impl_->io, impl_->accept_loop(acceptor), asio::detached);
  return acceptor.local_endpoint().port();
}

void PeerTransport::set_peer(NodeId id, const std::string& host, uint16_t port) {
  if (id == impl_->options.self) return;
  auto& p = impl_->peers[id];
  if (!p) p = std::make_shared<Impl::Peer>();
  if ((p->host != host || p->port != port) && p->socket) {
    boost::system::error_code ignored;
    p->socket->close(ignored);
    p->socket.reset();
  }
  p->id = id;
  p->host = host;
  p->port = port;
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
  impl_->enqueue(to,
                 Outgoing{frame(FrameKind::kMessage, encode_value(m)), nullptr, {}, heartbeat});
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

namespace {

std::string members_request(const std::string& token) {
  std::string p;
  Writer w(p);
  w.bytes(kMagic);
  w.u64(kProtocolVersion);
  w.u64(token_hash(token));
  return frame(FrameKind::kMembersRequest, p);
}

}  // namespace

std::optional<std::string> fetch_members(const std::string& host, uint16_t port,
                                         const std::string& cluster_token,
                                         std::chrono::milliseconds timeout) {
  // A private io_context: this runs before the server's loop starts.
  asio::io_context io;
  std::optional<std::string> result;
  tcp::socket sock(io);
  asio::steady_timer deadline(io, timeout);
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) sock.close();
  });
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    boost::system::error_code ec;
    tcp::endpoint ep(asio::ip::make_address(host, ec), port);
    if (ec) co_return;
    auto [cec] = co_await sock.async_connect(ep, kTuple);
    if (cec) co_return;
    std::string request = members_request(cluster_token);
    auto [wec, wn] = co_await asio::async_write(sock, asio::buffer(request), kTuple);
    (void)wn;
    if (wec) co_return;
    char head[8];
    auto [hec, hn] = co_await asio::async_read(sock, asio::buffer(head, 8), kTuple);
    (void)hn;
    if (hec) co_return;
    Reader r(std::string_view(head, 8));
    uint32_t length = r.fixed32("frame length");
    uint32_t crc = r.fixed32("frame crc");
    if (length == 0 || length > (16u << 20)) co_return;
    std::string body(length, '\0');
    auto [bec, bn] = co_await asio::async_read(sock, asio::buffer(body), kTuple);
    (void)bn;
    if (bec || crc32c(body) != crc || static_cast<FrameKind>(body[0]) != FrameKind::kMembers) {
      co_return;
    }
    result = body.substr(1);
    deadline.cancel();
  }, asio::detached);
  io.run();
  return result;
}

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
