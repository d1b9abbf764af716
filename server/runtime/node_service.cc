#include "node_service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <openssl/rand.h>
#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "disk_failpoints.h"
#include "forward.h"
#include "node_driver.h"
#include "peer_transport.h"
#include "server_metrics.h"
#include "tls_context.h"

namespace etcdlab::runtime {

namespace asio = boost::asio;
using server::ApiError;
using server::Completion;
using server::GrpcCode;
using server::KvNode;

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

// The answer of a completion, or the node's error as the exception the handlers map.
server::Result NodeService::result_of(Completion c) {
  if (c.error) throw *c.error;
  return std::move(c.result);
}

NodeService::NodeService(asio::io_context& io, NodeDriver& driver, const ServerConfig& config,
                         uint64_t cluster, uint64_t member, ServerMetrics& metrics,
                         PeerTransport* const& transport, FileSystem& fs)
    : io_(io), driver_(driver), config_(config), cluster_(cluster), member_(member),
      metrics_(metrics), transport_(transport), fs_(fs),
      view_(config.enable_view ? std::make_unique<gateway::ViewStreams>(config.view_max_streams)
                               : nullptr) {}

asio::awaitable<server::Result> NodeService::write(server::Request request) {
  Completion c = co_await driver_.call([&](KvNode& n) { return n.submit(std::move(request)); });
  co_return result_of(std::move(c));
}

asio::awaitable<server::Result> NodeService::txn(server::TxnRequest request) {
  Completion c = co_await driver_.call([&](KvNode& n) { return n.txn(std::move(request)); });
  co_return result_of(std::move(c));
}

asio::awaitable<void> NodeService::read_barrier() {
  Completion c = co_await driver_.call([](KvNode& n) { return n.read_index(); });
  if (c.error) throw *c.error;
}

const mvcc::KvStore& NodeService::store() const { return driver_.node().store(); }

uint64_t NodeService::raft_term() const {
  // Every response header carries it: the term of the last Ready, not a whole status().
  uint64_t term = driver_.node().term();
  return term != 0 ? term : driver_.node().status().hard_state.term;
}

std::vector<server::Member> NodeService::members() const { return driver_.node().members(); }
bool NodeService::healthy() const { return driver_.node().healthy(); }
bool NodeService::is_leader() const { return driver_.node().role() == Role::kLeader; }
std::vector<server::Alarm> NodeService::alarms() const { return driver_.node().alarms(); }
server::NodeView NodeService::view_state() const { return driver_.node().view_state(); }
std::vector<server::RequestRecord> NodeService::recent_requests() const {
  return driver_.node().recent_requests();
}

asio::awaitable<gateway::HttpResponse> NodeService::forward_to_leader(gateway::HttpRequest request) {
  // The leader's client URLs come with its publish, a moment after it is elected: wait for
  // them (and for a leader) up to the request timeout.
  auto deadline = Clock::now() + std::chrono::milliseconds(config_.request_timeout_ms);
  for (;;) {
    NodeId lead = driver_.node().leader();
    for (const auto& m : driver_.node().members()) {
      if (lead == kNoNode || m.id != lead || m.client_urls.empty()) continue;
      auto [host, port] = parse_host_port(m.client_urls.front());
      // (TLS: this member's client certificate, the leader's checked against its CA.)
      auto tls = is_tls_url(m.client_urls.front())
                     ? make_client_tls(config_.client_tls, false, "http/1.1")
                     : nullptr;
      co_return co_await forward_http(io_, host, port, std::move(request),
                                      std::chrono::milliseconds(config_.request_timeout_ms), tls);
    }
    if (Clock::now() >= deadline) {
      throw ApiError(GrpcCode::kUnavailable, lead == kNoNode
                                                 ? server::rpctypes::kNoLeader
                                                 : server::rpctypes::kRequestTimedOut);
    }
    asio::steady_timer pause(io_, std::chrono::milliseconds(50));
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<server::Member> NodeService::change_member(gateway::MemberRequest request) {
  using Kind = server::MemberChange::Kind;
  // A new member's id is salted with the time, as etcd's, so a member added again gets a new one.
  request.salt = std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  Completion c = co_await driver_.call([&](KvNode& n) { return n.change_member(request); });
  server::Result result = result_of(std::move(c));
  server::Member member = std::get<server::MembershipResult>(result.value).member;
  spdlog::info("etcdlab {}: member {:x} {}", config_.name, member.id,
               request.kind == Kind::kAdd      ? "added"
               : request.kind == Kind::kRemove ? "removed"
               : request.kind == Kind::kUpdate ? "updated"
                                               : "promoted");
  co_return member;
}

asio::awaitable<std::vector<server::Alarm>> NodeService::change_alarm(bool activate,
                                                                      server::Alarm alarm) {
  Completion c = co_await driver_.call([&](KvNode& n) { return n.change_alarm(activate, alarm); });
  server::Result result = result_of(std::move(c));
  co_return std::get<server::AlarmResult>(result.value).alarms;
}

asio::awaitable<void> NodeService::move_leader(uint64_t to) {
  Completion c = co_await driver_.call([to](KvNode& n) { return n.move_leader(to); });
  result_of(std::move(c));
  spdlog::info("etcdlab {}: leadership moved to {:x}", config_.name, to);
}

asio::awaitable<server::LeaseKeepAliveResult> NodeService::lease_keep_alive(int64_t id) {
  Completion c = co_await driver_.call([id](KvNode& n) { return n.keep_alive(id); });
  server::Result result = result_of(std::move(c));
  co_return std::get<server::LeaseKeepAliveResult>(result.value);
}

asio::awaitable<server::LeaseTimeToLiveResult> NodeService::lease_time_to_live(int64_t id,
                                                                              bool keys) {
  Completion c = co_await driver_.call([id, keys](KvNode& n) { return n.time_to_live(id, keys); });
  server::Result result = result_of(std::move(c));
  co_return std::get<server::LeaseTimeToLiveResult>(result.value);
}

std::vector<int64_t> NodeService::leases() const { return driver_.node().leases(); }

// Watches: the node's hub answers at once; the driver wakes a stream's writer when the node
// has made responses for it (after an apply, a tick).
uint64_t NodeService::open_watch_stream(std::function<void()> wake) {
  uint64_t stream = driver_.node().open_watch_stream();
  driver_.set_watch_waker(stream, std::move(wake));
  return stream;
}

void NodeService::close_watch_stream(uint64_t stream) {
  driver_.set_watch_waker(stream, nullptr);
  driver_.node().close_watch_stream(stream);
}

void NodeService::watch(uint64_t stream, const watch::WatchRequest& request) {
  driver_.node().watch(stream, request);
  driver_.wake_watchers();
}

void NodeService::cancel_watch(uint64_t stream, int64_t id) {
  driver_.node().cancel_watch(stream, id);
  driver_.wake_watchers();
}

void NodeService::request_watch_progress(uint64_t stream) {
  driver_.node().request_watch_progress(stream);
  driver_.wake_watchers();
}

std::vector<watch::WatchResponse> NodeService::take_watch_responses(uint64_t stream,
                                                                    size_t max) {
  return driver_.node().take_watch_responses(stream, max);
}

gateway::ServerStatus NodeService::status() const {
  const KvNode& node = driver_.node();
  RaftStatus s = node.status();
  gateway::ServerStatus out;
  out.version = "3.4.0";
  out.db_size = node.store().db_size();
  out.db_size_in_use = out.db_size;
  out.leader = s.soft_state.leader;
  out.raft_index = s.last_index;
  out.raft_term = s.hard_state.term;
  out.raft_applied_index = node.applied_index();
  out.is_learner = std::find(s.conf.learners.begin(), s.conf.learners.end(), member_) !=
                   s.conf.learners.end();
  if (s.soft_state.leader == kNoNode) out.errors.push_back(server::rpctypes::kNoLeader);
  return out;
}

asio::awaitable<void> NodeService::defragment() {
  // Beside the node (kv_node.h): Raft goes on, the node's writes wait until it is done.
  auto before = driver_.node().store().db_size();
  auto started_at = Clock::now();
  std::shared_ptr<server::KvNode::StoreJob> job = driver_.node().begin_defragment();
  if (job) {
    spdlog::info("etcdlab {}: defragmenting the store ({} bytes) beside the node", config_.name,
                 before);
    std::function<void()> work = [job]() mutable {
      job->run();
      job.reset();
    };
    job.reset();  // the job lives in `work` alone
    std::exception_ptr failed;
    try {
      co_await driver_.beside(std::move(work));
    } catch (...) {
      failed = std::current_exception();
    }
    driver_.end_defragment();
    if (failed) {
      try {
        std::rethrow_exception(failed);
      } catch (const std::exception& e) {
        spdlog::error("etcdlab {}: defragmentation failed (the store is as it was): {}",
                      config_.name, e.what());
      }
      std::rethrow_exception(failed);
    }
  }
  double took = std::chrono::duration<double>(Clock::now() - started_at).count();
  metrics_.defrag_seconds->observe(took);
  spdlog::info("etcdlab {}: defragmented the store: {} -> {} bytes ({:.3f} s)", config_.name,
               before, driver_.node().store().db_size(), took);
}

std::string NodeService::metrics_text() const {
  if (transport_) sync_peer_metrics(metrics_, *transport_);
  return metrics_.registry.expose();
}

namespace {

// A prepared copy of the store (its temporary file in the data dir goes with it, on the
// snapshot thread).
class CopyDbSnapshot final : public gateway::DbSnapshot {
 public:
  CopyDbSnapshot(NodeDriver& driver, std::shared_ptr<server::StateCopy> copy)
      : driver_(driver), copy_(std::move(copy)) {}
  ~CopyDbSnapshot() override { driver_.drop_beside(std::move(copy_)); }
  uint64_t size() const override { return copy_->size(); }
  std::string read(uint64_t offset, uint64_t length) override {
    return copy_->read(offset, length);
  }

 private:
  NodeDriver& driver_;
  std::shared_ptr<server::StateCopy> copy_;
};

}  // namespace

asio::awaitable<std::unique_ptr<gateway::DbSnapshot>> NodeService::open_db_snapshot() {
  co_await driver_.wait_store_released();
  // Taken now, between two apply batches (a consistent database at this revision); copied
  // into a file of the data dir beside the node, then streamed from it.
  int64_t revision = driver_.node().store().revision();
  std::shared_ptr<server::StateCopy> copy = driver_.node().copy_store();
  co_await driver_.prepare_beside(copy);
  spdlog::info("etcdlab {}: sending a database snapshot at revision {}", config_.name, revision);
  co_return std::make_unique<CopyDbSnapshot>(driver_, std::move(copy));
}

void NodeService::count_range() { metrics_.ranges->inc(); }

void NodeService::count_health(bool healthy) {
  (healthy ? metrics_.health_ok : metrics_.health_failed)->inc();
}

void NodeService::set_failpoints(const gateway::Failpoints& f) {
  PeerFaults faults;
  faults.drop_to.insert(f.drop_to.begin(), f.drop_to.end());
  faults.drop_from.insert(f.drop_from.begin(), f.drop_from.end());
  faults.delay_ms = f.delay_ms;
  transport_->set_faults(std::move(faults));
}

gateway::Failpoints NodeService::failpoints() const {
  const PeerFaults& f = transport_->faults();
  gateway::Failpoints out;
  out.drop_to.assign(f.drop_to.begin(), f.drop_to.end());
  out.drop_from.assign(f.drop_from.begin(), f.drop_from.end());
  out.delay_ms = f.delay_ms;
  return out;
}

// The server's file system is a FailpointFileSystem (server.cc); a test's may not be.
void NodeService::set_disk_failpoints(const gateway::DiskFailpoints& f) {
  auto* disk = dynamic_cast<FailpointFileSystem*>(&fs_);
  if (disk == nullptr) {
    gateway::KvService::set_disk_failpoints(f);  // refused: 501
    return;
  }
  disk->set_sync_delay(std::chrono::milliseconds(f.sync_delay_ms));
  spdlog::warn("etcdlab {}: failpoint set: every disk sync waits {} ms", config_.name,
               f.sync_delay_ms);
}

gateway::DiskFailpoints NodeService::disk_failpoints() const {
  auto* disk = dynamic_cast<const FailpointFileSystem*>(&fs_);
  gateway::DiskFailpoints out;
  if (disk != nullptr) out.sync_delay_ms = static_cast<uint32_t>(disk->sync_delay().count());
  return out;
}

}  // namespace etcdlab::runtime
