// Finding peers: URLs to host and port, host names to addresses (at start for the listen URLs,
// on every dial for peers), and the members request a joining member sends before it has a
// transport.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>

#include "etcdlab/errors.h"
#include "peer_transport_impl.h"

namespace etcdlab::runtime {

std::pair<std::string, uint16_t> parse_host_port(const std::string& url) {
  std::string text = url.find("://") == std::string::npos ? "http://" + url : url;
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed || !parsed->has_port() || parsed->port_number() == 0 || parsed->host().empty()) {
    throw std::invalid_argument("not host:port: " + url);
  }
  // host_address(): an IPv6 address without its brackets; a name as written.
  std::string host(parsed->host_address());
  if (host == "localhost") host = "127.0.0.1";  // (as before: no resolver needed for it)
  return {host, parsed->port_number()};
}

asio::awaitable<std::optional<tcp::endpoint>> resolve(asio::io_context& io,
                                                      const std::string& host, uint16_t port,
                                                      std::string& error) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) co_return tcp::endpoint(address, port);
  tcp::resolver resolver(io);
  auto [rec, results] = co_await resolver.async_resolve(host, std::to_string(port), kTuple);
  if (rec || results.empty()) {
    error = fmt::format("cannot resolve host '{}': {}", host,
                        rec ? rec.message() : std::string("no addresses"));
    co_return std::nullopt;
  }
  co_return results.begin()->endpoint();
}

std::string resolve_host_now(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  if (!ec) return host;
  asio::io_context io;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(host, "", ec);
  if (ec || results.empty()) {
    throw std::invalid_argument(fmt::format("cannot resolve host '{}': {}", host,
                                            ec ? ec.message() : std::string("no addresses")));
  }
  return results.begin()->endpoint().address().to_string();
}

std::optional<std::string> fetch_members(const std::string& host, uint16_t port,
                                         const std::string& cluster_token,
                                         const std::vector<std::string>& peer_urls,
                                         std::chrono::milliseconds timeout,
                                         std::shared_ptr<asio::ssl::context> tls) {
  // A private io_context: this runs before the server's loop starts.
  asio::io_context io;
  std::optional<std::string> result;
  auto sock = std::make_shared<PeerStream>(io);
  asio::steady_timer deadline(io, timeout);
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) sock->close();
  });
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    std::string error;
    auto ep = co_await resolve(io, host, port, error);
    if (!ep) {
      spdlog::warn("members request: {}", error);
      co_return;
    }
    auto [cec] = co_await sock->socket().async_connect(*ep, kTuple);
    if (cec) co_return;
    if (tls) {
      std::string why = co_await sock->handshake(*tls, false, host, timeout);
      if (!why.empty()) {
        spdlog::warn("members request: TLS handshake with {}:{} refused: {}", host, port, why);
        co_return;
      }
    }
    peer::MembersRequest req;
    req.token_hash = peer::token_hash(cluster_token);
    req.peer_urls = peer_urls;
    std::string request = peer::encode_frame(peer::FrameKind::kMembersRequest,
                                             peer::encode_members_request(req));
    auto [wec, wn] = co_await asio::async_write(*sock, asio::buffer(request), kTuple);
    (void)wn;
    if (wec) co_return;
    peer::FrameDecoder decoder(16u << 20);
    std::vector<char> buffer(64 * 1024);
    bool timed_out = false;
    try {
      auto f = co_await read_frame(*sock, decoder, buffer, timeout, timed_out);
      if (f && f->kind == peer::FrameKind::kMembers) result = std::move(f->payload);
    } catch (const DecodeError&) {
    }
    deadline.cancel();
  }, asio::detached);
  io.run();
  return result;
}

}  // namespace etcdlab::runtime
