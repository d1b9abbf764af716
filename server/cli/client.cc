#include "client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <thread>
#include <variant>

#include "../runtime/tls_context.h"

namespace etcdlab::cli {

// How to dial: TLS with this context (null: plaintext) for every endpoint or https:// ones.
struct TlsUse {
  boost::asio::ssl::context* context = nullptr;
  bool all = false;
  bool verify_host = true;
};

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

// A connection to one endpoint, made and used step by step: Beast's timeouts apply to
// asynchronous operations only, so each step is one run of the io_context.
struct Connection {
  enum class Dial { kOk, kUnreachable, kTimedOut };

  asio::io_context io;
  beast::tcp_stream stream{io};
  // TLS over `stream` (whose deadlines bound the TLS layer's reads and writes too), or null.
  std::unique_ptr<asio::ssl::stream<beast::tcp_stream&>> tls;
  std::string host;
  beast::error_code ec;

  // Runs f on the stream HTTP goes over: TLS or the plain one.
  template <class F>
  void with_stream(F&& f) {
    if (tls) {
      f(*tls);
    } else {
      f(stream);
    }
  }

  void run() {
    io.run();
    io.restart();
  }

  // Connects within the dial timeout and the deadline.
  Dial dial(const std::string& endpoint, std::chrono::nanoseconds dial_timeout, Deadline deadline,
            const TlsUse& use) {
    std::string url = endpoint.find("://") == std::string::npos ? "http://" + endpoint : endpoint;
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) return Dial::kUnreachable;
    host = std::string(parsed->host());
    std::string port = parsed->has_port() ? std::string(parsed->port()) : "2379";
    tcp::resolver resolver(io);
    auto addresses = resolver.resolve(host, port, ec);
    if (ec) return Dial::kUnreachable;
    auto now = Clock::now();
    if (now >= deadline) return Dial::kTimedOut;
    stream.expires_after(std::min<Clock::duration>(
        std::chrono::duration_cast<Clock::duration>(dial_timeout), deadline - now));
    stream.async_connect(addresses, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    run();
    // As clientv3: an https:// endpoint is TLS, an http:// one plaintext even with TLS files
    // given, one without a scheme TLS when files were given.
    bool secure = url.starts_with("https://") || (use.all && !endpoint.starts_with("http://"));
    if (!ec && use.context && secure) handshake(use);
    if (!ec) return Dial::kOk;
    return Clock::now() >= deadline ? Dial::kTimedOut : Dial::kUnreachable;
  }

  // The TLS handshake, within what is left of the dial's deadline. A refusal is not a
  // connection problem to retry elsewhere: it is thrown with OpenSSL's reason (as etcdctl
  // reports x509 errors).
  void handshake(const TlsUse& use) {
    tls = std::make_unique<asio::ssl::stream<beast::tcp_stream&>>(stream, *use.context);
    if (use.verify_host) runtime::expect_host(tls->native_handle(), host);
    tls->async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
    run();
    if (ec && ec != beast::error::timeout) {
      throw EtcdError("tls: handshake with " + host +
                      " refused: " + runtime::tls_failure(ec, tls->native_handle()));
    }
  }

  // Sends a POST of `body` to `path`; false (ec set) if it could not be written in time.
  bool post(const std::string& path, const std::string& body, const std::string& token,
            Deadline deadline) {
    http::request<http::string_body> req{http::verb::post, path, 11};
    req.set(http::field::host, host);
    if (!token.empty()) req.set(http::field::authorization, token);
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    stream.expires_at(deadline);
    with_stream(
        [&](auto& s) { http::async_write(s, req, [&](beast::error_code e, size_t) { ec = e; }); });
    run();
    return !ec;
  }

  void close() {
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }
};

// One try: connect, send, read the answer.
Attempt attempt(const std::string& endpoint, const std::string& path, const std::string& body,
                const std::string& token, std::chrono::nanoseconds dial_timeout,
                Deadline deadline, const TlsUse& use) {
  Connection c;
  switch (c.dial(endpoint, dial_timeout, deadline, use)) {
    case Connection::Dial::kOk: break;
    case Connection::Dial::kUnreachable: return Unreachable{};
    case Connection::Dial::kTimedOut: return TimedOut{};
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ULL << 32);
  if (c.post(path, body, token, deadline)) {
    c.with_stream([&](auto& s) {
      http::async_read(s, buffer, parser, [&](beast::error_code e, size_t) { c.ec = e; });
    });
    c.run();
  }
  if (c.ec == beast::error::timeout) return TimedOut{};
  if (c.ec) throw EtcdError(c.ec.message());
  c.close();
  // A TLS port's answer to plaintext (Go's, and etcdlab's TLS front): etcdctl's gRPC client
  // cannot connect there and retries until its deadline, so this endpoint is unreachable.
  if (!c.tls && parser.get().result_int() == 400 &&
      parser.get().body() == "Client sent an HTTP request to an HTTPS server.\n") {
    return Unreachable{};
  }
  return Answer{static_cast<int>(parser.get().result_int()), parser.get().body()};
}

json::object decode(const std::string& endpoint, const Answer& a) {
  boost::system::error_code ec;
  json::value v = json::parse(a.body, ec);
  if (ec || !v.is_object()) throw EtcdError("unexpected answer from " + endpoint + ": " + a.body);
  auto& o = v.as_object();
  if (a.status != 200) {
    // {"error", "message", "code"}; a stream that failed before its first answer (lease
    // keep-alive): {"error": {"grpc_code", "http_code", "message", "http_status"}}.
    const json::object* error = o.if_contains("error") ? o.at("error").if_object() : nullptr;
    const json::object& holder = error ? *error : o;
    if (auto it = holder.find("message"); it != holder.end() && it->value().is_string()) {
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
  Connection c;
  switch (c.dial(endpoint, dial_timeout_, deadline, tls_use())) {
    case Connection::Dial::kOk: break;
    case Connection::Dial::kUnreachable:
      throw EtcdError(c.ec ? c.ec.message() : "bad endpoint " + endpoint);
    case Connection::Dial::kTimedOut: throw EtcdError(kDeadlineExceeded);
  }
  auto fail = [&] {
    throw EtcdError(c.ec == beast::error::timeout ? std::string(kDeadlineExceeded)
                                                  : c.ec.message());
  };
  if (!c.post(path, json::serialize(body), token(), deadline)) fail();

  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);  // a database: as large as it is
  c.with_stream([&](auto& s) {
    http::async_read_header(s, buffer, parser, [&](beast::error_code e, size_t) { c.ec = e; });
  });
  c.run();
  if (c.ec) fail();
  const bool ok = parser.get().result() == http::status::ok;
  std::string error_body;
  std::vector<char> piece(64 * 1024);
  while (!parser.is_done()) {
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    c.with_stream([&](auto& s) {
      http::async_read(s, buffer, parser, [&](beast::error_code e, size_t) { c.ec = e; });
    });
    c.run();
    if (c.ec == http::error::need_buffer) c.ec = {};
    if (c.ec) fail();
    std::string_view got(piece.data(), piece.size() - parser.get().body().size);
    if (ok) {
      sink(got);
    } else if (error_body.size() < 64 * 1024) {
      error_body += got;
    }
  }
  if (!ok) decode(endpoint, Answer{static_cast<int>(parser.get().result_int()), error_body});
  c.close();
}

Client::Client(std::vector<std::string> endpoints, std::chrono::nanoseconds dial_timeout,
               const TlsOptions& tls)
    : endpoints_(std::move(endpoints)), dial_timeout_(dial_timeout) {
  tls_for_all_ = !tls.cacert.empty() || !tls.cert.empty() || !tls.key.empty();
  bool any_https = false;
  for (const auto& e : endpoints_) any_https = any_https || e.starts_with("https://");
  if (!tls_for_all_ && !any_https) return;
  runtime::TlsFiles files{
      .cert_file = tls.cert, .key_file = tls.key, .trusted_ca_file = tls.cacert};
  try {
    // ALPN http/1.1: the gateway's protocol (the server would pick it anyway).
    tls_ = runtime::make_client_tls(files, tls.insecure_skip_verify, "http/1.1");
  } catch (const std::invalid_argument& e) {
    throw EtcdError(e.what());
  }
  verify_host_ = !tls.insecure_skip_verify;
}

TlsUse Client::tls_use() const {
  return TlsUse{static_cast<asio::ssl::context*>(tls_.get()), tls_for_all_, verify_host_};
}

json::object Client::call(const std::string& path, const json::object& body, Deadline deadline,
                          Retry retry) const {
  return call_on(endpoints_, path, body, deadline, retry);
}

json::object Client::call_at(const std::string& endpoint, const std::string& path,
                             const json::object& body, Deadline deadline, Retry retry) const {
  return call_on({endpoint}, path, body, deadline, retry);
}

void Client::set_token(std::string token, std::function<std::string(Deadline)> renew) const {
  std::lock_guard lock(auth_->mu);
  auth_->token = std::move(token);
  auth_->renew = std::move(renew);
}

std::string Client::token() const {
  std::lock_guard lock(auth_->mu);
  return auth_->token;
}

json::object Client::call_on(const std::vector<std::string>& endpoints, const std::string& path,
                             const json::object& body, Deadline deadline, Retry retry) const {
  std::function<std::string(Deadline)> renew;
  try {
    return send_on(endpoints, path, body, deadline, retry);
  } catch (const EtcdError& e) {
    std::string_view what = e.what();
    {
      std::lock_guard lock(auth_->mu);
      renew = auth_->renew;
      if (!renew || (what != "etcdserver: invalid auth token" &&
                     what != "etcdserver: revision of auth store is old")) {
        throw;
      }
      auth_->token.clear();
    }
    // The refused request was not applied: sending it again after a new token is safe. A
    // failed renewal is the error (clientv3 3.4 returns getToken's).
    std::string fresh = renew(deadline);
    std::lock_guard lock(auth_->mu);
    auth_->token = std::move(fresh);
  }
  return send_on(endpoints, path, body, deadline, retry);
}

json::object Client::send_on(const std::vector<std::string>& endpoints, const std::string& path,
                             const json::object& body, Deadline deadline, Retry retry) const {
  std::string request = json::serialize(body);
  const std::string auth_token = token();
  auto pause = std::chrono::milliseconds(50);
  while (true) {
    for (const auto& ep : endpoints) {
      Attempt a = attempt(ep, path, request, auth_token, dial_timeout_, deadline, tls_use());
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
