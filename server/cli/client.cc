#include "client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <thread>
#include <variant>

namespace etcdlab::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Answer {
  int status = 0;
  std::string body;
};
struct Unreachable {};  // not connected: the request was not sent
struct TimedOut {};     // the deadline passed while waiting for the answer
using Attempt = std::variant<Answer, Unreachable, TimedOut>;

// One try: connect (within the dial timeout and the deadline), send, read the answer. Beast's
// timeouts apply to asynchronous operations only, so each step is one run of the io_context.
Attempt attempt(const std::string& endpoint, const std::string& path, const std::string& body,
                std::chrono::nanoseconds dial_timeout, Deadline deadline) {
  std::string url = endpoint.find("://") == std::string::npos ? "http://" + endpoint : endpoint;
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return Unreachable{};
  std::string host(parsed->host());
  std::string port = parsed->has_port() ? std::string(parsed->port()) : "2379";
  asio::io_context io;
  beast::error_code ec;
  auto run = [&] {
    io.run();
    io.restart();
  };
  tcp::resolver resolver(io);
  auto addresses = resolver.resolve(host, port, ec);
  if (ec) return Unreachable{};

  beast::tcp_stream stream(io);
  auto now = Clock::now();
  if (now >= deadline) return TimedOut{};
  stream.expires_after(std::min<Clock::duration>(
      std::chrono::duration_cast<Clock::duration>(dial_timeout), deadline - now));
  stream.async_connect(addresses, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  run();
  if (ec) return Clock::now() >= deadline ? Attempt{TimedOut{}} : Attempt{Unreachable{}};

  http::request<http::string_body> req{http::verb::post, path, 11};
  req.set(http::field::host, host);
  req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ULL << 32);
  stream.expires_at(deadline);
  http::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
  run();
  if (!ec) {
    http::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
    run();
  }
  if (ec == beast::error::timeout) return TimedOut{};
  if (ec) throw EtcdError(ec.message());
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return Answer{static_cast<int>(parser.get().result_int()), parser.get().body()};
}

json::object decode(const std::string& endpoint, const Answer& a) {
  boost::system::error_code ec;
  json::value v = json::parse(a.body, ec);
  if (ec || !v.is_object()) throw EtcdError("unexpected answer from " + endpoint + ": " + a.body);
  auto& o = v.as_object();
  if (a.status != 200) {
    if (auto it = o.find("message"); it != o.end() && it->value().is_string()) {
      throw EtcdError(std::string(it->value().as_string()));
    }
    throw EtcdError("HTTP " + std::to_string(a.status) + ": " + a.body);
  }
  return std::move(o);
}

}  // namespace

void Client::stream_at(const std::string& endpoint, const std::string& path,
                       const json::object& body, Deadline deadline,
                       const std::function<void(std::string_view)>& sink) const {
  std::string url = endpoint.find("://") == std::string::npos ? "http://" + endpoint : endpoint;
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw EtcdError("bad endpoint " + endpoint);
  std::string host(parsed->host());
  std::string port = parsed->has_port() ? std::string(parsed->port()) : "2379";
  asio::io_context io;
  beast::error_code ec;
  auto run = [&] {
    io.run();
    io.restart();
  };
  auto fail = [&](const beast::error_code& e) {
    throw EtcdError(e == beast::error::timeout ? std::string(kDeadlineExceeded) : e.message());
  };
  tcp::resolver resolver(io);
  auto addresses = resolver.resolve(host, port, ec);
  if (ec) fail(ec);
  beast::tcp_stream stream(io);
  stream.expires_at(std::min(deadline, Clock::now() + dial_timeout_));
  stream.async_connect(addresses, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  run();
  if (ec) fail(ec);

  http::request<http::string_body> req{http::verb::post, path, 11};
  req.set(http::field::host, host);
  req.set(http::field::content_type, "application/json");
  req.body() = json::serialize(body);
  req.prepare_payload();
  stream.expires_at(deadline);
  http::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
  run();
  if (ec) fail(ec);

  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);  // a database: as large as it is
  http::async_read_header(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
  run();
  if (ec) fail(ec);
  const bool ok = parser.get().result() == http::status::ok;
  std::string error_body;
  std::vector<char> piece(64 * 1024);
  while (!parser.is_done()) {
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    http::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
    run();
    if (ec == http::error::need_buffer) ec = {};
    if (ec) fail(ec);
    std::string_view got(piece.data(), piece.size() - parser.get().body().size);
    if (ok) {
      sink(got);
    } else if (error_body.size() < 64 * 1024) {
      error_body += got;
    }
  }
  if (!ok) decode(endpoint, Answer{static_cast<int>(parser.get().result_int()), error_body});
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

Client::Client(std::vector<std::string> endpoints, std::chrono::nanoseconds dial_timeout)
    : endpoints_(std::move(endpoints)), dial_timeout_(dial_timeout) {}

json::object Client::call(const std::string& path, const json::object& body, Deadline deadline,
                          Retry retry) const {
  return call_on(endpoints_, path, body, deadline, retry);
}

json::object Client::call_at(const std::string& endpoint, const std::string& path,
                             const json::object& body, Deadline deadline, Retry retry) const {
  return call_on({endpoint}, path, body, deadline, retry);
}

json::object Client::call_on(const std::vector<std::string>& endpoints, const std::string& path,
                             const json::object& body, Deadline deadline, Retry retry) const {
  std::string request = json::serialize(body);
  auto pause = std::chrono::milliseconds(50);
  while (true) {
    for (const auto& ep : endpoints) {
      Attempt a = attempt(ep, path, request, dial_timeout_, deadline);
      if (std::holds_alternative<TimedOut>(a)) throw EtcdError(kDeadlineExceeded);
      if (std::holds_alternative<Unreachable>(a)) continue;
      const Answer& answer = std::get<Answer>(a);
      if (answer.status != 503 || retry == Retry::kNotRepeatable) return decode(ep, answer);
    }
    auto now = Clock::now();
    if (now >= deadline) throw EtcdError(kDeadlineExceeded);
    std::this_thread::sleep_for(std::min<Clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds(1000));
  }
}

}  // namespace etcdlab::cli
