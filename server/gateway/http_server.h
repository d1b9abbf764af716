#pragma once
// The client-facing HTTP server (Beast, C++20 coroutines on the server's io_context). One port
// serves both of etcd's doors, as etcd's does (cmux): a connection whose first bytes are
// HTTP/2's preface is gRPC's (HttpLimits::adopt_http2), any other is the JSON gateway's. A
// session only does I/O: read a request (with a deadline and a body limit), hand it to handle(), write
// the answer, and loop; requests on one connection are answered in order, one at a time (so
// pipelining is capped at one request in progress; the rest wait in the socket).

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "service.h"

namespace etcdlab::gateway {

struct HttpLimits {
  uint64_t max_request_bytes = 1572864;  // bodies above get "request is too large" (400), and
                                         // above this + 512 KiB the connection's answer is 429
  std::chrono::milliseconds read_timeout{30000};  // idle time allowed while reading a request
  uint64_t max_connections = 0;  // open at once; more are closed at once (0: unlimited)
  // Connections handed to a Take and not yet adopted (a TLS front's handshakes): counted as
  // open against max_connections. Unset: none.
  std::function<uint64_t()> pending;
  // Whether a new connection with this descriptor may be kept (the runtime keeps the last
  // descriptors for its files); unset: every one.
  std::function<bool(int fd)> descriptor_allowed;
  std::function<void()> on_refused;  // a connection was closed at once (counted)
  // Where a connection that opens with HTTP/2's preface goes (the gRPC door takes the
  // descriptor, its first bytes unread); unset: every connection is HTTP/1.1.
  std::function<void(int fd)> adopt_http2;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, KvService& service, HttpLimits limits);
  ~HttpServer();
  // Starts accepting on host:port (port 0 picks one); returns the port. With `take`, accepted
  // connections (within the limits) go to it instead (a TLS front, which adopt()s the
  // plaintext).
  using Take = std::function<void(boost::asio::ip::tcp::socket)>;
  uint16_t listen(const std::string& host, uint16_t port, Take take = {});
  // Serves a connected stream socket (any family) as an accepted connection.
  void adopt(int fd);
  void stop();  // closes the listeners and every open connection

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdlab::gateway
