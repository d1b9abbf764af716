#include "server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "../gateway/errors.h"
#include "../gateway/http_server.h"
#include "../node/kv_node.h"
#include "etcdlab/codec.h"
#include "etcdlab/errors.h"
#include "etcdlab/fs/posix_file_system.h"
#include "etcdlab/log/wal_storage.h"
#include "peer_transport.h"

namespace etcdlab::runtime {

namespace asio = boost::asio;
using gateway::GatewayError;
using gateway::GrpcCode;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

uint64_t fnv(std::string_view s, uint64_t h = 0xcbf29ce484222325ULL) {
  for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
  return h;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// "n1=http://a:1,n1=http://b:2,n2=..." -> name -> peer URLs, in the order given.
std::vector<std::pair<std::string, std::vector<std::string>>> parse_initial_cluster(
    const std::string& text) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& item : split(text, ',')) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw std::invalid_argument("--initial-cluster: expected name=url, got \"" + item + "\"");
    }
    std::string name = item.substr(0, eq);
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == name; });
    if (it == out.end()) {
      out.push_back({name, {}});
      it = out.end() - 1;
    }
    it->second.push_back(item.substr(eq + 1));
  }
  return out;
}

}  // namespace

uint64_t member_id_of(const std::vector<std::string>& peer_urls, const std::string& token) {
  std::vector<std::string> sorted = peer_urls;
  std::sort(sorted.begin(), sorted.end());
  uint64_t h = fnv(token);
  for (const auto& u : sorted) h = fnv(u, h ^ 0x5bd1e995);
  return h == 0 ? 1 : h;
}

uint64_t cluster_id_of(std::vector<uint64_t> member_ids) {
  std::sort(member_ids.begin(), member_ids.end());
  uint64_t h = 0xcbf29ce484222325ULL;
  for (uint64_t id : member_ids) h = fnv(std::string_view(reinterpret_cast<char*>(&id), 8), h);
  return h == 0 ? 1 : h;
}

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
  std::map<uint64_t, std::shared_ptr<Waiter>> waiters;
  std::map<std::pair<uint64_t, uint64_t>, std::string> staged;  // snapshot (term, index) -> file

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
  if (config.heartbeat_ms <= 0 || config.election_ms < 5 * config.heartbeat_ms) {
    throw std::invalid_argument("--election-timeout must be at least 5 x --heartbeat-interval");
  }
  std::string member_dir = config.data_dir + "/member";
  fs.create_dirs(member_dir);
  lock = std::make_unique<DirectoryLock>(member_dir + "/LOCK");

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

  storage = WalStorage::open(fs, member_dir + "/raft");
  bool fresh = storage->last_index() == 0 && storage->hard_state().empty() &&
               storage->snapshot().empty();
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
  store_options.path = member_dir + "/db";
  auto store = mvcc::KvStore::open(store_options);

  server::NodeOptions options;
  options.raft.id = id;
  if (config.initial_cluster_state == "new") options.raft.voters = ids;
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
  spdlog::info("etcdlab {}: member {:x} of cluster {:x}, data in {}, applied {}", config.name, id,
               cluster, config.data_dir, node->applied_index());
}

void Server::Impl::update_peers() {
  for (const auto& m : node->members()) {
    if (m.id == id || m.peer_urls.empty()) continue;
    try {
      auto [host, port] = parse_host_port(m.peer_urls.front());
      transport->set_peer(m.id, host, port);
    } catch (const std::exception& e) {
      spdlog::warn("etcdlab {}: member {:x} has a bad peer URL: {}", config.name, m.id, e.what());
    }
  }
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
  transport = std::make_unique<PeerTransport>(io, t, h);
  for (const auto& url : config.listen_peer_urls) {
    auto [host, port] = parse_host_port(url);
    transport->listen(host, port);
  }
  update_peers();

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
  auto it = staged.find({meta.term, meta.index});
  if (it == staged.end()) fatal(fmt::format("snapshot {} was installed but never arrived", meta.index));
  auto in = fs.open(it->second);
  auto w = storage->begin_snapshot(meta);
  for (uint64_t at = 0; at < in->size(); at += 1 << 20) w->write(in->read_at(at, 1 << 20));
  w->commit();
  in.reset();
  fs.remove(it->second);
  staged.erase(it);
  spdlog::info("etcdlab {}: installed snapshot {} from the leader", config.name, meta.index);
}

void Server::Impl::take_snapshot() {
  SnapshotMeta meta = node->snapshot_meta();
  auto w = storage->begin_snapshot(meta);
  node->write_snapshot(*w);
  w->commit();
  node->snapshot_done();
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
    while (!stopping && node->has_ready()) {
      Ready rd = node->ready();
      if (rd.soft_state) {
        if (rd.soft_state->leader != lead) {
          spdlog::info("etcdlab {}: leader is now {:x}", config.name, rd.soft_state->leader);
        }
        role = rd.soft_state->role;
        lead = rd.soft_state->leader;
      }
      bool leader = role == Role::kLeader;
      if (leader) send(rd.messages);  // a leader may send while its own write is in flight
      if (rd.snapshot) install_snapshot(*rd.snapshot);
      if (!rd.entries.empty()) storage->append(rd.entries);
      if (rd.hard_state) storage->set_hard_state(*rd.hard_state);
      if (rd.must_sync) storage->sync();
      if (!leader) send(rd.messages);
      node->apply(rd);
      node->advance(rd);
      for (auto& c : node->take_completions()) deliver(std::move(c));
      if (!rd.committed_entries.empty()) update_peers();
      if (node->wants_snapshot()) take_snapshot();
    }
    if (!stopping && node->compaction_pending()) {
      // One bounded step, then let requests in before the next (a posted pump).
      node->compaction_step();
      for (auto& c : node->take_completions()) deliver(std::move(c));
      if (node->compaction_pending()) schedule_pump();
    }
  } catch (const StorageError& e) {
    fatal(std::string("storage failure: ") + e.what());
  }
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

asio::awaitable<server::Result> Server::write(server::Request request) {
  auto& r = *impl_;
  auto deadline = Clock::now() + std::chrono::milliseconds(r.config.request_timeout_ms);
  uint64_t request_id = 0;
  for (;;) {
    bool dropped = false;
    try {
      request_id = r.node->propose(request);
    } catch (const ProposalDropped&) {
      dropped = true;
    }
    if (dropped) {
      // No leader right now: wait a little for an election, within the deadline.
      if (Clock::now() >= deadline || r.stopping) throw GatewayError(GrpcCode::kUnavailable, gateway::kNoLeader);
      asio::steady_timer pause(r.io, std::chrono::milliseconds(50));
      co_await pause.async_wait(kTuple);
      continue;
    }
    break;
  }
  auto waiter = std::make_shared<Impl::Waiter>(r.io);
  waiter->timer.expires_at(deadline);
  r.waiters[request_id] = waiter;
  r.schedule_pump();
  co_await waiter->timer.async_wait(kTuple);
  r.waiters.erase(request_id);
  if (!waiter->done) throw GatewayError(GrpcCode::kUnavailable, gateway::kRequestTimedOut);
  co_return std::move(waiter->done->result);
}

asio::awaitable<void> Server::read_barrier() {
  auto& r = *impl_;
  auto deadline = Clock::now() + std::chrono::milliseconds(r.config.request_timeout_ms);
  uint64_t request_id = 0;
  for (;;) {
    bool dropped = false;
    try {
      request_id = r.node->read_index();
    } catch (const ProposalDropped&) {
      dropped = true;
    }
    if (dropped) {
      if (Clock::now() >= deadline || r.stopping) throw GatewayError(GrpcCode::kUnavailable, gateway::kNoLeader);
      asio::steady_timer pause(r.io, std::chrono::milliseconds(50));
      co_await pause.async_wait(kTuple);
      continue;
    }
    break;
  }
  auto waiter = std::make_shared<Impl::Waiter>(r.io);
  waiter->timer.expires_at(deadline);
  r.waiters[request_id] = waiter;
  r.schedule_pump();
  co_await waiter->timer.async_wait(kTuple);
  r.waiters.erase(request_id);
  if (!waiter->done) throw GatewayError(GrpcCode::kUnavailable, gateway::kRequestTimedOut);
}

const mvcc::KvStore& Server::store() const { return impl_->node->store(); }
uint64_t Server::cluster_id() const { return impl_->cluster; }
uint64_t Server::member_id() const { return impl_->id; }
uint64_t Server::raft_term() const { return impl_->node->status().hard_state.term; }
std::vector<server::Member> Server::members() const { return impl_->node->members(); }
bool Server::healthy() const { return impl_->lead != kNoNode; }
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
