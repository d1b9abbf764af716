// The node driver's work beside the node (node_driver.h): snapshots written on the snapshot
// thread while the node goes on, and the staged snapshots Raft declined.
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
  writer->commit();
  node_->snapshot_done(snapshot_meta_.index);
  metrics_.snapshot_save_seconds->observe(seconds_since(snapshot_started_));
  spdlog::info("etcdlab {}: snapshot at index {} ({:.3f} s, written beside the node)", name_,
               snapshot_meta_.index, seconds_since(snapshot_started_));
}

}  // namespace etcdlab::runtime
