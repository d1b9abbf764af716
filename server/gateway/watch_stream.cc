// The I/O of a /v3/watch connection (watch_stream.h).
#include "watch_stream.h"

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

}  // namespace

asio::awaitable<void> serve_watch(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                  http::request_parser<http::string_body>& parser,
                                  KvService& service, uint64_t max_request_bytes) {
  auto executor = co_await asio::this_coro::executor;
  auto shared = std::make_shared<Shared>(executor);
  std::weak_ptr<Shared> weak = shared;
  auto wake = [weak] {
    if (auto s = weak.lock()) s->wake();
  };
  stream.expires_never();  // a watch lives as long as its client: no idle deadline
  auto& socket = stream.socket();

  std::unique_ptr<WatchSession> session;
  try {
    session = std::make_unique<WatchSession>(service, max_request_bytes, wake);
  } catch (const GatewayError&) {
    co_return;  // (a service without watches: the connection closes)
  }

  http::response<http::empty_body> head{http::status::ok, parser.get().version()};
  head.set(http::field::server, "etcdlab");
  head.set(http::field::content_type, "application/json");
  head.set("Grpc-Metadata-Content-Type", "application/grpc");
  head.chunked(true);
  http::response_serializer<http::empty_body> serializer{head};
  auto [hec, hn] = co_await http::async_write_header(socket, serializer, kTuple);
  (void)hn;
  if (hec) co_return;

  // The reader: body pieces to the session as they come; after the body, it waits for the
  // client to close (etcd keeps the stream open).
  parser.body_limit(boost::none);  // a stream's body is unbounded; each object is bounded
  WatchSession* reading = session.get();
  asio::co_spawn(
      executor,
      [&socket, &buffer, &parser, reading, shared]() -> asio::awaitable<void> {
        while (!parser.is_done() && !reading->ended()) {
          auto [ec, n] = co_await http::async_read_some(socket, buffer, parser, kTuple);
          (void)n;
          if (ec) break;
          std::string& body = parser.get().body();
          reading->received(body);
          body.clear();
          shared->wake();
        }
        if (parser.is_done()) {
          std::array<char, 4096> sink;
          for (;;) {
            auto [ec, n] = co_await socket.async_read_some(asio::buffer(sink), kTuple);
            (void)n;
            if (ec) break;
          }
        }
        shared->reader_done = true;
        shared->wake();
      },
      asio::detached);

  for (;;) {
    std::vector<std::string> lines = session->take_lines(256);
    if (!lines.empty()) {
      std::string chunk;
      for (const auto& l : lines) chunk += l;
      asio::steady_timer deadline(executor);
      deadline.expires_after(kWriteTimeout);
      deadline.async_wait([&socket](boost::system::error_code ec) {
        if (!ec) {
          boost::system::error_code ignored;
          socket.close(ignored);
        }
      });
      auto [wec, wn] = co_await asio::async_write(socket, http::make_chunk(asio::buffer(chunk)),
                                                  kTuple);
      (void)wn;
      deadline.cancel();
      if (wec) break;
      continue;
    }
    if (session->ended()) {
      auto [lec, ln] = co_await asio::async_write(socket, http::make_chunk_last(), kTuple);
      (void)lec;
      (void)ln;
      break;
    }
    if (shared->reader_done) break;
    co_await shared->wait();
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
