#pragma once
// etcdlabctl's /v3/watch stream: one POST whose body carries requests as they are made and
// whose chunked answer carries one {"result": ...} line per watch response, read as it comes.
// Blocking for its users: one thread reads (next()), any thread sends or shuts the stream
// down. Underneath, every read and write of the connection happens on the stream's own I/O
// thread, because a TLS stream (OpenSSL) must not be read and written from two threads at once.
//
// It works against etcdlab's gateway and etcd 3.4's alike (python/etcdlab/watches.py says
// why in full): the body declares a length it never reaches, so that Go's HTTP/1 server does
// not throw the later requests away once its answer has started, and until the answer's header
// has come a newline is sent every 20 ms, so that the server can start that answer.

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "client.h"

namespace etcdlab::cli {

class WatchStream {
 public:
  // Connects to `endpoint` ("host:port" or a URL) within `dial_timeout` (TCP, then the TLS
  // handshake if `dial` says so) and sends the header (with `token` in Authorization, if not
  // empty); nullptr if it cannot. A TLS handshake the server refuses, or a certificate that
  // does not verify, throws EtcdError with OpenSSL's reason (retrying would not help).
  static std::unique_ptr<WatchStream> open(const std::string& endpoint,
                                           std::chrono::nanoseconds dial_timeout,
                                           const std::string& token = "",
                                           const StreamDial& dial = {});
  ~WatchStream();
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;

  // Sends one request ({"create_request": ...}, ...); false once the connection is gone.
  bool send(const boost::json::object& request);
  // The next answer line, parsed; nullopt once the stream has ended (the connection closed or
  // failed, or shutdown()). A refusal (an answer other than 200) throws EtcdError with etcd's
  // message.
  std::optional<boost::json::object> next();
  // Ends the connection; a next() blocked in another thread returns nullopt.
  void shutdown();

  const std::string& endpoint() const { return endpoint_; }

 private:
  struct Impl;
  explicit WatchStream(std::unique_ptr<Impl> impl, std::string endpoint);
  std::unique_ptr<Impl> impl_;
  std::string endpoint_;
};

}  // namespace etcdlab::cli
