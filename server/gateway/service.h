#pragma once
// What the gateway's handlers need from the server: a plain interface over the node, so the
// handlers stay functions of (service, request) and can be tested without sockets.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "../node/kv_node.h"

namespace etcdlab::gateway {

struct ServerStatus {
  std::string version;
  uint64_t db_size = 0;
  uint64_t db_size_in_use = 0;
  uint64_t leader = 0;
  uint64_t raft_index = 0;
  uint64_t raft_term = 0;
  uint64_t raft_applied_index = 0;
  bool is_learner = false;
  std::vector<std::string> errors;  // alarms
};

class KvService {
 public:
  virtual ~KvService() = default;
  // Puts a write through Raft and waits until this member has applied it. Throws GatewayError
  // (no leader, timed out).
  virtual boost::asio::awaitable<server::Result> write(server::Request request) = 0;
  // Waits until this member may serve a linearizable read (ReadIndex). Throws GatewayError.
  virtual boost::asio::awaitable<void> read_barrier() = 0;
  virtual const mvcc::KvStore& store() const = 0;
  virtual uint64_t cluster_id() const = 0;
  virtual uint64_t member_id() const = 0;
  virtual uint64_t raft_term() const = 0;
  virtual std::vector<server::Member> members() const = 0;
  virtual ServerStatus status() const = 0;
  virtual bool healthy() const = 0;  // a leader is known and no alarm is raised
  virtual uint64_t max_request_bytes() const = 0;
};

}  // namespace etcdlab::gateway
