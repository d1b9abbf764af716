#include "client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

namespace etcdlab::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

Client::Client(std::vector<std::string> endpoints, std::chrono::milliseconds timeout)
    : endpoints_(std::move(endpoints)), timeout_(timeout) {}

HttpAnswer Client::request(const std::string& endpoint, const std::string& method,
                           const std::string& path, const std::string& body) {
  std::string url = endpoint.find("://") == std::string::npos ? "http://" + endpoint : endpoint;
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw EtcdError("bad endpoint " + endpoint);
  std::string host(parsed->host());
  std::string port = parsed->has_port() ? std::string(parsed->port()) : "2379";
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(timeout_);
  tcp::resolver resolver(io);
  stream.connect(resolver.resolve(host, port));
  http::request<http::string_body> req{method == "GET" ? http::verb::get : http::verb::post, path,
                                       11};
  req.set(http::field::host, host);
  req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1ULL << 32);
  http::read(stream, buffer, parser);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return {static_cast<int>(parser.get().result_int()), parser.get().body()};
}

HttpAnswer Client::get_at(const std::string& endpoint, const std::string& path) {
  try {
    return request(endpoint, "GET", path, "");
  } catch (const beast::system_error& e) {
    throw EtcdError(endpoint + ": " + e.code().message(), true);
  }
}

boost::json::object Client::call_at(const std::string& endpoint, const std::string& path,
                                    const boost::json::object& body) {
  HttpAnswer a;
  try {
    a = request(endpoint, "POST", path, boost::json::serialize(body));
  } catch (const beast::system_error& e) {
    throw EtcdError(endpoint + ": " + e.code().message(), true);
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(a.body, ec);
  if (ec || !v.is_object()) throw EtcdError("unexpected answer from " + endpoint + ": " + a.body);
  auto& o = v.as_object();
  if (a.status != 200) {
    if (auto it = o.find("message"); it != o.end() && it->value().is_string()) {
      throw EtcdError(std::string(it->value().as_string()), a.status == 503);
    }
    throw EtcdError("HTTP " + std::to_string(a.status) + ": " + a.body);
  }
  return std::move(o);
}

boost::json::object Client::call(const std::string& path, const boost::json::object& body) {
  std::string last;
  for (const auto& ep : endpoints_) {
    try {
      return call_at(ep, path, body);
    } catch (const EtcdError& e) {
      // A server's answer is final, unless it is "unavailable" (no leader there).
      if (!e.retryable()) throw;
      last = e.what();
    }
  }
  throw EtcdError(last.empty() ? "no endpoints" : last);
}

}  // namespace etcdlab::cli
