// The peer transport's receiving side: accepting within the connection limits, reading frames
// with deadlines into memory that grows only with what arrives, judging the hello (a cluster
// member, addressed to us, not removed), then delivering messages (Raft's and the nodes') and
// staging snapshots, each checked before it is delivered.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "../node/snapshot_check.h"
#include "etcdlab/codec.h"
#include "etcdlab/errors.h"
#include "etcdlab/fs/posix_file_system.h"
#include "peer_transport_impl.h"

namespace etcdlab::runtime {

using peer::FrameKind;

namespace {

constexpr size_t kFirstReadBytes = 512;      // before the hello: a stranger costs little
constexpr size_t kReadBytes = 64 * 1024;     // after it

// Counts a connection while it is open (and while it has not sent its first frame).
struct Slot {
  size_t& count;
  explicit Slot(size_t& c) : count(c) { ++count; }
  ~Slot() { --count; }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
};

// Tells the sender of a refused snapshot why (kind 9), on its own connection; a sender that
// does not read it within `timeout` is not waited for.
asio::awaitable<void> refuse_snapshot(PeerStream& sock, const peer::SnapshotRefused& r,
                                      std::chrono::milliseconds timeout) {
  std::string frame = peer::encode_frame(FrameKind::kSnapshotRefused,
                                         peer::encode_snapshot_refused(r));
  auto finished = std::make_shared<bool>(false);
  asio::steady_timer deadline(sock.get_executor());
  deadline.expires_after(timeout);
  deadline.async_wait([finished, &sock](const boost::system::error_code& ec) {
    if (ec || *finished) return;
    boost::system::error_code ignored;
    sock.cancel(ignored);
  });
  auto [ec, n] = co_await asio::async_write(sock, asio::buffer(frame), kTuple);
  (void)ec;
  (void)n;
  *finished = true;
  deadline.cancel();
}

}  // namespace

asio::awaitable<std::optional<peer::Frame>> read_frame(PeerStream& sock,
                                                       peer::FrameDecoder& decoder,
                                                       std::vector<char>& buffer,
                                                       std::chrono::milliseconds timeout,
                                                       bool& timed_out) {
  timed_out = false;
  asio::steady_timer deadline(sock.get_executor());
  for (;;) {
    if (auto f = decoder.next()) co_return f;
    // Each read has its deadline: silence (between frames) and a stall mid-frame alike.
    // (The handler may run after this read has returned: `state` tells it whether the socket
    // is still being read, so it never touches one that may be gone.)
    struct State {
      bool expired = false;
      bool done = false;
    };
    auto state = std::make_shared<State>();
    deadline.expires_after(timeout);
    deadline.async_wait([state, &sock](const boost::system::error_code& ec) {
      if (ec || state->done) return;
      state->expired = true;
      boost::system::error_code ignored;
      sock.cancel(ignored);
    });
    auto [ec, n] = co_await sock.async_read_some(asio::buffer(buffer), kTuple);
    state->done = true;
    deadline.cancel();
    if (state->expired) {
      timed_out = true;
      co_return std::nullopt;
    }
    if (ec) co_return std::nullopt;
    decoder.feed(std::string_view(buffer.data(), n));
  }
}

// The hello's verdict, as an error to drop the connection with (empty: accepted).
std::string PeerTransport::Impl::judge(const peer::Hello& hello) {
  NodeId from = hello.from;
  // A member this one has not applied yet (it is behind) is let in if its addition is in our
  // log: it may be the leader that would bring us up to date.
  if (!members.count(from) && from != options.self && handlers.may_be_member &&
      handlers.may_be_member(from)) {
    members.insert(from);
  }
  peer::ReceiverView view{options.self, options.cluster_id,
                          peer::token_hash(options.cluster_token), &members, &removed};
  peer::HelloVerdict verdict = peer::judge_hello(hello, view);
  switch (verdict) {
    case peer::HelloVerdict::kAccept:
      return {};
    case peer::HelloVerdict::kNotAMember:
      stats.unknown_senders++;
      return fmt::format("id {:x} is not a member of the cluster", from);
    case peer::HelloVerdict::kOtherCluster:
      return fmt::format("member {:x} belongs to another cluster (cluster id {:x})", from,
                         hello.cluster);
    case peer::HelloVerdict::kNotForUs:
      return fmt::format("meant for member {:x}", hello.to);
    case peer::HelloVerdict::kWrongVersion:
      return fmt::format("unknown peer protocol version {}", hello.version);
    case peer::HelloVerdict::kRemoved:
      return fmt::format("member {:x} was removed from the cluster", from);
  }
  return "?";
}

std::string check_staged_snapshot(const std::string& path) {
  PosixFileSystem fs;
  auto file = fs.open(path);
  auto problem = server::check_snapshot_payload(
      [&](uint64_t offset, uint64_t length) { return file->read_at(offset, length); },
      file->size());
  return problem ? problem->describe() : std::string();
}

asio::awaitable<std::string> PeerTransport::Impl::check_staged(const std::string& path) {
  if (!options.check_snapshot) co_return std::string();
  // The work holds copies only: nothing of the transport is touched on the checker thread.
  auto verdict = std::make_shared<std::string>();
  std::function<void()> work = [check = options.check_snapshot, path, verdict] {
    *verdict = check(path);
  };
  try {
    co_await checker.run(std::move(work));
  } catch (const std::exception& e) {  // unreadable, or too many checks waiting
    *verdict = std::string("the payload could not be checked: ") + e.what();
  }
  co_return *verdict;
}

// Stages a snapshot's payload (the chunks after its begin frame) in a file; a cut stream leaves
// no file behind. Returns the file, or empty if the stream ended first.
asio::awaitable<std::string> PeerTransport::Impl::stage_snapshot(PeerStream& sock,
                                                                 peer::FrameDecoder& decoder,
                                                                 std::vector<char>& buffer,
                                                                 NodeId from, uint64_t size) {
  std::filesystem::create_directories(options.staging_dir);
  std::string path = fmt::format("{}/{:x}-{}.snap.part", options.staging_dir, from, ++staged);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  uint64_t got = 0;
  bool whole = true;
  bool timed_out = false;
  while (got < size) {
    auto chunk = co_await read_frame(sock, decoder, buffer, options.idle_timeout, timed_out);
    if (!chunk || chunk->kind != FrameKind::kSnapshotChunk) {
      whole = false;
      break;
    }
    stats.bytes_received += chunk->payload.size() + peer::kFrameHeaderBytes + 1;
    stats.received_from[from] += chunk->payload.size() + peer::kFrameHeaderBytes + 1;
    out.write(chunk->payload.data(), static_cast<std::streamsize>(chunk->payload.size()));
    if (!out) break;  // (a full disk: the leader sends it again later)
    got += chunk->payload.size();
  }
  if (out) out.close();
  if (whole && out) co_return path;
  std::string cause = std::strerror(errno);  // what the failed write or close said
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  if (timed_out) stats.connections_timed_out++;
  if (whole) spdlog::error("peer transport: could not stage a snapshot in {}: {}", path, cause);
  co_return std::string();
}

// A member's stream after its hello: messages and snapshots until it closes or misbehaves.
// Returns why it ended (empty: closed by the peer).
asio::awaitable<std::string> PeerTransport::Impl::serve_member(PeerStream& sock,
                                                               peer::FrameDecoder& decoder,
                                                               std::vector<char>& buffer,
                                                               NodeId from) {
  bool timed_out = false;
  while (!stopping) {
    auto f = co_await read_frame(sock, decoder, buffer, options.idle_timeout, timed_out);
    if (!f) break;
    stats.bytes_received += f->payload.size() + peer::kFrameHeaderBytes + 1;
    stats.received_from[from] += f->payload.size() + peer::kFrameHeaderBytes + 1;
    // Membership changes while connections stay open: a member removed since is not heard.
    if (!members.count(from)) {
      stats.unknown_senders++;
      co_return fmt::format("member {:x} is no longer a member", from);
    }
    if (f->kind == FrameKind::kMessage) {
      Message m = decode_value<Message>(f->payload, "peer message");
      if (m.from != from || m.to != options.self) co_return "message header mismatch";
      if (faults.drop_from.count(from)) continue;
      if (handlers.on_message) handlers.on_message(std::move(m), "");
    } else if (f->kind == FrameKind::kSnapshotBegin) {
      peer::SnapshotBegin begin = peer::decode_snapshot_begin(f->payload);
      if (begin.message.from != from) co_return "snapshot header mismatch";
      std::string path = co_await stage_snapshot(sock, decoder, buffer, from, begin.size);
      if (path.empty()) co_return "snapshot stream cut short";
      if (faults.drop_from.count(from)) {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
        continue;
      }
      // Checked before the node hears of it (peer_transport.h); this stream waits meanwhile.
      std::string refusal = co_await check_staged(path);
      if (!refusal.empty()) {
        std::error_code ignored;
        std::filesystem::remove(path, ignored);
        stats.snapshots_refused++;
        peer::SnapshotRefused r{begin.message.snapshot.term, begin.message.snapshot.index,
                                refusal};
        co_await refuse_snapshot(sock, r, options.handshake_timeout);
        co_return fmt::format("refused snapshot {} (term {}) from member {:x}: {}", r.index,
                              r.term, from, refusal);
      }
      if (handlers.on_message) handlers.on_message(std::move(begin.message), path);
    } else if (f->kind == FrameKind::kNodeMessage) {
      peer::NodeMessageFrame m = peer::decode_node_message_frame(f->payload);
      if (m.from != from || m.to != options.self) co_return "node message header mismatch";
      if (faults.drop_from.count(from)) continue;
      if (handlers.on_node_message) handlers.on_node_message(from, std::move(m.data));
    } else {
      co_return fmt::format("unexpected frame kind {}", static_cast<int>(f->kind));
    }
  }
  if (timed_out) {
    stats.connections_timed_out++;
    co_return "read deadline passed";
  }
  co_return std::string();
}

asio::awaitable<void> PeerTransport::Impl::reader(std::shared_ptr<PeerStream> sock, bool tls) {
  auto self = shared_from_this();
  Slot open_slot(open_incoming);
  boost::system::error_code ec;
  std::string where = sock->remote_endpoint(ec).address().to_string();
  std::string why;
  try {
    peer::FrameDecoder decoder(options.max_first_frame_bytes);
    std::vector<char> buffer(kFirstReadBytes);
    std::optional<peer::Frame> first;
    bool timed_out = false;
    {
      Slot handshake_slot(handshaking);
      if (tls) {
        // Refused here, before a byte of the peer protocol is read.
        why = co_await sock->handshake(*options.tls_server, true, "", options.handshake_timeout);
        if (!why.empty()) why = "TLS handshake refused: " + why;
      }
      if (why.empty()) {
        first = co_await read_frame(*sock, decoder, buffer, options.handshake_timeout, timed_out);
      }
    }
    if (!why.empty()) {
    } else if (timed_out) {
      stats.connections_timed_out++;
      why = "no hello before the deadline";
    } else if (!first) {
      why = "closed before its hello";
    } else if (first->kind == FrameKind::kMembersRequest) {
      co_await answer_members_request(*sock, first->payload);
    } else if (first->kind != FrameKind::kHello) {
      why = "the connection did not start with a hello";
    } else {
      peer::Hello hello = peer::decode_hello(first->payload);
      why = judge(hello);
      if (why.empty()) {
        // A member: its frames may be as large as Raft's batches (what came after the hello
        // in the same read is already in the decoder).
        decoder.set_max_frame_bytes(options.max_frame_bytes);
        buffer.resize(kReadBytes);
        why = co_await serve_member(*sock, decoder, buffer, hello.from);
      } else if (removed.count(hello.from)) {
        std::string notice = peer::encode_frame(FrameKind::kRemoved, "");
        co_await asio::async_write(*sock, asio::buffer(notice), kTuple);
      }
    }
  } catch (const DecodeError& e) {
    stats.bad_frames++;
    why = e.what();
  } catch (const std::exception& e) {
    why = e.what();
  }
  if (!why.empty()) spdlog::warn("peer transport: dropping the connection from {}: {}", where, why);
  sock->close(ec);
}

asio::awaitable<void> PeerTransport::Impl::answer_members_request(PeerStream& sock,
                                                                  const std::string& payload) {
  peer::MembersRequest req = peer::decode_members_request(payload);
  std::string answer;
  if (req.token_hash != peer::token_hash(options.cluster_token)) {
    spdlog::warn("peer transport: refused a members request with another cluster token");
    co_return;
  }
  if (handlers.on_members_request) answer = handlers.on_members_request(req.peer_urls);
  if (answer.empty()) {
    spdlog::warn("peer transport: refused a members request from peer URLs {}: no member has "
                 "them (member add first)", fmt::join(req.peer_urls, ","));
    co_return;
  }
  std::string frame = peer::encode_frame(FrameKind::kMembers, answer);
  auto [ec, n] = co_await asio::async_write(sock, asio::buffer(frame), kTuple);
  (void)ec;
  (void)n;
}

asio::awaitable<void> PeerTransport::Impl::accept_loop(tcp::acceptor& acceptor, bool tls) {
  auto self = shared_from_this();
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec == asio::error::operation_aborted || stopping) co_return;
    if (ec) {
      // Out of descriptors or a transient fault: back off rather than spin.
      if (stats.accept_failures++ % 100 == 0) {
        spdlog::warn("peer transport: accept failed: {} ({} times)", ec.message(),
                     stats.accept_failures);
      }
      asio::steady_timer pause(io, std::chrono::milliseconds(100));
      co_await pause.async_wait(kTuple);
      continue;
    }
    if (handshaking >= options.max_handshaking || open_incoming >= options.max_incoming ||
        (options.descriptor_allowed && !options.descriptor_allowed(socket.native_handle()))) {
      stats.connections_refused++;
      if (stats.connections_refused == 1 || stats.connections_refused % 1000 == 0) {
        spdlog::warn("peer transport: refusing connections: {} open, {} before their hello "
                     "(limits {} and {}); {} refused so far", open_incoming, handshaking,
                     options.max_incoming, options.max_handshaking, stats.connections_refused);
      }
      socket.close(ec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto sock = std::make_shared<PeerStream>(std::move(socket));
    incoming.remove_if([](const auto& w) { return w.expired(); });
    incoming.push_back(sock);
    asio::co_spawn(io, reader(sock, tls), asio::detached);
  }
}

}  // namespace etcdlab::runtime
