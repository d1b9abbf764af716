#include "watch_stream.h"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "../runtime/tls_context.h"

namespace etcdlab::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using asio::ip::tcp;

namespace {
// Never reached: the stream ends when the connection closes (see the header).
constexpr uint64_t kDeclaredLength = uint64_t{1} << 50;
constexpr auto kNudgeEvery = std::chrono::milliseconds(20);
}  // namespace

// The connection lives on `io`, run by `runner` once open() has sent the header: reads,
// writes, the nudges and the shutdown all happen there (one thread: what an OpenSSL stream
// needs). The users' threads see only what is under `mu`.
struct WatchStream::Impl {
  asio::io_context io;
  tcp::socket socket{io};
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;  // over `socket`, or null
  std::shared_ptr<void> tls_context;                     // kept alive while `tls` is
  // Made when `runner` starts (before, open() runs `io` until its steps are done).
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread runner;

  // The I/O thread's.
  asio::steady_timer nudge_timer{io};
  bool header_seen = false;
  std::deque<std::string> outbox;  // front: being written
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  std::array<char, 64 * 1024> piece;

  // Shared with the users' threads.
  std::mutex mu;
  std::condition_variable got;
  std::string pending;  // answer bytes not yet handed out as lines
  int status = 0;       // the answer's, once its header came
  bool ended = false;   // the connection is done (closed, failed, or the answer complete)
  bool broken = false;  // a write failed
  bool closed = false;  // shutdown()

  template <class F>
  void with_stream(F&& f) {
    if (tls) {
      f(*tls);
    } else {
      f(socket);
    }
  }

  // --- on the I/O thread ---
  void queue(std::string bytes) {
    outbox.push_back(std::move(bytes));
    if (outbox.size() == 1) write_front();
  }

  void write_front() {
    with_stream([this](auto& s) {
      asio::async_write(s, asio::buffer(outbox.front()), [this](beast::error_code ec, size_t) {
        outbox.pop_front();
        if (ec) {
          std::lock_guard lock(mu);
          broken = true;
          outbox.clear();
          return;
        }
        if (!outbox.empty()) write_front();
      });
    });
  }

  void nudge() {
    nudge_timer.expires_after(kNudgeEvery);
    nudge_timer.async_wait([this](beast::error_code ec) {
      if (ec || header_seen) return;
      if (outbox.empty()) queue("\n");
      nudge();
    });
  }

  void read_header() {
    with_stream([this](auto& s) {
      http::async_read_header(s, buffer, parser, [this](beast::error_code ec, size_t) {
        header_seen = true;
        nudge_timer.cancel();
        if (ec) return finish();
        {
          std::lock_guard lock(mu);
          status = static_cast<int>(parser.get().result_int());
        }
        got.notify_all();
        read_body();
      });
    });
  }

  void read_body() {
    if (parser.is_done()) return finish();
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    with_stream([this](auto& s) {
      http::async_read_some(s, buffer, parser, [this](beast::error_code ec, size_t) {
        if (ec == http::error::need_buffer) ec = {};
        {
          std::lock_guard lock(mu);
          pending.append(piece.data(), piece.size() - parser.get().body().size);
        }
        got.notify_all();
        if (ec) return finish();
        read_body();
      });
    });
  }

  void finish() {
    {
      std::lock_guard lock(mu);
      ended = true;
    }
    got.notify_all();
  }

  void close_connection() {
    nudge_timer.cancel();
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }
};

WatchStream::WatchStream(std::unique_ptr<Impl> impl, std::string endpoint)
    : impl_(std::move(impl)), endpoint_(std::move(endpoint)) {}

WatchStream::~WatchStream() {
  shutdown();
  impl_->work.reset();
  if (impl_->runner.joinable()) impl_->runner.join();
}

std::unique_ptr<WatchStream> WatchStream::open(const std::string& endpoint,
                                               std::chrono::nanoseconds dial_timeout,
                                               const std::string& token, const StreamDial& dial) {
  auto impl = std::make_unique<Impl>();
  std::string url = endpoint.find("://") == std::string::npos ? "http://" + endpoint : endpoint;
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return nullptr;
  std::string host(parsed->host());
  std::string port = parsed->has_port() ? std::string(parsed->port()) : "2379";
  boost::system::error_code ec;
  auto addresses = tcp::resolver(impl->io).resolve(host, port, ec);
  if (ec) return nullptr;
  // Connect (and shake hands) within the dial timeout: the only steps with a deadline, since
  // a watch waits for ever. The io_context runs here in the caller's thread until then.
  const auto budget = std::chrono::duration_cast<std::chrono::milliseconds>(dial_timeout);
  const auto until = std::chrono::steady_clock::now() + budget;
  bool connected = false;
  asio::async_connect(impl->socket, addresses,
                      [&](boost::system::error_code e, const auto&) { connected = !e; });
  impl->io.run_until(until);
  if (!connected) return nullptr;
  impl->socket.set_option(tcp::no_delay(true), ec);
  if (dial.tls_for(endpoint)) {  // (as given: an explicit http:// is plaintext)
    impl->tls_context = dial.context;
    auto* context = static_cast<asio::ssl::context*>(dial.context.get());
    impl->tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(impl->socket, *context);
    if (dial.verify_host) runtime::expect_host(impl->tls->native_handle(), host);
    bool done = false;
    impl->tls->async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code e) {
      done = true;
      ec = e;
    });
    impl->io.restart();
    impl->io.run_until(until);
    if (!done) return nullptr;  // timed out: as an endpoint that does not answer
    if (ec) {
      throw EtcdError("tls: handshake with " + host +
                      " refused: " + runtime::tls_failure(ec, impl->tls->native_handle()));
    }
  }

  http::request<http::empty_body> req{http::verb::post, "/v3/watch", 11};
  req.set(http::field::host, host);
  req.set(http::field::content_type, "application/json");
  if (!token.empty()) req.set(http::field::authorization, token);
  req.content_length(kDeclaredLength);
  http::request_serializer<http::empty_body> head{req};
  impl->with_stream([&](auto& s) { http::write_header(s, head, ec); });
  if (ec) return nullptr;
  Impl* raw = impl.get();
  impl->io.restart();
  impl->work.emplace(impl->io.get_executor());
  asio::post(impl->io, [raw] {
    raw->read_header();
    raw->nudge();
  });
  impl->runner = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<WatchStream>(new WatchStream(std::move(impl), endpoint));
}

bool WatchStream::send(const json::object& request) {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->broken || impl_->ended || impl_->closed) return false;
  }
  Impl* raw = impl_.get();
  asio::post(raw->io, [raw, bytes = json::serialize(request) + "\n"]() mutable {
    raw->queue(std::move(bytes));
  });
  return true;
}

std::optional<json::object> WatchStream::next() {
  Impl& s = *impl_;
  std::unique_lock lock(s.mu);
  for (;;) {
    if (s.closed) return std::nullopt;
    if (s.status == 0) {
      if (s.ended) return std::nullopt;  // no answer at all
      s.got.wait(lock);
      continue;
    }
    if (s.status != static_cast<int>(http::status::ok)) {
      // etcd refused the first request: {"error", "message", "code"}, read whole.
      if (!s.ended) {
        s.got.wait(lock);
        continue;
      }
      boost::system::error_code ec;
      json::value v = json::parse(s.pending, ec);
      if (!ec && v.is_object() && v.as_object().contains("message") &&
          v.as_object().at("message").is_string()) {
        throw EtcdError(std::string(v.as_object().at("message").as_string()));
      }
      throw EtcdError("HTTP " + std::to_string(s.status) + ": " + s.pending);
    }
    size_t end = s.pending.find('\n');
    if (end == std::string::npos) {
      if (!s.ended) {
        s.got.wait(lock);
        continue;
      }
      if (s.pending.empty()) return std::nullopt;
      end = s.pending.size();  // a last line without its newline
    }
    std::string line = s.pending.substr(0, end);
    s.pending.erase(0, std::min(end + 1, s.pending.size()));
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) throw EtcdError("unexpected answer from " + endpoint_ + ": " + line);
    return std::move(v.as_object());
  }
}

void WatchStream::shutdown() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->closed) return;
    impl_->closed = true;
  }
  impl_->got.notify_all();
  Impl* raw = impl_.get();
  asio::post(raw->io, [raw] { raw->close_connection(); });
}

}  // namespace etcdlab::cli
