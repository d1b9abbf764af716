#pragma once
// What the gateway's handlers call (gateway::KvService), over the node's driver: each call
// hands one request to the node and turns its completion into the answer, or into the error
// the node decided (etcd's code and text). No rule of etcd's lives here.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "../gateway/service.h"
#include "../gateway/view_streams.h"
#include "bounded_worker.h"
#include "config.h"
#include "etcdlab/fs/file_system.h"

namespace etcdlab::runtime {

class NodeDriver;
class PeerTransport;
struct ServerMetrics;

class NodeService final : public gateway::KvService {
 public:
  NodeService(boost::asio::io_context& io, NodeDriver& driver, const ServerConfig& config,
              uint64_t cluster, uint64_t member, ServerMetrics& metrics,
              PeerTransport* const& transport, FileSystem& fs);

  boost::asio::awaitable<server::Result> write(server::Request request) override;
  boost::asio::awaitable<void> read_barrier() override;
  boost::asio::awaitable<server::Result> txn(server::TxnRequest request) override;
  const mvcc::KvStore& store() const override;
  uint64_t cluster_id() const override { return cluster_; }
  uint64_t member_id() const override { return member_; }
  uint64_t raft_term() const override;
  std::vector<server::Member> members() const override;
  gateway::ServerStatus status() const override;
  bool healthy() const override;
  uint64_t max_request_bytes() const override { return config_.max_request_bytes; }
  bool is_leader() const override;
  boost::asio::awaitable<gateway::HttpResponse> forward_to_leader(
      gateway::HttpRequest request) override;
  boost::asio::awaitable<server::Member> change_member(gateway::MemberRequest request) override;
  boost::asio::awaitable<std::vector<server::Alarm>> change_alarm(bool activate,
                                                                  server::Alarm alarm) override;
  std::vector<server::Alarm> alarms() const override;
  boost::asio::awaitable<server::LeaseKeepAliveResult> lease_keep_alive(int64_t id) override;
  boost::asio::awaitable<server::LeaseTimeToLiveResult> lease_time_to_live(int64_t id,
                                                                          bool keys) override;
  std::vector<int64_t> leases() const override;
  uint64_t open_watch_stream(std::function<void()> wake) override;
  void close_watch_stream(uint64_t stream) override;
  void watch(uint64_t stream, const watch::WatchRequest& request) override;
  void cancel_watch(uint64_t stream, int64_t id) override;
  void request_watch_progress(uint64_t stream) override;
  std::vector<watch::WatchResponse> take_watch_responses(uint64_t stream, size_t max) override;
  boost::asio::awaitable<void> defragment() override;
  boost::asio::awaitable<void> move_leader(uint64_t to) override;
  bool failpoints_enabled() const override { return config_.enable_failpoints; }
  void set_failpoints(const gateway::Failpoints& f) override;
  gateway::Failpoints failpoints() const override;
  void set_disk_failpoints(const gateway::DiskFailpoints& f) override;
  gateway::DiskFailpoints disk_failpoints() const override;
  std::string metrics_text() const override;
  boost::asio::awaitable<std::unique_ptr<gateway::DbSnapshot>> open_db_snapshot() override;
  void count_range() override;
  void count_health(bool healthy) override;
  // --enable-view (the node's view of itself; the gateway writes it out).
  gateway::ViewStreams* view_streams() override { return view_.get(); }
  server::NodeView view_state() const override;
  std::vector<server::RequestRecord> recent_requests() const override;

  // ---- auth: the node decides (KvNode's credentials overloads); bcrypt runs on auth_, a
  // thread of its own (never the node's, which is the io thread).
  boost::asio::awaitable<server::Result> write(server::Request request,
                                               const server::Credentials& who) override;
  boost::asio::awaitable<server::Result> txn(server::TxnRequest request,
                                             const server::Credentials& who) override;
  std::optional<server::ApiError> authorize(const server::Credentials& who,
                                            server::KvNode::Access access,
                                            const mvcc::KeyRange& keys) override;
  void watch(uint64_t stream, const watch::WatchRequest& request,
             const server::Credentials& who) override;
  server::KvNode::AuthLookup auth_lookup(const std::string& name) override;
  void auth_failed(const std::string& name) override;
  server::auth::User user_get(const server::Credentials& who, const std::string& name) override;
  std::vector<std::string> user_list(const server::Credentials& who) override;
  server::auth::Role role_get(const server::Credentials& who, const std::string& name) override;
  std::vector<std::string> role_list(const server::Credentials& who) override;
  boost::asio::awaitable<void> run_blocking(std::function<void()>&& work) override;
  boost::asio::awaitable<void> pause(std::chrono::milliseconds how_long) override;
  std::string random_bytes(size_t n) override;
  int bcrypt_cost() const override { return config_.bcrypt_cost; }

 private:
  static server::Result result_of(server::Completion c);

  boost::asio::io_context& io_;
  NodeDriver& driver_;
  const ServerConfig& config_;
  uint64_t cluster_;
  uint64_t member_;
  ServerMetrics& metrics_;
  PeerTransport* const& transport_;
  FileSystem& fs_;
  std::unique_ptr<gateway::ViewStreams> view_;  // null without --enable-view
  // bcrypt's thread (hash, verify): one, so a flood of authentications queues here instead of
  // taking the machine's cores, and at most 64 waiting (bounded_worker.h). Declared last:
  // joined first, before what its work uses.
  BoundedWorker auth_;
};

}  // namespace etcdlab::runtime
