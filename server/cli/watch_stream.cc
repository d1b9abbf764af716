#include "watch_stream.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <array>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "client.h"

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

struct WatchStream::Impl {
  asio::io_context io;
  tcp::socket socket{io};
  std::mutex send_mutex;
  // The nudger's: it sends newlines until the answer's header came or the stream closed.
  std::mutex nudge_mutex;
  std::condition_variable nudge_wake;
  bool header_seen = false;
  bool closed = false;
  std::thread nudger;
  // The reader's.
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  std::string pending;  // answer bytes not yet a whole line
  bool ended = false;

  bool write(std::string_view bytes) {
    std::lock_guard lock(send_mutex);
    boost::system::error_code ec;
    asio::write(socket, asio::buffer(bytes.data(), bytes.size()), ec);
    return !ec;
  }

  void nudge() {
    std::unique_lock lock(nudge_mutex);
    while (!header_seen && !closed) {
      if (nudge_wake.wait_for(lock, kNudgeEvery, [&] { return header_seen || closed; })) break;
      lock.unlock();
      bool ok = write("\n");
      lock.lock();
      if (!ok) break;
    }
  }

  void stop_nudging() {
    {
      std::lock_guard lock(nudge_mutex);
      header_seen = true;
    }
    nudge_wake.notify_all();
  }

  // Reads what the socket has into `pending`; false at the end of the stream.
  bool read_more() {
    if (parser.is_done()) return false;
    std::array<char, 64 * 1024> piece;
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    boost::system::error_code ec;
    http::read_some(socket, buffer, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    pending.append(piece.data(), piece.size() - parser.get().body().size);
    return !ec;
  }
};

WatchStream::WatchStream(std::unique_ptr<Impl> impl, std::string endpoint)
    : impl_(std::move(impl)), endpoint_(std::move(endpoint)) {}

WatchStream::~WatchStream() {
  shutdown();
  if (impl_->nudger.joinable()) impl_->nudger.join();
}

std::unique_ptr<WatchStream> WatchStream::open(const std::string& endpoint,
                                               std::chrono::nanoseconds dial_timeout,
                                               const std::string& token) {
  auto impl = std::make_unique<Impl>();
  std::string url = endpoint.find("://") == std::string::npos ? "http://" + endpoint : endpoint;
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return nullptr;
  std::string host(parsed->host());
  std::string port = parsed->has_port() ? std::string(parsed->port()) : "2379";
  boost::system::error_code ec;
  auto addresses = tcp::resolver(impl->io).resolve(host, port, ec);
  if (ec) return nullptr;
  // Connect within the dial timeout (the only step with a deadline: a watch waits for ever).
  bool connected = false;
  asio::async_connect(impl->socket, addresses, [&](boost::system::error_code e, const auto&) {
    connected = !e;
  });
  impl->io.run_for(std::chrono::duration_cast<std::chrono::milliseconds>(dial_timeout));
  if (!connected) return nullptr;
  impl->socket.set_option(tcp::no_delay(true), ec);

  http::request<http::empty_body> req{http::verb::post, "/v3/watch", 11};
  req.set(http::field::host, host);
  req.set(http::field::content_type, "application/json");
  if (!token.empty()) req.set(http::field::authorization, token);
  req.content_length(kDeclaredLength);
  http::request_serializer<http::empty_body> head{req};
  http::write_header(impl->socket, head, ec);
  if (ec) return nullptr;
  Impl* raw = impl.get();
  impl->nudger = std::thread([raw] { raw->nudge(); });
  return std::unique_ptr<WatchStream>(new WatchStream(std::move(impl), endpoint));
}

bool WatchStream::send(const json::object& request) {
  return impl_->write(json::serialize(request) + "\n");
}

std::optional<json::object> WatchStream::next() {
  Impl& s = *impl_;
  if (s.ended) return std::nullopt;
  if (!s.parser.is_header_done()) {
    boost::system::error_code ec;
    http::read_header(s.socket, s.buffer, s.parser, ec);
    s.stop_nudging();
    if (ec) {
      s.ended = true;
      return std::nullopt;
    }
    if (s.parser.get().result() != http::status::ok) {
      // etcd refused the first request: {"error", "message", "code"}.
      while (s.read_more()) {
      }
      s.ended = true;
      json::value v = json::parse(s.pending, ec);
      if (!ec && v.is_object() && v.as_object().contains("message") &&
          v.as_object().at("message").is_string()) {
        throw EtcdError(std::string(v.as_object().at("message").as_string()));
      }
      throw EtcdError("HTTP " + std::to_string(s.parser.get().result_int()) + ": " + s.pending);
    }
  }
  for (;;) {
    size_t end = s.pending.find('\n');
    if (end == std::string::npos && !s.read_more()) {
      s.ended = true;
      end = s.pending.empty() ? std::string::npos : s.pending.size();
      if (end == std::string::npos) return std::nullopt;
    }
    if (end == std::string::npos) continue;
    std::string line = s.pending.substr(0, end);
    s.pending.erase(0, std::min(end + 1, s.pending.size()));
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      if (s.ended) return std::nullopt;
      continue;
    }
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) throw EtcdError("unexpected answer from " + endpoint_ + ": " + line);
    return std::move(v.as_object());
  }
}

void WatchStream::shutdown() {
  {
    std::lock_guard lock(impl_->nudge_mutex);
    impl_->closed = true;
  }
  impl_->nudge_wake.notify_all();
  boost::system::error_code ignored;
  impl_->socket.shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace etcdlab::cli
