#include "forward.h"

#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "../gateway/errors.h"
#include "tls_context.h"

namespace etcdlab::runtime {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

// The request and its answer over `s` (plain or TLS); the error of the step that failed.
template <class Stream>
asio::awaitable<std::string> exchange(Stream& s, http::request<http::string_body>& req,
                                      http::response<http::string_body>& res) {
  constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
  auto [wec, wn] = co_await http::async_write(s, req, tuple);
  (void)wn;
  if (wec) co_return wec.message();
  beast::flat_buffer buffer;
  auto [rec, rn] = co_await http::async_read(s, buffer, res, tuple);
  (void)rn;
  if (rec) co_return rec.message();
  co_return std::string();
}

}  // namespace

asio::awaitable<gateway::HttpResponse> forward_http(asio::io_context& io, std::string host,
                                                    uint16_t port, gateway::HttpRequest request,
                                                    std::chrono::milliseconds timeout,
                                                    std::shared_ptr<asio::ssl::context> tls) {
  constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
  auto unreachable = [&](const std::string& why) {
    return gateway::GatewayError(gateway::GrpcCode::kUnavailable,
                                 fmt::format("etcdserver: leader at {}:{} unreachable: {}", host,
                                             port, why));
  };
  beast::tcp_stream stream(io);
  stream.expires_after(timeout);
  boost::system::error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address(host, ec), port);
  if (ec) throw unreachable(ec.message());
  auto [cec] = co_await stream.async_connect(endpoint, tuple);
  if (cec) throw unreachable(cec.message());
  http::request<http::string_body> req{http::string_to_verb(request.method), request.target, 11};
  req.set(http::field::host, fmt::format("{}:{}", host, port));
  req.set(http::field::content_type, "application/json");
  // The caller's token goes along: the leader checks a member change against it.
  if (!request.authorization.empty()) req.set(http::field::authorization, request.authorization);
  req.body() = std::move(request.body);
  req.prepare_payload();
  http::response<http::string_body> res;
  std::string failed;
  if (tls) {
    // (The stream's deadline bounds the TLS layer's reads and writes too.)
    asio::ssl::stream<beast::tcp_stream&> secure(stream, *tls);
    expect_host(secure.native_handle(), host);
    auto [hec] = co_await secure.async_handshake(asio::ssl::stream_base::client, tuple);
    if (hec) throw unreachable("TLS: " + tls_failure(hec, secure.native_handle()));
    failed = co_await exchange(secure, req, res);
  } else {
    failed = co_await exchange(stream, req, res);
  }
  if (!failed.empty()) throw unreachable(failed);
  gateway::HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  out.content_type = std::string(res[http::field::content_type]);
  out.body = std::move(res.body());
  out.grpc_ok = out.status == 200;
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return out;
}

}  // namespace etcdlab::runtime
