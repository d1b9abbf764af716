// The node driver's work beside the node (node_driver.h): snapshots written on the snapshot
// thread while the node goes on (its own, and those a member that needs one is sent), and the
// staged snapshots Raft declined.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "node_driver.h"
#include "server_metrics.h"

namespace etcdlab::runtime {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

asio::awaitable<void> NodeDriver::beside(std::function<void()>&& work) {
  auto timer = std::make_shared<asio::steady_timer>(io_, asio::steady_timer::time_point::max());
  auto error = std::make_shared<std::exception_ptr>();
  auto finished = std::make_shared<bool>(false);
  {
    std::lock_guard lock(beside_mutex_);
    ++beside_running_;
  }
  asio::post(snapshots_, [this, work = std::move(work), timer, error, finished]() mutable {
    try {
      work();
    } catch (...) {
      *error = std::current_exception();
    }
    work = nullptr;  // what it holds (a copy's database connection) goes here, not later
    {
      std::lock_guard lock(beside_mutex_);
      --beside_running_;
    }
    beside_idle_.notify_all();
    asio::post(io_, [timer, finished] {
      *finished = true;
      timer->cancel();
    });
  });
  while (!*finished) co_await timer->async_wait(asio::as_tuple(asio::use_awaitable));
  if (*error) std::rethrow_exception(*error);
}

asio::awaitable<void> NodeDriver::wait_store_released() {
  // A copy pins a reader of the database. One pinned while a defragmentation runs would keep
  // its VACUUM from truncating the WAL afterwards (it would fail after the busy timeout,
  // though the database was rebuilt), so a copy waits for it: the snapshot thread runs one
  // job at a time, and a no-op queued now ends after the defragmentation.
  while (!stopping_ && node_->holding_writes()) {
    std::function<void()> nothing = [] {};
    co_await beside(std::move(nothing));
  }
}

asio::awaitable<void> NodeDriver::prepare_beside(std::shared_ptr<server::StateCopy> copy) {
  // (The copy's pin is released on the snapshot thread, where the database was read.)
  std::function<void()> work = [copy]() { copy->prepare(); };
  co_await beside(std::move(work));
}

void NodeDriver::drop_beside(std::shared_ptr<server::StateCopy> copy) {
  if (copy) asio::post(snapshots_, [copy = std::move(copy)]() mutable { copy.reset(); });
}

namespace {

// A snapshot for a member that needs one: a prepared copy (its temporary file goes with it,
// on the snapshot thread).
class OutgoingSnapshot final : public SnapshotReader {
 public:
  OutgoingSnapshot(NodeDriver& driver, std::shared_ptr<server::StateCopy> copy,
                   const SnapshotMeta& meta)
      : driver_(driver), copy_(std::move(copy)), meta_(meta) {}
  ~OutgoingSnapshot() override { driver_.drop_beside(std::move(copy_)); }
  const SnapshotMeta& meta() const override { return meta_; }
  uint64_t size() const override { return copy_->size(); }
  std::string read(uint64_t offset, uint64_t max_bytes) const override {
    return copy_->read(offset, max_bytes);
  }

 private:
  NodeDriver& driver_;
  std::shared_ptr<server::StateCopy> copy_;
  SnapshotMeta meta_;
};

}  // namespace

asio::awaitable<void> NodeDriver::send_snapshot_beside(Message m) {
  NodeId to = m.to;
  co_await wait_store_released();
  if (stopping_) co_return;
  std::shared_ptr<server::StateCopy> copy;
  std::string failed;
  try {
    copy = node_->snapshot_to_send(m.snapshot);
  } catch (const std::exception& e) {
    failed = e.what();
  }
  if (failed.empty()) {
    try {
      co_await prepare_beside(copy);
    } catch (const std::exception& e) {
      failed = e.what();
    }
  }
  if (stopping_) co_return;
  if (!failed.empty()) {
    spdlog::warn("etcdlab {}: no snapshot sent to {:x} now (Raft sends again): {}", name_, to,
                 failed);
    node_->report_snapshot(to, false);
    schedule_pump();
    co_return;
  }
  auto payload = std::make_shared<OutgoingSnapshot>(*this, std::move(copy), m.snapshot);
  spdlog::info("etcdlab {}: sending snapshot {} to {:x} ({} bytes, the store as it is now)",
               name_, m.snapshot.index, to, payload->size());
  if (outputs_.send_snapshot) {
    outputs_.send_snapshot(std::move(m), std::move(payload));
  } else {
    node_->report_snapshot(to, false);
  }
}

void NodeDriver::wait_beside() {
  std::unique_lock lock(beside_mutex_);
  if (beside_running_ > 0) {
    spdlog::info("etcdlab {}: waiting for a snapshot copy to finish", name_);
  }
  beside_idle_.wait(lock, [this] { return beside_running_ == 0; });
}

// A staged snapshot at or below what the node has applied can never be installed: Raft
// declined it (it came late, or a newer one won). Its file goes now, not at the next start.
void NodeDriver::drop_stale_staged() {
  uint64_t applied = node_->applied_index();
  for (auto it = staged_.begin(); it != staged_.end();) {
    if (it->first.second > applied) {
      ++it;
      continue;
    }
    if (fs_.exists(it->second)) fs_.remove(it->second);
    it = staged_.erase(it);
  }
}

void NodeDriver::maybe_snapshot() {
  if (stopping_ || !node_->wants_snapshot()) return;
  // Taken now, on the node thread (wants_snapshot() is false until it is done); written beside.
  snapshot_started_ = Clock::now();
  SnapshotMeta meta;
  std::shared_ptr<server::StateCopy> copy = node_->begin_snapshot(meta);
  snapshot_node_seconds_ = seconds_since(snapshot_started_);  // making the store durable
  std::shared_ptr<SnapshotWriter> writer = storage_.begin_snapshot(meta);
  asio::co_spawn(io_, write_snapshot_beside(std::move(copy), std::move(writer), meta),
                 asio::detached);
}

asio::awaitable<void> NodeDriver::write_snapshot_beside(std::shared_ptr<server::StateCopy> copy,
                                                        std::shared_ptr<SnapshotWriter> writer,
                                                        SnapshotMeta meta) {
  // (A named function, not a temporary in the co_await: g++ 12 destroys such temporaries
  // twice.)
  std::function<void()> work = [copy = std::move(copy), writer]() mutable {
    copy->write([&](std::string_view chunk) { writer->write(chunk); });
    copy.reset();  // closes its connection to the database here, not on the node thread
    writer->sync_payload();
  };
  try {
    co_await beside(std::move(work));
  } catch (const std::exception& e) {
    spdlog::error("etcdlab {}: snapshot at index {} failed (tried again later): {}", name_,
                  meta.index, e.what());
    node_->snapshot_abandoned();
    co_return;
  }
  if (stopping_) co_return;
  snapshot_meta_ = meta;
  snapshot_ready_ = std::move(writer);
  schedule_pump();  // committed by pump() between two syncs
}

void NodeDriver::commit_snapshot() {
  if (!snapshot_ready_) return;
  std::shared_ptr<SnapshotWriter> writer = std::move(snapshot_ready_);
  if (storage_.snapshot().index >= snapshot_meta_.index) {
    node_->snapshot_abandoned();  // a newer one (the leader's) came meanwhile
    return;
  }
  Clock::time_point committing = Clock::now();
  writer->commit();
  node_->snapshot_done(snapshot_meta_.index);
  metrics_.snapshot_save_seconds->observe(seconds_since(snapshot_started_));
  spdlog::info("etcdlab {}: snapshot at index {} ({:.3f} s; on the node thread {:.3f} s making "
               "the store durable, {:.3f} s committing it)",
               name_, snapshot_meta_.index, seconds_since(snapshot_started_),
               snapshot_node_seconds_, seconds_since(committing));
}

}  // namespace etcdlab::runtime
