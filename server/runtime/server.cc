#include "server.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>
#include <set>

#include "../gateway/errors.h"
#include "../gateway/http_server.h"
#include "../node/kv_node.h"
#include "etcdlab/codec.h"
#include "etcdlab/errors.h"
#include "etcdlab/fs/posix_file_system.h"
#include "etcdlab/log/wal_storage.h"
#include "etcd_metrics.h"
#include "forward.h"
#include "metrics.h"
#include "data_dir.h"
#include "peer_transport.h"

namespace etcdlab::runtime {

namespace asio = boost::asio;
using gateway::GatewayError;
using gateway::GrpcCode;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// What a member answers a joining member (the peer transport's members frame): the cluster id
// and every member, each as a membership context (state_machine.h).
std::string encode_members_answer(uint64_t cluster, const std::vector<server::Member>& members) {
  std::string out;
  Writer w(out);
  w.u64(cluster);
  w.u64(members.size());
  for (const auto& m : members) w.bytes(server::encode_member_context(m));
  return out;
}

std::pair<uint64_t, std::vector<server::Member>> decode_members_answer(std::string_view data) {
  Reader r(data);
  uint64_t cluster = r.u64("cluster id");
  std::vector<server::Member> members;
  uint64_t n = r.count("members", 1);
  for (uint64_t i = 0; i < n; ++i) {
    members.push_back(server::decode_member_context(r.bytes("member")).second);
  }
  return {cluster, std::move(members)};
}

bool same_urls(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

}  // namespace

struct Server::Impl {
  struct Waiter {
    explicit Waiter(asio::io_context& io) : timer(io) {}
    asio::steady_timer timer;
    std::optional<server::Completion> done;
  };

  explicit Impl(Server& s, ServerConfig c) : self(s), config(std::move(c)) {}

  Server& self;
  ServerConfig config;
  asio::io_context io{1};
  PosixFileSystem fs;
  std::unique_ptr<DirectoryLock> lock;
  std::unique_ptr<WalStorage> storage;
  std::unique_ptr<server::KvNode> node;
  std::unique_ptr<PeerTransport> transport;
  std::unique_ptr<gateway::HttpServer> http;
  std::unique_ptr<asio::steady_timer> ticker;
  std::unique_ptr<asio::signal_set> signals;
  uint64_t id = 0;
  uint64_t cluster = 0;
  bool pump_scheduled = false;
  bool stopping = false;
  bool published = false;
  Role role = Role::kFollower;
  NodeId lead = kNoNode;
  uint64_t term = 0;  // the Raft term as of the last Ready (0: none yet)
  uint64_t db_bytes = 0;  // the store's size after the last applied batch (the quota's measure)
  uint64_t puts_counted = 0;     // of the state machine's puts_applied(), in the metric
  uint64_t deletes_counted = 0;
  std::map<uint64_t, std::shared_ptr<Waiter>> waiters;
  std::map<std::pair<uint64_t, uint64_t>, std::string> staged;  // snapshot (term, index) -> file
  // Metrics (etcd's families, etcd_metrics.h), registered in register_metrics().
  Registry metrics;
  Counter* leader_changes = nullptr;
  Counter* proposals_failed = nullptr;
  Counter* slow_applies = nullptr;
  Counter* puts = nullptr;
  Counter* deletes = nullptr;
  Counter* ranges = nullptr;
  Counter* health_ok = nullptr;
  Counter* health_failed = nullptr;
  Family<Counter>* peer_sent = nullptr;
  Family<Counter>* peer_received = nullptr;
  Histogram* fsync_seconds = nullptr;
  Histogram* commit_seconds = nullptr;
  Histogram* defrag_seconds = nullptr;
  Histogram* snapshot_save_seconds = nullptr;
  bool applying_snapshot = false;
  void register_metrics();
  bool was_member = false;
  std::set<NodeId> known_peers;
  std::unique_ptr<asio::steady_timer> removal_timer;
  uint64_t snapshot_outs = 0;  // seen in its own configuration (so a removal can be told apart
                            // from a new member that has not received its configuration yet)

  // The WAL's fdatasync runs here, off the io thread, which meanwhile keeps reading requests
  // and peer messages (they go into the next Ready: bigger batches, fewer fsyncs). One Ready is
  // persisted at a time: the next is not taken until this one is finished (advance). Declared
  // last, so it is joined before the storage it syncs is destroyed.
  struct Persisting {
    Ready rd;
    bool leader = false;
    Clock::time_point started;
  };
  bool persisting = false;
  asio::thread_pool disk{1};
  // The second half of a Ready, once it is durable: a follower's messages (an acknowledgement
  // never precedes the fsync of what it vouches for), apply, advance.
  void finish_ready(Ready& rd, bool leader);

  // Proposes with `propose` (retrying while there is no leader, up to the request timeout)
  // and waits for the completion.
  asio::awaitable<server::Completion> propose_and_wait(const std::function<uint64_t()>& propose,
                                                       Clock::time_point deadline);
  void join_existing(std::vector<server::Member>& members);
  void check_removed();
  uint64_t quota() const;

  void open();
  void start_listening();
  void schedule_pump();
  void pump();
  void send(std::vector<Message>& messages);
  void install_snapshot(const SnapshotMeta& meta);
  void take_snapshot();
  void deliver(server::Completion c);
  void update_peers();
  asio::awaitable<void> tick_loop();
  asio::awaitable<void> publish();
  [[noreturn]] void fatal(const std::string& what);
};

void Server::Impl::fatal(const std::string& what) {
  // A failed fsync (or a storage that cannot be written) must not be retried and acknowledged:
  // stop here and recover from the log on restart.
  spdlog::critical("etcdlab {}: {}; stopping", config.name, what);
  std::_Exit(2);
}

void Server::Impl::open() {
  if (config.data_dir.empty()) config.data_dir = config.name + ".etcdlab";
  if (config.advertise_client_urls.empty()) config.advertise_client_urls = config.listen_client_urls;
  if (config.initial_advertise_peer_urls.empty()) {
    config.initial_advertise_peer_urls = config.listen_peer_urls;
  }
  if (config.initial_cluster.empty()) {
    for (const auto& u : config.initial_advertise_peer_urls) {
      config.initial_cluster += (config.initial_cluster.empty() ? "" : ",") + config.name + "=" + u;
    }
  }
  if (config.request_timeout_ms <= 0) config.request_timeout_ms = 5000 + 2 * config.election_ms;
  if (config.heartbeat_ms <= 0 || config.election_ms < 5 * config.heartbeat_ms) {
    throw std::invalid_argument("--election-timeout must be at least 5 x --heartbeat-interval");
  }
  DataDir dir(config.data_dir);
  std::string member_dir = dir.member();
  fs.create_dirs(member_dir);
  lock = std::make_unique<DirectoryLock>(dir.lock());

  std::vector<server::Member> members;
  for (const auto& [name, urls] : parse_initial_cluster(config.initial_cluster)) {
    server::Member m;
    m.name = name;
    m.peer_urls = urls;
    m.id = member_id_of(urls, config.initial_cluster_token);
    if (name == config.name) {
      m.client_urls = config.advertise_client_urls;
      id = m.id;
    }
    members.push_back(m);
  }
  if (id == 0) {
    throw std::invalid_argument(fmt::format("--initial-cluster does not name this member ({})",
                                            config.name));
  }
  std::vector<uint64_t> ids;
  for (const auto& m : members) ids.push_back(m.id);
  cluster = cluster_id_of(ids);

  storage = WalStorage::open(fs, dir.raft());
  bool fresh = storage->last_index() == 0 && storage->hard_state().empty() &&
               storage->snapshot().empty();
  std::string cluster_file = dir.cluster_file();
  if (auto known = read_cluster_file(fs, cluster_file)) {
    // A restart: the data dir says who we are; the --initial-* flags no longer matter.
    cluster = known->cluster;
    id = known->member;
    members.clear();  // rebuilt from the snapshot and the log
  } else if (fresh && config.initial_cluster_state == "existing") {
    join_existing(members);  // learns the cluster id and our id from a member
    write_cluster_file(fs, cluster_file, {cluster, id});
  } else {
    write_cluster_file(fs, cluster_file, {cluster, id});
  }
  if (fresh && config.initial_cluster_state == "new") {
    // As etcd's bootstrap: the members of a new cluster are the first entries of its log.
    std::vector<Entry> entries;
    for (const auto& m : members) {
      ConfChange cc{ConfChange::Type::kAddVoter, m.id, server::encode_member_context(m)};
      entries.push_back(Entry{entries.size() + 1, 1, EntryType::kConfChange, encode_value(cc)});
    }
    storage->append(entries);
    storage->set_hard_state(HardState{1, kNoNode, entries.size()});
    storage->sync();
  }

  mvcc::StoreOptions store_options;
  store_options.path = dir.db();
  auto store = mvcc::KvStore::open(store_options);

  server::NodeOptions options;
  options.raft.id = id;
  if (fresh && config.initial_cluster_state == "new") options.raft.voters = ids;
  options.raft.election_ticks = config.election_ms / config.heartbeat_ms;
  options.raft.heartbeat_ticks = 1;
  options.raft.storage = storage.get();
  options.raft.seed = std::random_device{}();
  options.raft.logger = [name = config.name](const std::string& line) {
    spdlog::info("raft[{}]: {}", name, line);
  };
  options.snapshot_count = config.snapshot_count;
  options.request_epoch = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  options.initial_members = members;
  node = std::make_unique<server::KvNode>(options, std::move(store));
  register_metrics();
  spdlog::info("etcdlab {}: member {:x} of cluster {:x}, data in {}, applied {}", config.name, id,
               cluster, config.data_dir, node->applied_index());
}

void Server::Impl::join_existing(std::vector<server::Member>& members) {
  // As etcd: ask the members named in --initial-cluster for the cluster; our entry there (added
  // with member add) has our peer URLs, and its id becomes ours.
  for (const auto& m : members) {
    if (same_urls(m.peer_urls, config.initial_advertise_peer_urls)) continue;
    for (const auto& url : m.peer_urls) {
      std::optional<std::string> answer;
      try {
        auto [host, port] = parse_host_port(url);
        answer = fetch_members(host, port, config.initial_cluster_token,
                               std::chrono::milliseconds(2000));
      } catch (const std::exception& e) {
        spdlog::warn("etcdlab {}: {}: {}", config.name, url, e.what());
      }
      if (!answer) continue;
      auto [cluster_id, known] = decode_members_answer(*answer);
      for (const auto& k : known) {
        if (!same_urls(k.peer_urls, config.initial_advertise_peer_urls)) continue;
        cluster = cluster_id;
        id = k.id;
        members = known;
        spdlog::info("etcdlab {}: joining cluster {:x} as member {:x} (learned from {})",
                     config.name, cluster, id, url);
        return;
      }
      throw std::runtime_error(fmt::format(
          "the cluster at {} has no member with peer URLs {}: add it first (member add)", url,
          fmt::join(config.initial_advertise_peer_urls, ",")));
    }
  }
  throw std::runtime_error(
      "--initial-cluster-state existing: no member of --initial-cluster answered; is the "
      "cluster running, with the same --initial-cluster-token?");
}

void Server::Impl::update_peers() {
  std::set<NodeId> current;
  for (const auto& m : node->members()) {
    current.insert(m.id);
    if (m.id == id || m.peer_urls.empty()) continue;
    try {
      auto [host, port] = parse_host_port(m.peer_urls.front());
      transport->set_peer(m.id, host, port);
    } catch (const std::exception& e) {
      spdlog::warn("etcdlab {}: member {:x} has a bad peer URL: {}", config.name, m.id, e.what());
    }
  }
  for (NodeId peer : known_peers) {
    if (!current.count(peer)) transport->remove_peer(peer);
  }
  known_peers = std::move(current);
  transport->set_removed(node->removed());
}

void Server::Impl::check_removed() {
  // A member that applied its own removal stops, as etcd's does ("the member has been
  // permanently removed from the cluster").
  ConfState conf = node->status().conf;
  bool member = std::count(conf.voters.begin(), conf.voters.end(), id) > 0 ||
                std::count(conf.learners.begin(), conf.learners.end(), id) > 0;
  if (member) {
    was_member = true;
  } else if (was_member && !stopping && !removal_timer) {
    spdlog::warn("etcdlab {}: the member has been permanently removed from the cluster; exiting",
                 config.name);
    // In a moment: the answer to the removal (this member may be the leader that applied it)
    // and any other reply in flight go out first.
    removal_timer = std::make_unique<asio::steady_timer>(io, std::chrono::milliseconds(500));
    removal_timer->async_wait([this](const boost::system::error_code&) { self.stop(); });
  }
}

uint64_t Server::Impl::quota() const {
  if (config.quota_backend_bytes < 0) return 0;
  return config.quota_backend_bytes == 0 ? 2ULL << 30
                                         : static_cast<uint64_t>(config.quota_backend_bytes);
}

namespace {
double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}
}  // namespace

void Server::Impl::register_metrics() {
  namespace m = etcd_metrics;
  metrics.gauge_func(m::kServerHasLeader, [this] { return lead != kNoNode ? 1.0 : 0.0; });
  metrics.gauge_func(m::kServerIsLeader, [this] { return role == Role::kLeader ? 1.0 : 0.0; });
  leader_changes = &metrics.counter(m::kServerLeaderChangesSeenTotal);
  metrics.gauge_func(m::kServerProposalsCommittedTotal,
                     [this] { return static_cast<double>(node->status().hard_state.commit); });
  metrics.gauge_func(m::kServerProposalsAppliedTotal,
                     [this] { return static_cast<double>(node->applied_index()); });
  metrics.gauge_func(m::kServerProposalsPending,
                     [this] { return static_cast<double>(waiters.size()); });
  proposals_failed = &metrics.counter(m::kServerProposalsFailedTotal);
  metrics.counter_func(m::kServerHeartbeatSendFailuresTotal, [this] {
    return transport ? static_cast<double>(transport->stats().heartbeats_dropped) : 0.0;
  });
  slow_applies = &metrics.counter(m::kServerSlowApplyTotal);
  metrics.gauge_func(m::kServerSnapshotApplyInProgressTotal,
                     [this] { return applying_snapshot ? 1.0 : 0.0; });
  metrics.gauge_func(m::kServerQuotaBackendBytes, [this] { return static_cast<double>(quota()); });
  metrics.gauge_family(m::kServerId).with({fmt::format("{:x}", id)}).set(1);
  metrics.gauge_family(m::kServerVersion).with({"3.4.0"}).set(1);
  health_ok = &metrics.counter(m::kServerHealthSuccess);
  health_failed = &metrics.counter(m::kServerHealthFailures);
  fsync_seconds = &metrics.histogram(m::kDiskWalFsyncDurationSeconds);
  commit_seconds = &metrics.histogram(m::kDiskBackendCommitDurationSeconds);
  defrag_seconds = &metrics.histogram(m::kDiskBackendDefragDurationSeconds);
  snapshot_save_seconds = &metrics.histogram(m::kSnapDbSaveTotalDurationSeconds);
  metrics.gauge_func(m::kMvccDbTotalSizeInBytes,
                     [this] { return static_cast<double>(node->store().db_size()); });
  metrics.gauge_func(m::kMvccDbTotalSizeInUseInBytes,
                     [this] { return static_cast<double>(node->store().db_size()); });
  metrics.gauge_func(m::kDebuggingMvccKeysTotal,
                     [this] { return static_cast<double>(node->store().key_count()); });
  puts = &metrics.counter(m::kMvccPutTotal);
  deletes = &metrics.counter(m::kMvccDeleteTotal);
  ranges = &metrics.counter(m::kMvccRangeTotal);
  peer_sent = &metrics.counter_family(m::kNetworkPeerSentBytesTotal);
  peer_received = &metrics.counter_family(m::kNetworkPeerReceivedBytesTotal);
  register_process_metrics(metrics);
}

void Server::Impl::start_listening() {
  TransportOptions t;
  t.self = id;
  t.cluster_id = cluster;
  t.cluster_token = config.initial_cluster_token;
  t.staging_dir = config.data_dir + "/member/snap-incoming";
  TransportHandlers h;
  h.on_message = [this](Message m, const std::string& staged_payload) {
    if (stopping) return;
    if (!staged_payload.empty()) staged[{m.snapshot.term, m.snapshot.index}] = staged_payload;
    try {
      node->step(m);
    } catch (const std::exception& e) {
      spdlog::warn("etcdlab {}: ignored a message ({}): {}", config.name, to_string(m), e.what());
    }
    schedule_pump();
  };
  h.on_unreachable = [this](NodeId peer) {
    node->report_unreachable(peer);
    schedule_pump();
  };
  h.on_snapshot_sent = [this](NodeId peer, bool ok) {
    node->report_snapshot(peer, ok);
    schedule_pump();
  };
  h.on_members_request = [this] { return encode_members_answer(cluster, node->members()); };
  h.on_removed = [this](NodeId by) {
    if (stopping || removal_timer) return;
    spdlog::warn("etcdlab {}: member {:x} says the member has been permanently removed from the "
                 "cluster; exiting", config.name, by);
    removal_timer = std::make_unique<asio::steady_timer>(io, std::chrono::milliseconds(100));
    removal_timer->async_wait([this](const boost::system::error_code&) { self.stop(); });
  };
  transport = std::make_unique<PeerTransport>(io, t, h);
  for (const auto& url : config.listen_peer_urls) {
    auto [host, port] = parse_host_port(url);
    transport->listen(host, port);
  }
  update_peers();
  check_removed();  // a restarted member is in its own restored configuration: note it now
  db_bytes = node->store().db_size();

  gateway::HttpLimits limits;
  limits.max_request_bytes = config.max_request_bytes;
  limits.read_timeout = std::chrono::milliseconds(config.client_read_timeout_ms);
  http = std::make_unique<gateway::HttpServer>(io, self, limits);
  for (const auto& url : config.listen_client_urls) {
    auto [host, port] = parse_host_port(url);
    http->listen(host, port);
    spdlog::info("etcdlab {}: serving clients on {}", config.name, url);
  }
}

void Server::Impl::schedule_pump() {
  if (pump_scheduled) return;
  pump_scheduled = true;
  asio::post(io, [this] {
    pump_scheduled = false;
    pump();
  });
}

void Server::Impl::send(std::vector<Message>& messages) {
  for (Message& m : messages) {
    if (m.type == MessageType::kSnapshot) {
      std::shared_ptr<SnapshotReader> payload = storage->open_snapshot();
      if (!payload) {
        node->report_snapshot(m.to, false);
        continue;
      }
      transport->send_snapshot(std::move(m), std::move(payload));
    } else {
      transport->send(std::move(m));
    }
  }
  messages.clear();
}

void Server::Impl::install_snapshot(const SnapshotMeta& meta) {
  applying_snapshot = true;
  auto it = staged.find({meta.term, meta.index});
  if (it == staged.end()) fatal(fmt::format("snapshot {} was installed but never arrived", meta.index));
  auto in = fs.open(it->second);
  auto w = storage->begin_snapshot(meta);
  for (uint64_t at = 0; at < in->size(); at += 1 << 20) w->write(in->read_at(at, 1 << 20));
  w->commit();
  in.reset();
  fs.remove(it->second);
  staged.erase(it);
  applying_snapshot = false;
  spdlog::info("etcdlab {}: installed snapshot {} from the leader", config.name, meta.index);
}

void Server::Impl::take_snapshot() {
  auto started_at = Clock::now();
  SnapshotMeta meta = node->snapshot_meta();
  auto w = storage->begin_snapshot(meta);
  node->write_snapshot(*w);
  w->commit();
  node->snapshot_done();
  snapshot_save_seconds->observe(seconds_since(started_at));
  spdlog::info("etcdlab {}: snapshot at index {}", config.name, meta.index);
}

void Server::Impl::deliver(server::Completion c) {
  auto it = waiters.find(c.id);
  if (it == waiters.end()) return;
  it->second->done = std::move(c);
  it->second->timer.cancel();
}

void Server::Impl::pump() {
  try {
    while (!stopping && !persisting && node->has_ready()) {
      Ready rd = node->ready();
      if (rd.soft_state) {
        if (rd.soft_state->leader != lead) {
          spdlog::info("etcdlab {}: leader is now {:x}", config.name, rd.soft_state->leader);
          if (rd.soft_state->leader != kNoNode) leader_changes->inc();
        }
        role = rd.soft_state->role;
        lead = rd.soft_state->leader;
      }
      if (rd.hard_state) term = rd.hard_state->term;
      bool leader = role == Role::kLeader;
      if (leader) send(rd.messages);  // a leader may send while its own write is in flight
      if (rd.snapshot) install_snapshot(*rd.snapshot);
      if (!rd.entries.empty()) storage->append(rd.entries);
      if (rd.hard_state) storage->set_hard_state(*rd.hard_state);
      if (!rd.must_sync) {
        finish_ready(rd, leader);
        continue;
      }
      persisting = true;
      auto job = std::make_shared<Persisting>(Persisting{std::move(rd), leader, Clock::now()});
      asio::post(disk, [this, job] {
        std::string error;
        try {
          storage->sync();
        } catch (const std::exception& e) {
          error = e.what();
        }
        asio::post(io, [this, job, error] {
          if (!error.empty()) fatal("storage failure: " + error);
          fsync_seconds->observe(seconds_since(job->started));
          persisting = false;
          try {
            finish_ready(job->rd, job->leader);
          } catch (const StorageError& e) {
            fatal(std::string("storage failure: ") + e.what());
          }
          pump();
        });
      });
      return;
    }
    if (!stopping && !persisting && node->compaction_pending()) {
      // One bounded step, then let requests in before the next (a posted pump).
      node->compaction_step();
      for (auto& c : node->take_completions()) deliver(std::move(c));
      if (node->compaction_pending()) schedule_pump();
    }
  } catch (const StorageError& e) {
    fatal(std::string("storage failure: ") + e.what());
  }
}

void Server::Impl::finish_ready(Ready& rd, bool leader) {
  if (!leader) send(rd.messages);
  auto applied_at = Clock::now();
  node->apply(rd);
  // What the quota check reads: the store's size, measured once per batch, not per put.
  if (!rd.committed_entries.empty() || rd.snapshot) db_bytes = node->store().db_size();
  if (!rd.committed_entries.empty()) {
    // Applied on this member, as etcd counts them (every member counts every put).
    const auto& sm = node->state_machine();
    puts->inc(sm.puts_applied() - puts_counted);
    deletes->inc(sm.deletes_applied() - deletes_counted);
    puts_counted = sm.puts_applied();
    deletes_counted = sm.deletes_applied();
    double took = seconds_since(applied_at);
    commit_seconds->observe(took);
    if (took > 0.1) slow_applies->inc();  // etcd's warnApplyDuration
  }
  node->advance(rd);
  for (auto& c : node->take_completions()) deliver(std::move(c));
  // The peers and this member's own membership change only with a configuration change or a
  // snapshot: not looked at again for every batch of puts.
  bool reconfigured = rd.snapshot.has_value() ||
                      std::any_of(rd.committed_entries.begin(), rd.committed_entries.end(),
                                  [](const Entry& e) { return e.type == EntryType::kConfChange; });
  if (reconfigured) {
    update_peers();
    check_removed();
  }
  if (node->wants_snapshot()) take_snapshot();
}

asio::awaitable<void> Server::Impl::tick_loop() {
  auto period = std::chrono::milliseconds(config.heartbeat_ms);
  auto next = Clock::now() + period;
  while (!stopping) {
    ticker->expires_at(next);
    co_await ticker->async_wait(kTuple);
    if (stopping) break;
    next += period;
    if (next < Clock::now()) next = Clock::now() + period;  // do not burst after a stall
    node->tick();
    pump();
  }
}

asio::awaitable<void> Server::Impl::publish() {
  // Tell the cluster how clients reach this member (etcd's publish), retrying until it commits.
  server::AttributesRequest a;
  a.member = id;
  a.name = config.name;
  a.client_urls = config.advertise_client_urls;
  while (!stopping && !published) {
    try {
      co_await self.write(a);
      published = true;
    } catch (const GatewayError& e) {
      spdlog::debug("etcdlab {}: publish not committed yet: {}", config.name, e.what());
    }
    if (!published) {  // (no co_await inside a handler)
      asio::steady_timer pause(io, std::chrono::milliseconds(200));
      co_await pause.async_wait(kTuple);
    }
  }
}

Server::Server(ServerConfig config) : impl_(std::make_unique<Impl>(*this, std::move(config))) {
  impl_->open();
}

Server::~Server() = default;

void Server::run() {
  auto& r = *impl_;
  r.start_listening();
  r.ticker = std::make_unique<asio::steady_timer>(r.io);
  asio::co_spawn(r.io, r.tick_loop(), asio::detached);
  asio::co_spawn(r.io, r.publish(), asio::detached);
  r.signals = std::make_unique<asio::signal_set>(r.io, SIGINT, SIGTERM);
  r.signals->async_wait([this](const boost::system::error_code& ec, int sig) {
    if (!ec) {
      spdlog::info("etcdlab {}: signal {}, shutting down", impl_->config.name, sig);
      stop();
    }
  });
  r.io.run();
  spdlog::info("etcdlab {}: stopped", r.config.name);
}

void Server::stop() {
  auto& r = *impl_;
  if (r.stopping) return;
  r.stopping = true;
  if (r.http) r.http->stop();
  if (r.transport) r.transport->stop();
  if (r.ticker) r.ticker->cancel();
  if (r.signals) r.signals->cancel();
  for (auto& [id, w] : r.waiters) w->timer.cancel();
  // Let the cancelled coroutines finish, then stop.
  asio::post(r.io, [&r] { r.io.stop(); });
}

asio::awaitable<server::Completion> Server::Impl::propose_and_wait(
    const std::function<uint64_t()>& propose, Clock::time_point deadline) {
  uint64_t request_id = 0;
  for (;;) {
    bool dropped = false;
    try {
      request_id = propose();
    } catch (const ProposalDropped& e) {
      dropped = true;
      spdlog::debug("etcdlab {}: proposal dropped: {}", config.name, e.what());
    }
    if (dropped) {
      // No leader right now (or a membership change in flight): wait a little, within the
      // deadline.
      if (Clock::now() >= deadline || stopping) {
        proposals_failed->inc();
        // With a leader, the drop was something else (a membership change in flight, a
        // leader transfer): the request timed out, as etcd says.
        if (lead != kNoNode && !stopping) {
          throw GatewayError(GrpcCode::kUnavailable, gateway::kRequestTimedOut);
        }
        throw GatewayError(GrpcCode::kUnavailable, gateway::kNoLeader);
      }
      asio::steady_timer pause(io, std::chrono::milliseconds(50));
      co_await pause.async_wait(kTuple);
      continue;
    }
    break;
  }
  auto waiter = std::make_shared<Waiter>(io);
  waiter->timer.expires_at(deadline);
  waiters[request_id] = waiter;
  schedule_pump();
  co_await waiter->timer.async_wait(kTuple);
  waiters.erase(request_id);
  if (!waiter->done) {
    node->forget(request_id);
    proposals_failed->inc();
    throw GatewayError(GrpcCode::kUnavailable, gateway::kRequestTimedOut);
  }
  co_return std::move(*waiter->done);
}

asio::awaitable<server::Result> Server::write(server::Request request) {
  auto& r = *impl_;
  auto deadline = Clock::now() + std::chrono::milliseconds(r.config.request_timeout_ms);
  if (const auto* put = std::get_if<server::PutRequest>(&request); put && r.quota() > 0) {
    // As etcd's backend quota: a put that would take the database past the quota raises
    // NOSPACE (through the log, so every member refuses puts) and is refused.
    uint64_t cost = put->key.size() + put->value.size() + 64;
    if (r.db_bytes + cost > r.quota()) {
      server::AlarmRequest alarm{true, r.id, server::AlarmType::kNoSpace};
      std::vector<server::Alarm> alarms = r.node->alarms();
      bool raised = std::any_of(alarms.begin(), alarms.end(), [&](const server::Alarm& a) {
        return a.member == r.id && a.type == server::AlarmType::kNoSpace;
      });
      if (!raised) {
        spdlog::warn("etcdlab {}: database size {} past the quota {}: raising NOSPACE",
                     r.config.name, r.db_bytes, r.quota());
        try {
          r.node->propose(alarm);  // not waited for
          r.schedule_pump();
        } catch (const ProposalDropped&) {
          // no leader: the next put tries again
        }
      }
      throw GatewayError(GrpcCode::kResourceExhausted, gateway::kNoSpace);
    }
  }
  server::Completion c =
      co_await r.propose_and_wait([&] { return r.node->propose(request); }, deadline);
  co_return std::move(c.result);
}

asio::awaitable<void> Server::read_barrier() {
  auto& r = *impl_;
  auto deadline = Clock::now() + std::chrono::milliseconds(r.config.request_timeout_ms);
  co_await r.propose_and_wait([&] { return r.node->read_index(); }, deadline);
}

bool Server::is_leader() const { return impl_->role == Role::kLeader; }

asio::awaitable<gateway::HttpResponse> Server::forward_to_leader(gateway::HttpRequest request) {
  auto& r = *impl_;
  if (r.lead == kNoNode) throw GatewayError(GrpcCode::kUnavailable, gateway::kNoLeader);
  for (const auto& m : r.node->members()) {
    if (m.id != r.lead) continue;
    for (const auto& url : m.client_urls) {
      auto [host, port] = parse_host_port(url);
      co_return co_await forward_http(r.io, host, port, std::move(request),
                                      std::chrono::milliseconds(r.config.request_timeout_ms));
    }
  }
  throw GatewayError(GrpcCode::kUnavailable,
                     fmt::format("etcdserver: the leader {:x} has not published its client URLs",
                                 r.lead));
}

namespace {

bool started(const server::Member& m) { return !m.name.empty(); }

[[noreturn]] void fail(GrpcCode code, const char* message) { throw GatewayError(code, message); }

}  // namespace

asio::awaitable<server::Member> Server::change_member(gateway::MemberRequest req) {
  using Kind = gateway::MemberRequest::Kind;
  auto& r = *impl_;
  if (r.role != Role::kLeader) throw GatewayError(GrpcCode::kUnavailable, gateway::kNoLeader);
  RaftStatus st = r.node->status();
  std::vector<server::Member> members = r.node->members();
  auto find = [&](uint64_t id) -> const server::Member* {
    for (const auto& m : members) {
      if (m.id == id) return &m;
    }
    return nullptr;
  };
  auto voter = [&](uint64_t id) {
    return std::count(st.conf.voters.begin(), st.conf.voters.end(), id) > 0;
  };
  // A voter is "active" when the leader is replicating to it (or it is the leader).
  auto active = [&](uint64_t id) {
    if (id == r.id) return true;
    auto it = st.progress.find(id);
    return it != st.progress.end() && it->second.state == ProgressStatus::State::kReplicate;
  };
  auto check_urls = [&](const std::vector<std::string>& urls, uint64_t self_id) {
    if (urls.empty()) fail(GrpcCode::kInvalidArgument, gateway::kBadMemberUrls);
    for (const auto& u : urls) {
      try {
        parse_host_port(u);
      } catch (const std::invalid_argument&) {
        fail(GrpcCode::kInvalidArgument, gateway::kBadMemberUrls);
      }
      for (const auto& m : members) {
        if (m.id != self_id && std::count(m.peer_urls.begin(), m.peer_urls.end(), u)) {
          fail(GrpcCode::kFailedPrecondition, gateway::kPeerUrlExists);
        }
      }
    }
  };

  server::Member target;
  ConfChange::Type type = ConfChange::Type::kAddVoter;
  switch (req.kind) {
    case Kind::kAdd: {
      check_urls(req.peer_urls, 0);
      if (req.learner) {
        if (!st.conf.learners.empty()) fail(GrpcCode::kFailedPrecondition, gateway::kTooManyLearners);
      } else {
        // etcd's IsReadyToAddVotingMember and the leader's view of its connections.
        size_t n = 1, up = 0;
        for (NodeId v : st.conf.voters) {
          ++n;
          const server::Member* m = find(v);
          if (m && started(*m)) ++up;
        }
        if (!(up == 1 && n == 2) && up < n / 2 + 1) {
          fail(GrpcCode::kFailedPrecondition, gateway::kNotEnoughStarted);
        }
        for (NodeId v : st.conf.voters) {
          if (!active(v)) fail(GrpcCode::kUnavailable, gateway::kUnhealthy);
        }
      }
      std::string salt = fmt::format("{}:{}", r.config.initial_cluster_token,
                                     std::chrono::system_clock::now().time_since_epoch().count());
      target.id = member_id_of(req.peer_urls, salt);
      if (find(target.id)) fail(GrpcCode::kFailedPrecondition, "etcdserver: member ID already exist");
      target.peer_urls = req.peer_urls;
      target.learner = req.learner;
      type = req.learner ? ConfChange::Type::kAddLearner : ConfChange::Type::kAddVoter;
      break;
    }
    case Kind::kRemove: {
      const server::Member* m = find(req.id);
      if (!m) fail(GrpcCode::kNotFound, gateway::kMemberNotFound);
      if (voter(req.id)) {
        // etcd's IsReadyToRemoveVotingMember and isConnectedToQuorumSince, without it.
        size_t n = 0, up = 0, reachable = 0;
        for (NodeId v : st.conf.voters) {
          if (v == req.id) continue;
          ++n;
          const server::Member* other = find(v);
          if (other && started(*other)) ++up;
          if (active(v)) ++reachable;
        }
        if (up < n / 2 + 1) fail(GrpcCode::kFailedPrecondition, gateway::kNotEnoughStarted);
        if (reachable < n / 2 + 1) fail(GrpcCode::kUnavailable, gateway::kUnhealthy);
      }
      target = *m;
      type = ConfChange::Type::kRemoveNode;
      break;
    }
    case Kind::kUpdate: {
      const server::Member* m = find(req.id);
      if (!m) fail(GrpcCode::kNotFound, gateway::kMemberNotFound);
      check_urls(req.peer_urls, req.id);
      target = *m;
      target.peer_urls = req.peer_urls;
      type = ConfChange::Type::kUpdateNode;
      break;
    }
    case Kind::kPromote: {
      const server::Member* m = find(req.id);
      if (!m) fail(GrpcCode::kNotFound, gateway::kMemberNotFound);
      if (!m->learner) fail(GrpcCode::kFailedPrecondition, gateway::kNotLearner);
      // etcd's isLearnerReady: its match index within 90% of the leader's.
      auto it = st.progress.find(req.id);
      uint64_t leader_match = st.last_index;
      if (it == st.progress.end() ||
          static_cast<double>(it->second.match) < 0.9 * static_cast<double>(leader_match)) {
        fail(GrpcCode::kFailedPrecondition, gateway::kLearnerNotReady);
      }
      target = *m;
      target.learner = false;
      type = ConfChange::Type::kAddVoter;
      break;
    }
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(r.config.request_timeout_ms);
  server::Member change = target;
  change.client_urls.clear();
  co_await r.propose_and_wait([&] { return r.node->propose_member_change(type, change); },
                              deadline);
  spdlog::info("etcdlab {}: member {:x} {}", r.config.name, target.id,
               req.kind == Kind::kAdd       ? "added"
               : req.kind == Kind::kRemove  ? "removed"
               : req.kind == Kind::kUpdate  ? "updated"
                                            : "promoted");
  co_return target;
}

asio::awaitable<std::vector<server::Alarm>> Server::change_alarm(bool activate,
                                                                 server::Alarm alarm) {
  auto& r = *impl_;
  if (alarm.type == server::AlarmType::kNone) co_return r.node->alarms();
  if (!activate) {
    // etcd deactivates only an alarm that is raised; the answer lists what was cleared.
    auto now = r.node->alarms();
    if (std::find(now.begin(), now.end(), alarm) == now.end()) {
      co_return std::vector<server::Alarm>{};
    }
  }
  auto deadline = Clock::now() + std::chrono::milliseconds(r.config.request_timeout_ms);
  server::AlarmRequest request{activate, alarm.member, alarm.type};
  co_await r.propose_and_wait([&] { return r.node->propose(request); }, deadline);
  co_return std::vector<server::Alarm>{alarm};
}

std::vector<server::Alarm> Server::alarms() const { return impl_->node->alarms(); }

void Server::defragment() {
  auto& r = *impl_;
  auto before = r.node->store().db_size();
  auto started_at = Clock::now();
  r.node->store().defragment();
  r.db_bytes = r.node->store().db_size();
  r.defrag_seconds->observe(seconds_since(started_at));
  spdlog::info("etcdlab {}: defragmented the store: {} -> {} bytes", r.config.name, before,
               r.node->store().db_size());
}

std::string Server::metrics_text() const {
  auto& r = *impl_;
  // Peer bytes per member, from the transport's running totals.
  PeerStats stats = r.transport->stats();
  auto sync = [](Family<Counter>& family, const std::map<NodeId, uint64_t>& totals) {
    for (const auto& [peer, bytes] : totals) {
      Counter& c = family.with({fmt::format("{:x}", peer)});
      auto seen = static_cast<uint64_t>(c.value());
      if (bytes > seen) c.inc(bytes - seen);
    }
  };
  sync(*r.peer_sent, stats.sent_to);
  sync(*r.peer_received, stats.received_from);
  return r.metrics.expose();
}

namespace {

// A copy of the store in a file of the data dir, removed when the download ends.
class FileDbSnapshot final : public gateway::DbSnapshot {
 public:
  FileDbSnapshot(FileSystem& fs, std::string path) : fs_(fs), path_(std::move(path)) {
    file_ = fs_.open(path_);
  }
  ~FileDbSnapshot() override {
    file_.reset();
    try {
      fs_.remove(path_);
    } catch (const std::exception& e) {
      spdlog::warn("snapshot: could not remove {}: {}", path_, e.what());
    }
  }
  uint64_t size() const override { return file_->size(); }
  std::string read(uint64_t offset, uint64_t length) override {
    return file_->read_at(offset, length);
  }

 private:
  FileSystem& fs_;
  std::string path_;
  std::unique_ptr<File> file_;
};

}  // namespace

std::unique_ptr<gateway::DbSnapshot> Server::open_db_snapshot() {
  auto& r = *impl_;
  // The copy is taken now, between two apply batches: a consistent database at this revision.
  std::string path = fmt::format("{}/member/snapshot-out-{}.db", r.config.data_dir, ++r.snapshot_outs);
  if (r.fs.exists(path)) r.fs.remove(path);
  {
    auto f = r.fs.create(path);
    r.node->store().snapshot([&](std::string_view chunk) { f->append(chunk); });
  }
  spdlog::info("etcdlab {}: sending a database snapshot at revision {}", r.config.name,
               r.node->store().revision());
  return std::make_unique<FileDbSnapshot>(r.fs, path);
}

void Server::count_range() { impl_->ranges->inc(); }

void Server::count_health(bool healthy) {
  (healthy ? impl_->health_ok : impl_->health_failed)->inc();
}

bool Server::failpoints_enabled() const { return impl_->config.enable_failpoints; }

void Server::set_failpoints(const gateway::Failpoints& f) {
  PeerFaults faults;
  faults.drop_to.insert(f.drop_to.begin(), f.drop_to.end());
  faults.drop_from.insert(f.drop_from.begin(), f.drop_from.end());
  faults.delay_ms = f.delay_ms;
  impl_->transport->set_faults(std::move(faults));
}

gateway::Failpoints Server::failpoints() const {
  const PeerFaults& f = impl_->transport->faults();
  gateway::Failpoints out;
  out.drop_to.assign(f.drop_to.begin(), f.drop_to.end());
  out.drop_from.assign(f.drop_from.begin(), f.drop_from.end());
  out.delay_ms = f.delay_ms;
  return out;
}

const mvcc::KvStore& Server::store() const { return impl_->node->store(); }
uint64_t Server::cluster_id() const { return impl_->cluster; }
uint64_t Server::member_id() const { return impl_->id; }
uint64_t Server::raft_term() const {
  // Every response header carries it: the term of the last Ready, not a whole status().
  return impl_->term != 0 ? impl_->term : impl_->node->status().hard_state.term;
}
std::vector<server::Member> Server::members() const { return impl_->node->members(); }
bool Server::healthy() const { return impl_->lead != kNoNode && impl_->node->alarms().empty(); }
uint64_t Server::max_request_bytes() const { return impl_->config.max_request_bytes; }

gateway::ServerStatus Server::status() const {
  auto& r = *impl_;
  RaftStatus s = r.node->status();
  gateway::ServerStatus out;
  out.version = "3.4.0";
  out.db_size = r.node->store().db_size();
  out.db_size_in_use = out.db_size;
  out.leader = s.soft_state.leader;
  out.raft_index = s.last_index;
  out.raft_term = s.hard_state.term;
  out.raft_applied_index = r.node->applied_index();
  out.is_learner = std::find(s.conf.learners.begin(), s.conf.learners.end(), r.id) !=
                   s.conf.learners.end();
  if (s.soft_state.leader == kNoNode) out.errors.push_back(gateway::kNoLeader);
  return out;
}

}  // namespace etcdlab::runtime
