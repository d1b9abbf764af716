#include "server.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <random>
#include <set>

#include "../gateway/http_server.h"
#include "../grpc/door.h"
#include "../grpc/tls_peers.h"
#include "bootstrap.h"
#include "data_dir.h"
#include "descriptors.h"
#include "disk_failpoints.h"
#include "etcdlab/codec.h"
#include "etcdlab/errors.h"
#include "etcdlab/fs/posix_file_system.h"
#include "node_driver.h"
#include "node_service.h"
#include "peer_transport.h"
#include "server_metrics.h"
#include "tls_context.h"
#include "tls_pump.h"
#include "tls_thread.h"
#include "trash_file_system.h"

namespace etcdlab::runtime {

namespace asio = boost::asio;

struct Server::Impl {
  explicit Impl(Server& s, ServerConfig c) : self(s), config(std::move(c)) {}

  void open();
  void start_listening();
  std::shared_ptr<const TlsFront> client_tls_front();
  void update_peers();
  void stop_soon(std::chrono::milliseconds after);
  bool added_in_log(NodeId id) const;

  Server& self;
  ServerConfig config;
  asio::io_context io{1};
  PosixFileSystem disk;
  TrashFileSystem trash{disk};   // big files are unlinked beside the node (trash_file_system.h)
  FailpointFileSystem fs{trash};  // the real disk; slowed only by /etcdlab/failpoints/disk
  OpenedMember member;
  ServerMetrics metrics;
  std::unique_ptr<NodeDriver> driver;
  PeerTransport* transport_view = nullptr;  // what the metrics and the service read
  std::unique_ptr<PeerTransport> transport;
  std::unique_ptr<NodeService> service;
  std::unique_ptr<grpc_door::GrpcDoor> grpc;  // (before http: it is handed the connections)
  std::unique_ptr<gateway::HttpServer> http;
  std::shared_ptr<const TlsFront> tls_front;  // for the https:// client URLs (if any)
  std::unique_ptr<asio::signal_set> signals;
  std::unique_ptr<asio::steady_timer> stop_timer;
  std::set<NodeId> known_peers;
  DescriptorBudget descriptors;
  bool stopping = false;
  // The client port's handshakes and pumps (tls_thread.h). Last: destroyed first, so its
  // thread is joined (and its connections closed) before anything it calls back into goes.
  std::unique_ptr<TlsThread> tls_thread;
};

void Server::Impl::open() {
  config.resolve();
  descriptors = raise_open_file_limit();
  WalStorageOptions wal;
  wal.wal.segment_bytes = config.wal_segment_bytes;
  member = open_member(config, fs, wal);
  trash.use_trash(DataDir(config.data_dir).member() + "/trash");  // (emptied: a crash's leftovers)
  // Snapshots half-received before a crash are of no use: the leader sends again.
  std::string incoming = DataDir(config.data_dir).member() + "/snap-incoming";
  if (fs.exists(incoming)) {
    for (const auto& name : fs.list(incoming)) fs.remove(incoming + "/" + name);
  }
  // Database copies left by a crash while a snapshot was written or downloaded.
  for (const auto& name : fs.list(DataDir(config.data_dir).member())) {
    if (name.starts_with("snapshot-out-") || (name.starts_with("db.copy-") && name.ends_with(".tmp"))) {
      fs.remove(DataDir(config.data_dir).member() + "/" + name);
    }
  }

  server::NodeOptions options;
  options.raft.id = member.id;
  options.raft.voters = member.voters;
  options.raft.election_ticks = config.election_ms / config.heartbeat_ms;
  options.raft.heartbeat_ticks = 1;
  options.raft.storage = member.storage.get();
  options.raft.seed = std::random_device{}();
  options.raft.logger = [name = config.name](const std::string& line) {
    spdlog::info("raft[{}]: {}", name, line);
  };
  options.name = config.name;
  options.client_urls = config.advertise_client_urls;
  options.initial_members = member.members;
  options.cluster_token = config.initial_cluster_token;
  options.snapshot_count = config.snapshot_count;
  options.spread_snapshots = true;  // (kv_node.h: members do not pause for them together)
  options.request_epoch = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  options.tick_ms = config.heartbeat_ms;
  options.request_timeout_ms = config.request_timeout_ms;
  options.quota_bytes = config.quota_bytes();
  options.max_txn_ops = config.max_txn_ops;
  options.view_requests = config.enable_view;
  options.auto_compaction = config.auto_compaction;
  options.watch_progress_notify_ms = config.watch_progress_notify_ms;
  options.auth_token_ttl_ms = config.auth_token_ttl_s * 1000;
  // As etcd's watch server: a response past the largest request plus gRPC's margin is cut
  // into fragments (for watchers that asked for them), and ends a catch-up batch.
  options.watch.max_response_bytes = config.max_request_bytes + 512 * 1024;
  options.store.path = member.db;
  driver = std::make_unique<NodeDriver>(io, fs, *member.storage, options, metrics, config.name);
  register_server_metrics(metrics, *driver, transport_view, member.id, config.quota_bytes());
  service = std::make_unique<NodeService>(io, *driver, config, member.cluster, member.id,
                                          metrics, transport_view, fs);
  spdlog::info("etcdlab {}: member {:x} of cluster {:x}, data in {}, applied {}", config.name,
               member.id, member.cluster, config.data_dir, driver->node().applied_index());
}

void Server::Impl::start_listening() {
  TransportOptions t;
  t.self = member.id;
  t.cluster_id = member.cluster;
  t.cluster_token = config.initial_cluster_token;
  t.staging_dir = DataDir(config.data_dir).member() + "/snap-incoming";
  t.descriptor_allowed = [this](int fd) { return descriptors.allows(fd); };
  if (!config.peer_tls.empty()) {
    t.tls_server = make_server_tls(config.peer_tls, false);
    t.tls_client = make_client_tls(config.peer_tls, false, "");
  }
  TransportHandlers h;
  h.on_message = [this](Message m, const std::string& staged) {
    if (!stopping) driver->receive(std::move(m), staged);
  };
  h.on_unreachable = [this](NodeId peer) { driver->unreachable(peer); };
  h.on_snapshot_sent = [this](NodeId peer, bool ok) { driver->snapshot_sent(peer, ok); };
  h.on_node_message = [this](NodeId from, std::string data) {
    if (!stopping) driver->receive_node_message(from, data);
  };
  // Only a member that was added (member add) and is about to start asks: it names its peer
  // URLs, and learns the cluster id and every member's id, name and peer URLs.
  h.on_members_request = [this](const std::vector<std::string>& peer_urls) {
    return answer_members_request(member.cluster, driver->node().members(), peer_urls);
  };
  h.on_removed = [this](NodeId by) {
    if (!stopping) driver->removed_by(by);
  };
  h.may_be_member = [this](NodeId id) { return added_in_log(id); };
  transport = std::make_unique<PeerTransport>(io, t, h);
  transport_view = transport.get();
  for (const auto& url : config.listen_peer_urls) {
    auto [host, port] = parse_host_port(url);
    transport->listen(host, port, is_tls_url(url));
  }

  DriverOutputs outputs;
  outputs.send = [this](Message m) { transport->send(std::move(m)); };
  outputs.send_snapshot = [this](Message m, std::shared_ptr<SnapshotReader> payload) {
    transport->send_snapshot(std::move(m), std::move(payload));
  };
  // A follower's lease questions for the leader, and the leader's answers.
  outputs.send_node_message = [this](NodeId to, std::string data) {
    transport->send_node_message(to, std::move(data));
  };
  outputs.membership_changed = [this] { update_peers(); };
  // In a moment: the answer to the removal (this member may be the leader that applied it)
  // and any other reply in flight go out first.
  outputs.must_stop = [this](const std::string&) { stop_soon(std::chrono::milliseconds(500)); };
  driver->set_outputs(std::move(outputs));
  update_peers();

  gateway::HttpLimits limits;
  limits.max_request_bytes = config.max_request_bytes;
  limits.read_timeout = std::chrono::milliseconds(config.client_read_timeout_ms);
  limits.max_connections = config.max_client_connections;
  limits.descriptor_allowed = [this](int fd) { return descriptors.allows(fd); };
  limits.on_refused = [this] { metrics.client_connections_refused->inc(); };
  grpc = std::make_unique<grpc_door::GrpcDoor>(io, *service, config.max_request_bytes);
  // As etcd with --client-cert-auth: a gRPC call that sends no token is made by its verified
  // client certificate's CN (the TLS front registers it; grpc/tls_peers.h). Not the gateway's.
  if (config.client_tls.client_cert_auth) grpc->set_cert_user_lookup(grpc_door::tls_peer_user);
  limits.adopt_http2 = [this](int fd) { grpc->adopt(fd); };
  if (std::any_of(config.listen_client_urls.begin(), config.listen_client_urls.end(), is_tls_url)) {
    tls_front = client_tls_front();
    tls_thread = std::make_unique<TlsThread>();
    // Handshakes in progress count as open connections (each ends by its deadline).
    limits.pending = [front = tls_front] { return front->handshaking.load(); };
  }
  http = std::make_unique<gateway::HttpServer>(io, *service, limits);
  for (const auto& url : config.listen_client_urls) {
    auto [host, port] = parse_host_port(url);
    gateway::HttpServer::Take take;
    if (is_tls_url(url)) {
      take = [this](asio::ip::tcp::socket s) { tls_thread->take(std::move(s), tls_front); };
    } else if (!config.client_tls.empty()) {
      spdlog::warn(
          "etcdlab {}: scheme of {} is HTTP while key and cert files are present; "
          "ignoring key and cert files",
          config.name, url);
    }
    http->listen(resolve_host_now(host), port, std::move(take));
    spdlog::info("etcdlab {}: serving clients on {}", config.name, url);
  }
}

std::shared_ptr<const TlsFront> Server::Impl::client_tls_front() {
  auto front = std::make_shared<TlsFront>();
  front->context = make_server_tls(config.client_tls, true);
  front->handshake_timeout = std::chrono::milliseconds(config.client_read_timeout_ms);
  front->client_cert_auth = config.client_tls.client_cert_auth;
  // (Called on the TLS thread: what touches the gateway or the metrics is posted to the node
  // thread. The descriptor budget is read-only.)
  front->adopt = [this](int fd) {
    asio::post(io, [this, fd] {
      if (stopping) {
        ::close(fd);
        return;
      }
      http->adopt(fd);
    });
  };
  front->descriptor_allowed = [this](int fd) { return descriptors.allows(fd); };
  front->on_refused = [this] {
    asio::post(io, [this] { metrics.client_connections_refused->inc(); });
  };
  return front;
}

// Peers are dialled at their first peer URL; members that left are forgotten.
void Server::Impl::update_peers() {
  std::set<NodeId> current;
  for (const auto& m : driver->node().members()) {
    current.insert(m.id);
    if (m.id == member.id || m.peer_urls.empty()) continue;
    try {
      auto [host, port] = parse_host_port(m.peer_urls.front());
      transport->set_peer(m.id, host, port, is_tls_url(m.peer_urls.front()));
    } catch (const std::exception& e) {
      spdlog::warn("etcdlab {}: member {:x} has a bad peer URL: {}", config.name, m.id, e.what());
    }
  }
  for (NodeId peer : known_peers) {
    if (!current.count(peer)) transport->remove_peer(peer);
  }
  transport->set_members(current);
  known_peers = std::move(current);
  transport->set_removed(driver->node().removed());
}

// Whether the Raft log past what this member applied adds `id` (a member it has not caught up
// with yet). Bounded: a member far behind looks at the next 10,000 entries only.
bool Server::Impl::added_in_log(NodeId id) const {
  const LogStorage& log = *member.storage;
  uint64_t lo = std::max(driver->node().applied_index() + 1, log.first_index());
  uint64_t hi = std::min(log.last_index() + 1, lo + 10000);
  while (lo < hi) {
    std::vector<Entry> batch = log.entries(lo, hi, 4 << 20);
    if (batch.empty()) break;
    for (const Entry& e : batch) {
      if (e.type != EntryType::kConfChange) continue;
      try {
        auto cc = decode_value<ConfChange>(e.data, "conf change");
        if (cc.node_id == id && (cc.type == ConfChange::Type::kAddVoter ||
                                 cc.type == ConfChange::Type::kAddLearner)) {
          return true;
        }
      } catch (const DecodeError&) {
      }
    }
    lo = batch.back().index + 1;
  }
  return false;
}

void Server::Impl::stop_soon(std::chrono::milliseconds after) {
  if (stopping || stop_timer) return;
  stop_timer = std::make_unique<asio::steady_timer>(io, after);
  stop_timer->async_wait([this](const boost::system::error_code&) { self.stop(); });
}

Server::Server(ServerConfig config) : impl_(std::make_unique<Impl>(*this, std::move(config))) {
  impl_->open();
}

Server::~Server() = default;

void Server::run() {
  auto& r = *impl_;
  r.start_listening();
  r.driver->start();
  r.signals = std::make_unique<asio::signal_set>(r.io, SIGINT, SIGTERM);
  r.signals->async_wait([this](const boost::system::error_code& ec, int sig) {
    if (!ec) {
      spdlog::info("etcdlab {}: signal {}, shutting down", impl_->config.name, sig);
      stop();
    }
  });
  r.io.run();
  // What the stop cancelled finishes now, while the service and the node it uses are alive
  // (a watch stream closes its hub stream as it ends; destroyed unfinished, it could not).
  r.io.restart();
  for (int round = 0; round < 1000 && r.io.poll() > 0; ++round) {
  }
  spdlog::info("etcdlab {}: stopped", r.config.name);
}

void Server::stop() {
  auto& r = *impl_;
  if (r.stopping) return;
  r.stopping = true;
  if (r.http) r.http->stop();
  // The view's event streams end now, not at their next heartbeat.
  if (r.service && r.service->view_streams()) r.service->view_streams()->stop();
  if (r.tls_thread) r.tls_thread->stop();  // (its connections close when it goes)
  if (r.grpc) r.grpc->stop();
  if (r.transport) r.transport->stop();
  if (r.driver) r.driver->stop();
  if (r.signals) r.signals->cancel();
  // Let the cancelled coroutines finish, then stop.
  asio::post(r.io, [&r] { r.io.stop(); });
}

}  // namespace etcdlab::runtime
