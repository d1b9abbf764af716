#include "node_driver.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdlib>

#include "etcdlab/errors.h"
#include "server_metrics.h"

namespace etcdlab::runtime {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// How much longer than the node's own deadline a call waits before it gives up on the node.
constexpr std::chrono::milliseconds kBackstop{2000};

}  // namespace

double NodeDriver::seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct NodeDriver::Waiter {
  explicit Waiter(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
  std::optional<server::Completion> done;
};

NodeDriver::NodeDriver(asio::io_context& io, FileSystem& fs, WalStorage& storage,
                       const server::NodeOptions& options, ServerMetrics& metrics, std::string name)
    : io_(io),
      fs_(fs),
      storage_(storage),
      metrics_(metrics),
      name_(std::move(name)),
      tick_ms_(options.tick_ms),
      request_timeout_ms_(options.request_timeout_ms) {
  node_ = std::make_unique<server::KvNode>(options);
  loop_ = std::make_unique<ReadyLoop>(*node_, *this);
  const auto& sm = node_->state_machine();
  puts_counted_ = sm.puts_applied();
  deletes_counted_ = sm.deletes_applied();
}

NodeDriver::~NodeDriver() {
  snapshots_.join();
  disk_.join();
}

void NodeDriver::set_outputs(DriverOutputs outputs) {
  outputs_ = std::move(outputs);
}

void NodeDriver::fatal(const std::string& what) const {
  // A failed fsync (or a storage that cannot be written) must not be retried and acknowledged:
  // stop here and recover from the log on restart.
  spdlog::critical("etcdlab {}: {}; stopping", name_, what);
  std::_Exit(2);
}

asio::awaitable<server::Completion> NodeDriver::call(
    const std::function<uint64_t(server::KvNode&)>& submit) {
  if (stopping_) throw server::ApiError(server::GrpcCode::kUnavailable, server::rpctypes::kStopped);
  uint64_t id = submit(*node_);
  auto waiter = std::make_shared<Waiter>(io_);
  int timeout_ms = request_timeout_ms_ > 0 ? request_timeout_ms_ : 7000;
  waiter->timer.expires_after(std::chrono::milliseconds(timeout_ms) + kBackstop);
  waiters_[id] = waiter;
  deliver_completions();  // a request refused at once is answered at once
  send_node_messages();   // (a keep-alive asks the leader at once)
  schedule_pump();
  if (!waiter->done) co_await waiter->timer.async_wait(kTuple);
  while (!waiter->done && !stopping_ && node_->waits_for_purge(id)) {
    // A physical compaction's purge runs in steps between other work: wait on, as etcd does.
    waiter->timer.expires_after(std::chrono::milliseconds(timeout_ms));
    co_await waiter->timer.async_wait(kTuple);
  }
  waiters_.erase(id);
  if (!waiter->done) {
    node_->forget(id);
    if (stopping_)
      throw server::ApiError(server::GrpcCode::kUnavailable, server::rpctypes::kStopped);
    spdlog::warn("etcdlab {}: the node never answered request {:x}", name_, id);
    metrics_.proposals_failed->inc();
    throw server::ApiError(server::GrpcCode::kUnavailable, server::rpctypes::kRequestTimedOut);
  }
  if (waiter->done->error) metrics_.proposals_failed->inc();
  co_return std::move(*waiter->done);
}

void NodeDriver::send_node_messages() {
  for (const server::NodeMessage& m : node_->take_messages()) {
    if (outputs_.send_node_message)
      outputs_.send_node_message(m.to, server::encode_node_message(m));
  }
}

void NodeDriver::receive_node_message(NodeId from, std::string_view data) {
  if (stopping_) return;
  server::NodeMessage m;
  try {
    m = server::decode_node_message(data);
  } catch (const std::exception& e) {
    spdlog::warn("etcdlab {}: ignored a node message from {:x}: {}", name_, from, e.what());
    return;
  }
  if (m.from != from) {
    spdlog::warn("etcdlab {}: ignored a node message from {:x} that says it is from {:x}", name_,
                 from, m.from);
    return;
  }
  node_->receive(m);
  deliver_completions();
  send_node_messages();
}

void NodeDriver::deliver_completions() {
  for (auto& c : node_->take_completions()) {
    auto it = waiters_.find(c.id);
    if (it == waiters_.end()) continue;
    it->second->done = std::move(c);
    it->second->timer.cancel();
  }
  wake_watchers();  // (every place that may have applied or ticked comes through here)
}

void NodeDriver::set_watch_waker(uint64_t stream, std::function<void()> wake) {
  if (wake) {
    watch_wakers_[stream] = std::move(wake);
  } else {
    watch_wakers_.erase(stream);
  }
}

void NodeDriver::wake_watchers() {
  for (uint64_t stream : node_->take_watch_ready()) {
    auto it = watch_wakers_.find(stream);
    if (it != watch_wakers_.end()) it->second();
  }
}

// ---- inputs

void NodeDriver::receive(Message m, const std::string& staged_payload) {
  if (stopping_) return;
  if (!staged_payload.empty()) {
    // Kept until the node installs it or is past it (drop_stale_staged): an older one may
    // already be in the node's next Ready, so a newer arrival does not remove it. The same
    // snapshot received twice keeps the newer file only.
    auto& slot = staged_[{m.snapshot.term, m.snapshot.index}];
    if (!slot.empty() && slot != staged_payload && fs_.exists(slot)) fs_.remove(slot);
    slot = staged_payload;
  }
  try {
    node_->step(m);
  } catch (const std::exception& e) {
    spdlog::warn("etcdlab {}: ignored a message ({}): {}", name_, to_string(m), e.what());
  }
  schedule_pump();
}

void NodeDriver::unreachable(NodeId peer) {
  node_->report_unreachable(peer);
  schedule_pump();
}

void NodeDriver::snapshot_sent(NodeId peer, bool ok) {
  node_->report_snapshot(peer, ok);
  schedule_pump();
}

void NodeDriver::removed_by(NodeId peer) {
  node_->removed_by_peer(peer);
  check_stop();
}

// ---- the loop

void NodeDriver::end_defragment() {
  node_->end_defragment();
  schedule_pump();
}

void NodeDriver::start() {
  ticker_ = std::make_unique<asio::steady_timer>(io_);
  asio::co_spawn(io_, tick_loop(), asio::detached);
  schedule_pump();
}

void NodeDriver::stop() {
  stopping_ = true;
  if (ticker_) ticker_->cancel();
  for (auto& [id, w] : waiters_) w->timer.cancel();
}

asio::awaitable<void> NodeDriver::tick_loop() {
  auto period = std::chrono::milliseconds(tick_ms_);
  auto next = Clock::now() + period;
  while (!stopping_) {
    ticker_->expires_at(next);
    co_await ticker_->async_wait(kTuple);
    if (stopping_) break;
    if (metrics_.tick_lag_seconds) {
      metrics_.tick_lag_seconds->observe(
          std::chrono::duration<double>(Clock::now() - next).count());
    }
    next += period;
    if (next < Clock::now()) next = Clock::now() + period;  // do not burst after a stall
    node_->tick();
    deliver_completions();
    send_node_messages();
    pump();
  }
}

void NodeDriver::schedule_pump() {
  if (pump_scheduled_) return;
  pump_scheduled_ = true;
  asio::post(io_, [this] {
    pump_scheduled_ = false;
    pump();
  });
}

void NodeDriver::pump() {
  try {
    if (!loop_->busy()) commit_snapshot();
    while (!stopping_ && loop_->step()) {
    }
    if (!stopping_ && !loop_->busy() && node_->backlog_pending()) {
      // What was committed while the store was defragmented: one bounded step, then let
      // requests in before the next.
      if (node_->restore_deferred()) wait_beside();  // the store is about to be replaced
      node_->backlog_step();
      settle();
      if (node_->backlog_pending()) schedule_pump();
    }
    if (!stopping_ && !loop_->busy() && node_->compaction_pending()) {
      // One bounded step, then let requests in before the next (a posted pump).
      node_->compaction_step();
      deliver_completions();
      if (node_->compaction_pending()) schedule_pump();
    }
  } catch (const StorageError& e) {
    fatal(std::string("storage failure: ") + e.what());
  }
  check_stop();
}

void NodeDriver::check_stop() {
  if (stop_announced_) return;
  if (auto why = node_->stop_reason()) {
    stop_announced_ = true;
    spdlog::warn("etcdlab {}: {}; exiting", name_, *why);
    if (outputs_.must_stop) outputs_.must_stop(*why);
  }
}

// ---- DriverIo

bool NodeDriver::taken(const Ready& rd) {
  if (rd.soft_state && rd.soft_state->leader != lead_) {
    spdlog::info("etcdlab {}: leader is now {:x}", name_, rd.soft_state->leader);
    if (rd.soft_state->leader != kNoNode) metrics_.leader_changes->inc();
    lead_ = rd.soft_state->leader;
  }
  return node_->role() == Role::kLeader;
}

void NodeDriver::send(std::vector<Message>& messages) {
  for (Message& m : messages) {
    if (m.type == MessageType::kSnapshot) {
      // The store as it is now, copied beside the node (KvNode::snapshot_to_send).
      asio::co_spawn(io_, send_snapshot_beside(std::move(m)), asio::detached);
    } else if (outputs_.send) {
      outputs_.send(std::move(m));
    }
  }
  messages.clear();
}

void NodeDriver::install_snapshot(const SnapshotMeta& meta) {
  applying_snapshot_ = true;
  // The store is about to be replaced (by this Ready's apply): no copy may be reading its
  // file. Unless the node holds its writes back (a defragmentation runs beside it: waiting
  // for it would stall the node), then it is replaced later, after such a wait (pump()).
  if (!node_->holding_writes() && !node_->backlog_pending()) wait_beside();
  if (snapshot_ready_ && snapshot_meta_.index <= meta.index) {
    snapshot_ready_.reset();  // our own, older than the leader's: dropped
    node_->snapshot_abandoned();
  }
  auto it = staged_.find({meta.term, meta.index});
  if (it == staged_.end())
    fatal(fmt::format("snapshot {} was installed but never arrived", meta.index));
  auto in = fs_.open(it->second);
  auto w = storage_.begin_snapshot(meta);
  for (uint64_t at = 0; at < in->size(); at += 1 << 20) w->write(in->read_at(at, 1 << 20));
  w->commit();
  in.reset();
  fs_.remove(it->second);
  staged_.erase(it);
  applying_snapshot_ = false;
  spdlog::info("etcdlab {}: installed snapshot {} from the leader", name_, meta.index);
}

void NodeDriver::write(const Ready& rd) {
  if (!rd.entries.empty()) storage_.append(rd.entries);
  if (rd.hard_state) storage_.set_hard_state(*rd.hard_state);
}

void NodeDriver::start_sync(Ready rd, bool leader) {
  auto job = std::make_shared<Ready>(std::move(rd));
  sync_started_ = Clock::now();
  asio::post(disk_, [this, job, leader] {
    std::string error;
    try {
      storage_.sync();
    } catch (const std::exception& e) {
      error = e.what();
    }
    asio::post(io_, [this, job, leader, error] {
      if (!error.empty()) fatal("storage failure: " + error);
      metrics_.fsync_seconds->observe(seconds_since(sync_started_));
      try {
        loop_->synced(*job, leader);
      } catch (const StorageError& e) {
        fatal(std::string("storage failure: ") + e.what());
      }
      pump();
    });
  });
}

void NodeDriver::persisted(const Ready&) {
  apply_started_ = Clock::now();
}

void NodeDriver::applied(const Ready& rd) {
  if (rd.committed_entries.empty()) return;
  // Applied on this member, as etcd counts them (every member counts every put).
  const auto& sm = node_->state_machine();
  metrics_.puts->inc(sm.puts_applied() - puts_counted_);
  metrics_.deletes->inc(sm.deletes_applied() - deletes_counted_);
  puts_counted_ = sm.puts_applied();
  deletes_counted_ = sm.deletes_applied();
  double took = seconds_since(apply_started_);
  metrics_.commit_seconds->observe(took);
  if (took > 0.1) metrics_.slow_applies->inc();  // etcd's warnApplyDuration
}

void NodeDriver::advanced(const Ready&) {
  settle();
}

void NodeDriver::settle() {
  deliver_completions();
  send_node_messages();
  drop_stale_staged();
  if (node_->take_membership_changed() && outputs_.membership_changed) {
    outputs_.membership_changed();
  }
  maybe_snapshot();
}

}  // namespace etcdlab::runtime
