// The client port's TLS front (tls_pump.h).
#include "tls_pump.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <string_view>

#include "../grpc/tls_peers.h"
#include "tls_context.h"

namespace etcdlab::runtime {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Go's answer to an HTTP request on a TLS port (net/http, tlsRecordHeaderLooksLikeHTTP).
constexpr std::string_view kPlaintextAnswer =
    "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

bool looks_like_http(std::string_view head) {
  for (std::string_view m : {"GET /", "HEAD ", "POST ", "PUT /", "OPTIO"}) {
    if (head == m) return true;
  }
  return false;
}

std::string describe(const tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "a client";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

// One connection once its handshake is done: the TLS side and the plaintext end kept here.
struct Pumped {
  Pumped(ssl::stream<tcp::socket> t, asio::local::stream_protocol::socket i)
      : tls(std::move(t)), inner(std::move(i)) {}
  ssl::stream<tcp::socket> tls;
  asio::local::stream_protocol::socket inner;
  int inner_fd = -1;    // the end gRPC or Beast was given (for the registry)
  uint64_t ticket = 0;  // its CN registration (0: none)
  int running = 2;      // directions still pumping
  asio::steady_timer linger{inner.get_executor()};

  // A direction ends when its source does (or its destination fails): the end is passed on
  // as a half-close, so the other direction still delivers what is in flight (an early answer
  // such as a 429 reaches a client that is still sending; the server's side drains the rest).
  // TLS' side gets a TCP FIN without close_notify (clients have the answer's length). Once both
  // have ended, everything is closed.
  void decrypt_ended() {
    boost::system::error_code ignored;
    inner.shutdown(asio::socket_base::shutdown_send, ignored);
    ended();
  }
  void encrypt_ended(std::shared_ptr<Pumped> self) {
    boost::system::error_code ignored;
    tls.next_layer().shutdown(asio::socket_base::shutdown_send, ignored);
    ended();
    // The server's side is done: a client that never closes its side is closed for it (the
    // gateway lingers 3 s for the rest of a refused body).
    if (running > 0) {
      linger.expires_after(std::chrono::seconds(10));
      linger.async_wait([self](boost::system::error_code ec) {
        if (ec || self->running == 0) return;
        boost::system::error_code ignored2;
        self->tls.next_layer().close(ignored2);  // (the decrypting side then ends)
      });
    }
  }
  void ended() {
    if (--running > 0) return;
    boost::system::error_code ignored;
    tls.next_layer().close(ignored);
    inner.close(ignored);
    linger.cancel();
    if (ticket != 0) grpc_door::unregister_tls_peer(inner_fd, ticket);
  }
};

asio::awaitable<void> decrypt(std::shared_ptr<Pumped> p) {
  std::array<char, 64 * 1024> buf;
  for (;;) {
    auto [rec, n] = co_await p->tls.async_read_some(asio::buffer(buf), kTuple);
    if (rec) break;
    auto [wec, wn] = co_await asio::async_write(p->inner, asio::buffer(buf.data(), n), kTuple);
    (void)wn;
    if (wec) break;
  }
  p->decrypt_ended();
}

asio::awaitable<void> encrypt(std::shared_ptr<Pumped> p) {
  std::array<char, 64 * 1024> buf;
  for (;;) {
    auto [rec, n] = co_await p->inner.async_read_some(asio::buffer(buf), kTuple);
    if (rec) break;
    auto [wec, wn] = co_await asio::async_write(p->tls, asio::buffer(buf.data(), n), kTuple);
    (void)wn;
    if (wec) break;
  }
  p->encrypt_ended(p);
}

// Waits for the first bytes: true if they open a TLS handshake record; otherwise answers (an
// HTTP request) or just closes, with one log line, and returns false.
asio::awaitable<bool> is_tls(tcp::socket& s, const std::string& from, const bool& expired) {
  std::array<char, 5> head;
  for (int tries = 0;; ++tries) {
    auto [wec] = co_await s.async_wait(tcp::socket::wait_read, kTuple);
    if (wec || expired) co_return false;
    ssize_t n = ::recv(s.native_handle(), head.data(), head.size(), MSG_PEEK);
    if (n <= 0) co_return false;
    if (head[0] == 0x16) co_return true;  // a TLS handshake record
    if (static_cast<size_t>(n) < head.size() && tries < 50) {
      asio::steady_timer pause(s.get_executor(), std::chrono::milliseconds(2));
      co_await pause.async_wait(kTuple);
      continue;
    }
    std::string_view got(head.data(), static_cast<size_t>(n));
    if (looks_like_http(got)) {
      spdlog::warn(
          "tls: refused a client connection from {}: plaintext HTTP on a TLS port "
          "(answered 400)",
          from);
      co_await asio::async_write(s, asio::buffer(kPlaintextAnswer), kTuple);
    } else {
      spdlog::warn("tls: refused a client connection from {}: not a TLS handshake", from);
    }
    boost::system::error_code ignored;
    s.shutdown(tcp::socket::shutdown_both, ignored);
    s.close(ignored);
    co_return false;
  }
}

}  // namespace

bool open_plaintext_pair(const TlsFront& front, int (&sv)[2], std::string& why) {
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    why = std::string("socketpair: ") + std::strerror(errno);
    return false;
  }
  if (front.descriptor_allowed && !front.descriptor_allowed(std::max(sv[0], sv[1]))) {
    ::close(sv[0]);
    ::close(sv[1]);
    sv[0] = sv[1] = -1;
    why = "descriptors are kept for the storage";
    return false;
  }
  return true;
}

// GCC warns, wrongly, that this coroutine's frame is freed by a mismatched operator delete
// (asio's frames bring their own operator new and sized delete: GCC bug 109224).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
asio::awaitable<void> serve_tls_client(tcp::socket socket, std::shared_ptr<const TlsFront> front) {
  auto ex = co_await asio::this_coro::executor;
  // Uncounted from handshaking when the handshake is over, whichever way it ended.
  struct Handshaking {
    const TlsFront* front;
    ~Handshaking() { done(); }
    void done() {
      if (front != nullptr) front->handshaking.fetch_sub(1);
      front = nullptr;
    }
  } handshaking{front.get()};
  const std::string from = describe(socket);
  ssl::stream<tcp::socket> tls(std::move(socket), *front->context);
  tcp::socket& raw = tls.next_layer();
  // One deadline covers the first bytes and the handshake (a silent client is cut off).
  auto expired = std::make_shared<bool>(false);
  asio::steady_timer deadline(ex, front->handshake_timeout);
  deadline.async_wait([&raw, expired](boost::system::error_code ec) {
    if (ec) return;
    *expired = true;
    raw.cancel(ec);
  });
  if (!co_await is_tls(raw, from, *expired)) {
    if (*expired) spdlog::warn("tls: refused a client connection from {}: no handshake", from);
    co_return;
  }
  auto [hec] = co_await tls.async_handshake(ssl::stream_base::server, kTuple);
  deadline.cancel();
  if (hec || *expired) {
    spdlog::warn(
        "tls: refused a client connection from {}: {}", from,
        *expired ? std::string("the handshake timed out") : tls_failure(hec, tls.native_handle()));
    co_return;
  }
  // From here it is a session, counted as one once the node thread has adopted it (a moment
  // after this, when the post runs).
  handshaking.done();
  int sv[2];
  std::string why;
  if (!open_plaintext_pair(*front, sv, why)) {
    // (At most one line a second would be kinder to the log under a flood; the plaintext
    // listener's refusals log one line per hundred. Kept per connection: this needs a
    // handshake first, so it comes at the handshake's rate.)
    spdlog::warn("tls: refused a client connection from {}: {}", from, why);
    if (front->on_refused) front->on_refused();
    co_return;  // (the TLS socket closes as `tls` goes)
  }
  asio::local::stream_protocol::socket inner(ex);
  inner.assign(asio::local::stream_protocol(), sv[0]);
  auto p = std::make_shared<Pumped>(std::move(tls), std::move(inner));
  p->inner_fd = sv[1];
  if (front->client_cert_auth) {
    if (auto cn = peer_common_name(p->tls.native_handle())) {
      p->ticket = grpc_door::register_tls_peer(sv[1], std::move(*cn));
    }
  }
  front->adopt(sv[1]);
  asio::co_spawn(ex, decrypt(p), asio::detached);
  asio::co_spawn(ex, encrypt(p), asio::detached);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace etcdlab::runtime
