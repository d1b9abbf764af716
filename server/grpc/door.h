#pragma once
// etcd's gRPC services on the client port (server/grpc): the HTTP/2 connections the gateway's
// listener tells apart by their first bytes are handed here (adopt), served by gRPC's own
// threads, and every request is answered by the same functions as the JSON door's
// (server/rpc), run on the server's io thread, which owns the node. This header keeps gRPC out
// of the files that include it.

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "../gateway/service.h"

namespace etcdlab::grpc_door {

class GrpcDoor {
 public:
  // `max_request_bytes`: etcd's --max-request-bytes; gRPC takes messages up to that plus
  // 512 KiB, as etcd's server does.
  GrpcDoor(boost::asio::io_context& io, gateway::KvService& service, uint64_t max_request_bytes);
  ~GrpcDoor();
  GrpcDoor(const GrpcDoor&) = delete;
  GrpcDoor& operator=(const GrpcDoor&) = delete;

  // An accepted connection whose first bytes are HTTP/2's preface (still unread): gRPC owns
  // the descriptor from now on.
  void adopt(int fd);
  // TLS HOOK (issue 19's TLS listener): how a call's connection names its verified client
  // certificate's CN, by gRPC's peer string ("fd:N" for an adopted descriptor). Call before
  // adopting connections. Without it, gRPC callers are known by their token only.
  void set_cert_user_lookup(
      std::function<std::optional<std::string>(const std::string& peer)> lookup);
  // Ends every call in progress ("etcdserver: server stopped", Unavailable) and stops gRPC.
  // Call on the io thread, before the service goes away.
  void stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdlab::grpc_door
