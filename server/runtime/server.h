#pragma once
// One etcdlab member: the pieces of the runtime put together on one io_context (the node
// thread) — the data dir (bootstrap.h), the node's driver (node_driver.h), the peer transport,
// the client gateway over the node's service (node_service.h), the metrics. Every decision is
// the node's (server/node/kv_node.h); this file only wires and starts and stops.

#include <memory>

#include "config.h"

namespace etcdlab::runtime {

class Server {
 public:
  explicit Server(ServerConfig config);  // opens the data dir (locked), storage and store
  ~Server();
  void run();   // serves until stop(), SIGINT/SIGTERM, or the node says this member stops
  void stop();  // graceful: stop accepting, end the calls in flight, close

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdlab::runtime
