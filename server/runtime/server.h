#pragma once
// One etcdlab member: the node (node/kv_node.h) driven by Asio on one thread — the tick timer,
// the disk (the WAL and SQLite through the node's store), the peer transport and the client
// gateway. Single-threaded on purpose: the node is thread-unsafe and the disk path batches.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../gateway/service.h"

namespace etcdlab::runtime {

struct ServerConfig {
  std::string name = "default";
  std::string data_dir;
  std::vector<std::string> listen_client_urls = {"http://127.0.0.1:2379"};
  std::vector<std::string> advertise_client_urls;  // default: the listen URLs
  std::vector<std::string> listen_peer_urls = {"http://127.0.0.1:2380"};
  std::vector<std::string> initial_advertise_peer_urls;  // default: the listen URLs
  std::string initial_cluster;  // "name=http://host:port,..." (default: this member alone)
  std::string initial_cluster_state = "new";  // "new" or "existing"
  std::string initial_cluster_token = "etcd-cluster";
  int heartbeat_ms = 100;
  int election_ms = 1000;
  uint64_t snapshot_count = 100000;
  uint64_t max_request_bytes = 1572864;
  int64_t quota_backend_bytes = 0;   // 0: 2 GiB (etcd's default); negative: no quota
  bool enable_failpoints = false;    // serve /etcdlab/failpoints (tests drop peer traffic)
  int client_read_timeout_ms = 30000;
  int request_timeout_ms = 0;  // 0: etcd's, 5 s plus two election timeouts
};


class Server final : public gateway::KvService {
 public:
  explicit Server(ServerConfig config);  // opens the data dir (locked), storage and store
  ~Server() override;
  void run();   // serves until stop() or SIGINT/SIGTERM
  void stop();  // graceful: stop accepting, finish the current work, close

  // gateway::KvService
  boost::asio::awaitable<server::Result> write(server::Request request) override;
  boost::asio::awaitable<void> read_barrier() override;
  const mvcc::KvStore& store() const override;
  uint64_t cluster_id() const override;
  uint64_t member_id() const override;
  uint64_t raft_term() const override;
  std::vector<server::Member> members() const override;
  gateway::ServerStatus status() const override;
  bool healthy() const override;
  uint64_t max_request_bytes() const override;
  bool is_leader() const override;
  boost::asio::awaitable<gateway::HttpResponse> forward_to_leader(
      gateway::HttpRequest request) override;
  boost::asio::awaitable<server::Member> change_member(gateway::MemberRequest request) override;
  boost::asio::awaitable<std::vector<server::Alarm>> change_alarm(bool activate,
                                                                  server::Alarm alarm) override;
  std::vector<server::Alarm> alarms() const override;
  void defragment() override;
  bool failpoints_enabled() const override;
  void set_failpoints(const gateway::Failpoints& f) override;
  gateway::Failpoints failpoints() const override;
  std::string metrics_text() const override;
  std::unique_ptr<gateway::DbSnapshot> open_db_snapshot() override;
  void count_range() override;
  void count_health(bool healthy) override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdlab::runtime
