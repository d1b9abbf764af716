#pragma once
// A KvService over a state machine whose writes apply at once, as if committed: the member the
// gateway's fuzz targets talk to (gateway_json, watch_session). Each target derives from it for
// what it serves besides KV (leases, watches) and owns `sm`.
#include <memory>
#include <vector>

#include "service.h"
#include "state_machine.h"
#include "txn_rules.h"

namespace etcdlab::fuzz {

class DirectMember : public gateway::KvService {
 public:
  explicit DirectMember(uint64_t max_request_bytes) : max_request_bytes_(max_request_bytes) {}

  boost::asio::awaitable<server::Result> write(server::Request request) override {
    co_return sm->apply_request(request);
  }
  boost::asio::awaitable<void> read_barrier() override { co_return; }
  boost::asio::awaitable<server::Result> txn(server::TxnRequest request) override {
    co_return server::txn_without_log(*sm, request);
  }
  const mvcc::KvStore& store() const override { return sm->store(); }
  uint64_t cluster_id() const override { return 7; }
  uint64_t member_id() const override { return 1; }
  uint64_t raft_term() const override { return 2; }
  std::vector<server::Member> members() const override { return {}; }
  gateway::ServerStatus status() const override { return {}; }
  bool healthy() const override { return true; }
  uint64_t max_request_bytes() const override { return max_request_bytes_; }

  std::unique_ptr<server::KvStateMachine> sm;

 private:
  uint64_t max_request_bytes_;
};

}  // namespace etcdlab::fuzz
