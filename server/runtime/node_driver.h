#pragma once
// The node's driver in the server: the Asio side of the one Ready loop
// (server/node/include/etcdlab/node/ready_loop.h). It decides nothing — KvNode does — and
// only does the I/O the node asks for:
//
//   node thread   the io_context's thread: ticks (every --heartbeat-interval), peer messages,
//                 client calls, every KvNode call, the apply of committed entries
//   disk thread   the WAL's fdatasync, so the node thread keeps taking requests and messages
//                 meanwhile (they go into the next Ready: bigger batches, fewer fsyncs). One
//                 Ready is synced at a time.
//   snapshot thread  work whose cost grows with the database: copying the store for a
//                 member that needs a snapshot (KvNode::snapshot_to_send) and for etcd's
//                 maintenance snapshot, and writing the node's own snapshot
//                 (KvNode::begin_snapshot's StateCopy: a header alone over a durable file
//                 store) into the Raft storage's writer, synced. The node applies on
//                 meanwhile; a written snapshot is committed on the node thread between two
//                 syncs (a few small writes). Defragmenting (the node's StoreJob) runs here
//                 too: the node writes nothing meanwhile and applies its backlog after.
//                 (node_driver_beside.cc: the snapshot thread's side.)
//
// A client call (call()) hands a request to the node and waits, without blocking the thread,
// for the node's completion; the node always completes a request by its deadline, and the
// driver gives up a little later only if the node never does (a bug), as "request timed out".
//
// A failed fsync or a storage error is fatal: the process stops at once (nothing it did not
// persist was acknowledged) and recovers from its log when restarted.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "../node/kv_node.h"
#include "etcdlab/fs/file_system.h"
#include "etcdlab/log/wal_storage.h"
#include "etcdlab/node/ready_loop.h"

namespace etcdlab::runtime {

struct ServerMetrics;

// What the driver hands to the rest of the server.
struct DriverOutputs {
  std::function<void(Message m)> send;
  std::function<void(Message m, std::shared_ptr<SnapshotReader> payload)> send_snapshot;
  // A message to another member that is not Raft's (server::NodeMessage, encoded).
  std::function<void(NodeId to, std::string data)> send_node_message;
  std::function<void()> membership_changed;               // re-read the peers
  std::function<void(const std::string& why)> must_stop;  // the node says this member stops
};

class NodeDriver final : public DriverIo {
 public:
  NodeDriver(boost::asio::io_context& io, FileSystem& fs, WalStorage& storage,
             const server::NodeOptions& options, ServerMetrics& metrics, std::string name);
  ~NodeDriver() override;

  void set_outputs(DriverOutputs outputs);
  server::KvNode& node() { return *node_; }
  const server::KvNode& node() const { return *node_; }

  // Hands a request to the node with `submit` (a KvNode call returning the request's id) and
  // waits for its completion. Throws ApiError when the server is stopping.
  boost::asio::awaitable<server::Completion> call(
      const std::function<uint64_t(server::KvNode&)>& submit);

  // ---- inputs from the peer transport (on the node thread)
  void receive(Message m, const std::string& staged_payload);
  void unreachable(NodeId peer);
  void snapshot_sent(NodeId peer, bool ok);
  void removed_by(NodeId peer);
  void receive_node_message(NodeId from, std::string_view data);

  // Runs `work` on the snapshot thread (beside the node: big copies, never the node's state)
  // and resumes on the node thread once it is done, rethrowing what it threw.
  // `work` is moved away before the first suspension (a reference, not a value: g++ 12
  // mishandles temporaries in co_await expressions), and destroyed on the snapshot thread.
  boost::asio::awaitable<void> beside(std::function<void()>&& work);
  // Blocks the node thread until no work runs beside it: before the store is replaced (a
  // leader's snapshot) or defragmented, which a copy being read from it must not see.
  void wait_beside();
  // Returns once no defragmentation holds the store (a copy may pin a reader of it then).
  boost::asio::awaitable<void> wait_store_released();
  // Prepares `copy` beside the node (StateCopy::prepare: the database copied, its pin let
  // go); throws what that threw.
  boost::asio::awaitable<void> prepare_beside(std::shared_ptr<server::StateCopy> copy);
  // Lets `copy` go on the snapshot thread: its temporary file (as big as the database) is
  // unlinked there, not on the node thread (ext4 frees a file's blocks inside unlink).
  void drop_beside(std::shared_ptr<server::StateCopy> copy);
  // A defragmentation started with KvNode::begin_defragment() is over (or failed): the node
  // may write again and applies what waited, a bounded step at a time (pump()).
  void end_defragment();

  // Watch streams: `wake` runs whenever the node has responses for the stream (nullptr: none
  // any more). wake_watchers() wakes those that have some now.
  void set_watch_waker(uint64_t stream, std::function<void()> wake);
  void wake_watchers();

  void start();  // the tick loop
  void stop();   // no more ticks; every waiting call ends with "server stopped"
  size_t waiting_calls() const { return waiters_.size(); }
  size_t staged_snapshots() const { return staged_.size(); }
  bool applying_snapshot() const { return applying_snapshot_; }

  // DriverIo
  bool taken(const Ready& rd) override;
  void send(std::vector<Message>& messages) override;
  void install_snapshot(const SnapshotMeta& meta) override;
  void write(const Ready& rd) override;
  void start_sync(Ready rd, bool leader) override;
  void persisted(const Ready& rd) override;
  void applied(const Ready& rd) override;
  void advanced(const Ready& rd) override;

 private:
  static double seconds_since(std::chrono::steady_clock::time_point t);
  struct Waiter;
  void schedule_pump();
  void pump();
  void deliver_completions();
  void settle();  // after an apply: answers, messages, membership, snapshot
  void send_node_messages();
  void maybe_snapshot();
  void drop_stale_staged();
  boost::asio::awaitable<void> write_snapshot_beside(std::shared_ptr<server::StateCopy> copy,
                                                     std::shared_ptr<SnapshotWriter> writer,
                                                     SnapshotMeta meta);
  void commit_snapshot();
  // A member needs a snapshot (Raft's kSnapshot message m): the store copied now, sent.
  boost::asio::awaitable<void> send_snapshot_beside(Message m);
  void check_stop();
  boost::asio::awaitable<void> tick_loop();
  [[noreturn]] void fatal(const std::string& what) const;

  boost::asio::io_context& io_;
  FileSystem& fs_;
  WalStorage& storage_;
  ServerMetrics& metrics_;
  std::string name_;
  int tick_ms_;
  int request_timeout_ms_;
  std::unique_ptr<server::KvNode> node_;
  std::unique_ptr<ReadyLoop> loop_;
  DriverOutputs outputs_;
  std::map<uint64_t, std::shared_ptr<Waiter>> waiters_;
  std::map<uint64_t, std::function<void()>> watch_wakers_;
  std::map<std::pair<uint64_t, uint64_t>, std::string> staged_;  // snapshot (term, index) -> file
  std::unique_ptr<boost::asio::steady_timer> ticker_;
  std::chrono::steady_clock::time_point sync_started_;
  std::chrono::steady_clock::time_point apply_started_;
  NodeId lead_ = kNoNode;
  uint64_t puts_counted_ = 0;
  uint64_t deletes_counted_ = 0;
  bool pump_scheduled_ = false;
  bool stopping_ = false;
  bool stop_announced_ = false;
  bool applying_snapshot_ = false;
  // A snapshot written beside the node, waiting to be committed between two syncs.
  std::shared_ptr<SnapshotWriter> snapshot_ready_;
  SnapshotMeta snapshot_meta_;
  std::chrono::steady_clock::time_point snapshot_started_;
  double snapshot_node_seconds_ = 0;  // how long begin_snapshot() took (logged)
  // Work beside the node: how much runs now (wait_beside() waits for none).
  std::mutex beside_mutex_;
  std::condition_variable beside_idle_;
  int beside_running_ = 0;
  // Declared last: joined before the storage they use is destroyed.
  boost::asio::thread_pool disk_{1};
  boost::asio::thread_pool snapshots_{1};
};

}  // namespace etcdlab::runtime
