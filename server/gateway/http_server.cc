// The gateway's HTTP sessions (Beast: with watch_stream.cc, the only files that include it).
#include "http_server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <list>

#include "errors.h"
#include "handlers.h"
#include "watch_stream.h"

namespace etcdlab::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// The largest body read: a request that decodes to gRPC's receive cap (max + 512 KiB) takes
// about 4/3 of that as base64 in JSON. Past this the body is not read at all (429).
uint64_t body_limit(uint64_t max_request_bytes) {
  return (max_request_bytes + kGrpcOverheadBytes) / 3 * 4 + 64 * 1024;
}

// The headers of every answer, streamed or not: etcd's gateway sends the CORS headers on all.
template <class Body>
void set_headers(http::response<Body>& res, const HttpResponse& r, bool keep_alive) {
  res.set(http::field::server, "etcdlab");
  res.set(http::field::content_type, r.content_type);
  if (r.grpc_ok) res.set("Grpc-Metadata-Content-Type", "application/grpc");
  for (const auto& [name, value] : r.headers) res.set(name, value);
  res.set(http::field::access_control_allow_origin, "*");
  res.set(http::field::access_control_allow_methods, "POST, GET, OPTIONS, PUT, DELETE");
  res.set(http::field::access_control_allow_headers, "accept, content-type, authorization");
  res.keep_alive(keep_alive);
}

http::response<http::string_body> to_beast(HttpResponse r, unsigned version, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  set_headers(res, r, keep_alive);
  res.body() = std::move(r.body);
  res.prepare_payload();
  return res;
}

}  // namespace

struct HttpServer::Impl {
  Impl(asio::io_context& i, KvService& s, HttpLimits l) : io(i), service(s), limits(l) {}

  asio::io_context& io;
  KvService& service;
  HttpLimits limits;
  std::list<tcp::acceptor> acceptors;
  std::list<std::weak_ptr<beast::tcp_stream>> sessions;
  uint64_t open_sessions = 0;
  uint64_t accept_failures = 0;
  uint64_t refused = 0;
  bool stopping = false;

  struct Open {
    uint64_t& n;
    explicit Open(uint64_t& c) : n(c) { ++n; }
    ~Open() { --n; }
    Open(const Open&) = delete;
    Open& operator=(const Open&) = delete;
  };

  // What the connection's first bytes say it speaks, read without taking them from the socket.
  enum class Protocol { kHttp1, kHttp2, kTls, kGone };
  asio::awaitable<Protocol> sniff(beast::tcp_stream& stream) {
    static constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    tcp::socket& socket = stream.socket();
    // The read deadline covers the wait for the first bytes (a raw wait: Beast's own timeout
    // applies only to its operations).
    asio::steady_timer deadline(io, limits.read_timeout);
    bool expired = false;
    deadline.async_wait([&socket, &expired](boost::system::error_code ec) {
      if (ec) return;
      expired = true;
      socket.cancel(ec);
    });
    std::array<char, kPreface.size()> head;
    for (;;) {
      auto [wec] = co_await socket.async_wait(tcp::socket::wait_read, kTuple);
      if (wec || expired) co_return Protocol::kGone;
      ssize_t n = ::recv(socket.native_handle(), head.data(), head.size(), MSG_PEEK);
      if (n <= 0) co_return Protocol::kGone;
      std::string_view got(head.data(), static_cast<size_t>(n));
      if (got[0] == 0x16) co_return Protocol::kTls;  // a TLS handshake record
      if (!kPreface.starts_with(got)) co_return Protocol::kHttp1;
      if (got.size() == kPreface.size()) co_return Protocol::kHttp2;
      // A prefix of the preface so far: wait a moment for the rest (the socket stays
      // readable, so waiting on it again would spin).
      asio::steady_timer pause(io, std::chrono::milliseconds(2));
      co_await pause.async_wait(kTuple);
    }
  }

  asio::awaitable<void> session(std::shared_ptr<beast::tcp_stream> stream) {
    Open open(open_sessions);
    if (limits.adopt_http2) {
      Protocol p = co_await sniff(*stream);
      if (p == Protocol::kGone) co_return;
      if (p == Protocol::kTls) {
        beast::error_code ec;
        auto ep = stream->socket().remote_endpoint(ec);
        spdlog::warn("gateway: refused a TLS handshake from {} on a plaintext client port",
                     ec ? std::string("a client")
                        : fmt::format("{}:{}", ep.address().to_string(), ep.port()));
        stream->socket().close(ec);
        co_return;
      }
      if (p == Protocol::kHttp2) {
        stream->expires_never();
        limits.adopt_http2(stream->release_socket().release());
        co_return;
      }
    }
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      // No limit while the header is read: a watch's body may declare any length (a client
      // streaming requests to etcd's gateway over HTTP/1.1 must declare more than it sends,
      // see watch_stream.h). Other bodies get theirs below, before a byte of them is read.
      parser.body_limit(boost::none);
      stream->expires_after(limits.read_timeout);
      auto [hec, hn] = co_await http::async_read_header(*stream, buffer, parser, kTuple);
      (void)hn;
      boost::system::error_code ec = hec;
      const bool watch =
          parser.get().method() == http::verb::post && parser.get().target() == "/v3/watch";
      const uint64_t limit = body_limit(limits.max_request_bytes);
      // A body over the limit is refused on its Content-Length, before it is read (a watch's
      // is not: its requests are bounded one by one).
      if (!ec && !watch && parser.content_length().value_or(0) > limit) {
        ec = http::error::body_limit;
      }
      if (!ec) {
        if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
          // The client waits for this before it sends the body (curl does for uploads of
          // unknown length, such as a watch's request stream, and for large bodies).
          http::response<http::empty_body> go_on{http::status::continue_,
                                                 parser.get().version()};
          auto [cec, cn] = co_await http::async_write(*stream, go_on, kTuple);
          (void)cn;
          if (cec) break;
        }
        if (watch) {
          // A bidirectional stream: its body is read as it comes, beside the answers.
          co_await serve_watch(*stream, buffer, parser, service, limits.max_request_bytes);
          break;
        }
        parser.body_limit(limit);  // (a chunked body is checked as it is read)
        auto [bec, bn] = co_await http::async_read(*stream, buffer, parser, kTuple);
        (void)bn;
        ec = bec;
      }
      if (ec == http::error::body_limit) {
        // As etcd's gRPC server: larger than its receive cap (N is the body's length here).
        GatewayError e(GrpcCode::kResourceExhausted,
                       fmt::format("grpc: received message larger than max ({} vs. {})",
                                   parser.content_length().value_or(0),
                                   limits.max_request_bytes + kGrpcOverheadBytes));
        auto res = to_beast(error_response(e), 11, false);
        stream->expires_after(std::chrono::seconds(5));
        co_await http::async_write(*stream, res, kTuple);
        co_await linger(*stream);
        co_return;
      }
      if (ec) break;  // closed, reset, timed out, or not HTTP
      auto req = parser.release();
      HttpRequest r{std::string(req.method_string()), std::string(req.target()),
                    std::move(req.body()), std::string(req[http::field::authorization])};
      HttpResponse answer = co_await handle(service, std::move(r));
      bool keep_alive = req.keep_alive() && !stopping;
      if (answer.stream) {
        if (!co_await write_stream(*stream, answer, req.version(), keep_alive) || !keep_alive) {
          break;
        }
        continue;
      }
      auto res = to_beast(std::move(answer), req.version(), keep_alive);
      stream->expires_after(std::chrono::seconds(30));
      auto [wec, wn] = co_await http::async_write(*stream, res, kTuple);
      (void)wn;
      if (wec || !keep_alive) break;
    }
    beast::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // A streamed answer in chunked encoding, a piece per chunk as the producer yields them (so a
  // large snapshot never sits in memory whole). False if the client went away.
  static asio::awaitable<bool> write_stream(beast::tcp_stream& stream, HttpResponse& answer,
                                            unsigned version, bool keep_alive) {
    http::response<http::empty_body> res{static_cast<http::status>(answer.status), version};
    set_headers(res, answer, keep_alive);
    res.chunked(true);
    http::response_serializer<http::empty_body> head{res};
    stream.expires_after(std::chrono::seconds(30));
    auto [hec, hn] = co_await http::async_write_header(stream, head, kTuple);
    (void)hn;
    if (hec) co_return false;
    for (;;) {
      std::optional<std::string> piece = co_await answer.stream();
      stream.expires_after(std::chrono::seconds(30));
      if (!piece) {
        auto [lec, ln] = co_await asio::async_write(stream, http::make_chunk_last(), kTuple);
        (void)ln;
        co_return !lec;
      }
      if (piece->empty()) continue;  // an empty chunk would end the body
      auto [cec, cn] =
          co_await asio::async_write(stream, http::make_chunk(asio::buffer(*piece)), kTuple);
      (void)cn;
      if (cec) co_return false;
    }
  }

  // Closes after an early answer without losing it: the client may still be sending the body
  // we refused, and closing with unread bytes makes the kernel reset the connection (the
  // client would see a broken pipe, not the answer). So: stop sending, then read and drop
  // what comes, for a bounded time and amount, then close.
  static asio::awaitable<void> linger(beast::tcp_stream& stream) {
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.expires_after(std::chrono::seconds(3));
    std::array<char, 64 * 1024> sink;
    uint64_t drained = 0;
    while (drained < (64ULL << 20)) {
      auto [rec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
      if (rec) break;
      drained += n;
    }
    stream.socket().close(ec);
  }

  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, Take take) {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kTuple);
      if (ec == asio::error::operation_aborted || stopping) co_return;
      if (ec) {
        // Out of descriptors (EMFILE) or a transient fault: back off rather than spin (the
        // pending connection stays in the backlog until a descriptor is free).
        if (accept_failures++ % 100 == 0) {
          spdlog::warn("gateway: accept failed: {} ({} times)", ec.message(), accept_failures);
        }
        asio::steady_timer pause(io, std::chrono::milliseconds(100));
        co_await pause.async_wait(kTuple);
        continue;
      }
      uint64_t open = open_sessions + (limits.pending ? limits.pending() : 0);
      bool over = limits.max_connections > 0 && open >= limits.max_connections;
      if (over || (limits.descriptor_allowed &&
                   !limits.descriptor_allowed(socket.native_handle()))) {
        if (refused++ % 100 == 0) {
          spdlog::warn("gateway: refusing a client connection: {} ({} refused so far)",
                       over ? fmt::format("{} open (--max-client-connections)", open)
                            : std::string("descriptors are kept for the storage"),
                       refused);
        }
        if (limits.on_refused) limits.on_refused();
        socket.close(ec);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      if (take) {
        take(std::move(socket));
        continue;
      }
      start(std::move(socket));
    }
  }

  void start(tcp::socket socket) {
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    sessions.remove_if([](const auto& w) { return w.expired(); });
    sessions.push_back(stream);
    asio::co_spawn(io, session(stream), asio::detached);
  }
};

HttpServer::HttpServer(asio::io_context& io, KvService& service, HttpLimits limits)
    : impl_(std::make_unique<Impl>(io, service, limits)) {}

HttpServer::~HttpServer() = default;

uint16_t HttpServer::listen(const std::string& host, uint16_t port, Take take) {
  tcp::endpoint endpoint(asio::ip::make_address(host), port);
  auto& acceptor = impl_->acceptors.emplace_back(impl_->io);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(impl_->io, impl_->accept_loop(acceptor, std::move(take)), asio::detached);
  return acceptor.local_endpoint().port();
}

void HttpServer::adopt(int fd) {
  // (A tcp::socket over a Unix socketpair end: the session only reads and writes it.)
  tcp::socket socket(impl_->io);
  beast::error_code ec;
  socket.assign(tcp::v4(), fd, ec);
  if (ec) {
    ::close(fd);
    return;
  }
  impl_->start(std::move(socket));
}

void HttpServer::stop() {
  impl_->stopping = true;
  beast::error_code ignored;
  for (auto& a : impl_->acceptors) a.close(ignored);
  for (auto& w : impl_->sessions) {
    if (auto s = w.lock()) s->socket().close(ignored);
  }
}

}  // namespace etcdlab::gateway
