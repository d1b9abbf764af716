// The I/O of a /v3/watch connection (watch_stream.h).
#include "watch_stream.h"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <array>
#include <memory>

#include "errors.h"
#include "watch_session.h"

namespace etcdlab::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// A client that takes no answer for this long is gone: its connection is closed (its watchers'
// responses meanwhile wait in the hub, bounded, and the watchers fall behind).
constexpr auto kWriteTimeout = std::chrono::seconds(60);

// What the reader and the writer share; the wake-ups are never lost: a wake before the writer
// waits is remembered in `woken`.
struct Shared {
  explicit Shared(asio::any_io_executor ex) : timer(ex, asio::steady_timer::time_point::max()) {}
  void wake() {
    woken = true;
    timer.cancel();
  }
  asio::awaitable<void> wait() {
    if (!woken) {
      timer.expires_at(asio::steady_timer::time_point::max());
      co_await timer.async_wait(kTuple);
    }
    woken = false;
  }
  asio::steady_timer timer;
  bool woken = false;
  bool reader_done = false;
};

// The headers etcd's gateway sends on every answer (grpc-gateway's, and etcd's CORS ones).
template <class Message>
void set_headers(Message& m, bool grpc_ok) {
  m.set(http::field::server, "etcdlab");
  m.set(http::field::content_type, "application/json");
  if (grpc_ok) m.set("Grpc-Metadata-Content-Type", "application/grpc");
  m.set(http::field::access_control_allow_origin, "*");
  m.set(http::field::access_control_allow_methods, "POST, GET, OPTIONS, PUT, DELETE");
  m.set(http::field::access_control_allow_headers, "accept, content-type, authorization");
}

// Writes `bytes`, closing the socket if the client takes none of it for kWriteTimeout.
template <class Buffers>
asio::awaitable<bool> write_all(asio::ip::tcp::socket& socket, const Buffers& bytes) {
  asio::steady_timer deadline(co_await asio::this_coro::executor);
  deadline.expires_after(kWriteTimeout);
  deadline.async_wait([&socket](boost::system::error_code ec) {
    if (!ec) {
      boost::system::error_code ignored;
      socket.close(ignored);
    }
  });
  auto [ec, n] = co_await asio::async_write(socket, bytes, kTuple);
  (void)n;
  deadline.cancel();
  co_return !ec;
}

// The answers: the session's lines as chunks, the header with the first; or the refusal.
// Returns when the client has gone (or, after a refusal, has had a moment to read it).
asio::awaitable<void> write_answers(asio::ip::tcp::socket& socket, WatchSession& session,
                                    Shared& shared, unsigned version) {
  bool head_sent = false;
  for (;;) {
    if (const auto& refusal = session.refusal()) {
      // The first request could not be read: etcd's error answer, then the connection ends,
      // once the client stopped sending (closing on unread bytes would reset the connection
      // and could lose the answer).
      http::response<http::string_body> res{static_cast<http::status>(refusal->status), version};
      set_headers(res, false);
      res.keep_alive(false);
      res.body() = refusal->body;
      res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(socket, res, kTuple);
      (void)wn;
      if (wec) co_return;
      boost::system::error_code ignored;
      socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
      asio::steady_timer linger(socket.get_executor(), std::chrono::seconds(3));
      linger.async_wait([&shared](boost::system::error_code ec) {
        if (!ec) shared.wake();
      });
      while (!shared.reader_done && linger.expiry() > asio::steady_timer::clock_type::now()) {
        co_await shared.wait();
      }
      co_return;
    }
    std::vector<std::string> lines = session.take_lines(256);
    if (!lines.empty()) {
      std::string chunk;
      for (const auto& l : lines) chunk += l;
      if (!head_sent) {
        http::response<http::empty_body> head{http::status::ok, version};
        set_headers(head, true);
        head.chunked(true);
        http::response_serializer<http::empty_body> serializer{head};
        auto [hec, hn] = co_await http::async_write_header(socket, serializer, kTuple);
        (void)hn;
        if (hec) co_return;
        head_sent = true;
      }
      if (!co_await write_all(socket, http::make_chunk(asio::buffer(chunk)))) co_return;
      continue;
    }
    if (shared.reader_done) co_return;
    co_await shared.wait();
  }
}

}  // namespace

asio::awaitable<void> serve_watch(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                  http::request_parser<http::string_body>& header_parser,
                                  KvService& service, uint64_t max_request_bytes) {
  auto executor = co_await asio::this_coro::executor;
  auto shared = std::make_shared<Shared>(executor);
  std::weak_ptr<Shared> weak = shared;
  auto wake = [weak] {
    if (auto s = weak.lock()) s->wake();
  };
  stream.expires_never();  // a watch lives as long as its client: no idle deadline
  auto& socket = stream.socket();
  const unsigned version = header_parser.get().version();
  server::Credentials who;  // the Authorization header's token checks every create request
  if (auto auth = header_parser.get()[http::field::authorization]; !auth.empty()) {
    who.token = std::string(auth);
  }

  std::unique_ptr<WatchSession> session;
  std::unique_ptr<http::request_parser<http::buffer_body>> parser;
  try {
    // The body is read into a fixed piece at a time: a declared length is never reserved.
    parser = std::make_unique<http::request_parser<http::buffer_body>>(std::move(header_parser));
    parser->body_limit(boost::none);  // a stream's body is unbounded; each object is bounded
    session = std::make_unique<WatchSession>(service, max_request_bytes, wake, std::move(who));
  } catch (const std::exception&) {
    co_return;  // (a service without watches, a parser that cannot change: the connection closes)
  }

  // The reader: body pieces to the session as they come; after the body, it waits for the
  // client to close (etcd keeps the stream open).
  WatchSession* reading = session.get();
  http::request_parser<http::buffer_body>* body = parser.get();
  asio::co_spawn(
      executor,
      [&socket, &buffer, body, reading, shared]() -> asio::awaitable<void> {
        std::array<char, 64 * 1024> piece;
        while (!body->is_done()) {
          body->get().body().data = piece.data();
          body->get().body().size = piece.size();
          auto [ec, n] = co_await http::async_read_some(socket, buffer, *body, kTuple);
          (void)n;
          if (ec == http::error::need_buffer) ec = {};
          if (ec) break;
          size_t got = piece.size() - body->get().body().size;
          if (got == 0) continue;
          try {
            reading->received(std::string_view(piece.data(), got));
          } catch (const std::exception& e) {
            // A bug, not the client's: the connection ends, never the server.
            spdlog::error("gateway: watch stream: {}", e.what());
            break;
          }
          shared->wake();
        }
        if (body->is_done()) {
          reading->body_ended();
          shared->wake();
          for (;;) {
            auto [ec, n] = co_await socket.async_read_some(asio::buffer(piece), kTuple);
            (void)n;
            if (ec) break;
          }
        }
        shared->reader_done = true;
        shared->wake();
      },
      asio::detached);

  try {
    co_await write_answers(socket, *session, *shared, version);
  } catch (const std::exception& e) {
    spdlog::error("gateway: watch stream: {}", e.what());  // (a bug: the connection ends)
  }
  // The reader must be gone before the session and the parser are.
  if (!shared->reader_done) {
    boost::system::error_code ignored;
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket.cancel(ignored);
    while (!shared->reader_done) co_await shared->wait();
  }
  session.reset();  // closes the hub stream: its watchers end
}

}  // namespace etcdlab::gateway
