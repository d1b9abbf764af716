#pragma once
// The gateway's view of an HTTP exchange, without Beast: handlers are plain functions over
// these, and only http_server.cc (the I/O) includes Beast (it is slow to compile).

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace etcdlab::gateway {

struct HttpRequest {
  std::string method;  // "POST", "GET", ...
  std::string target;  // the path and query
  std::string body;
  // The Authorization header as sent: etcd's gateway takes the raw token ("Bearer <t>" is an
  // invalid token, as etcd 3.4 answers it). Empty: no header.
  std::string authorization;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  bool grpc_ok = false;  // etcd's gateway adds Grpc-Metadata-Content-Type on success
  // Headers beyond those every answer gets (http_server.cc: Server, Content-Type, CORS).
  std::vector<std::pair<std::string, std::string>> headers;
  // A streamed answer (a server-streaming call: maintenance/snapshot, later watch): `body` is
  // empty and each call gives the next piece, sent as one HTTP chunk; nullopt ends it.
  std::function<boost::asio::awaitable<std::optional<std::string>>()> stream;
};

}  // namespace etcdlab::gateway
