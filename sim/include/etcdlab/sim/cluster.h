#pragma once
// A deterministic simulated Raft cluster: N nodes, each the Raft core on the lab 1 storage
// (WalStorage on its own SimFileSystem), driven by one event loop in virtual time. The
// network delays, drops, duplicates and reorders messages and can be partitioned; nodes crash
// (losing memory and unsynced bytes) and restart from their disks; clients propose and read
// through any node; every invariant of invariants.h is checked after every event. One seed
// gives one run: the same events in the same order, the same trace hash.
//
// Each node is driven as ready.h prescribes: an input (tick, message, client request) goes in,
// the Ready comes out, the entries and hard state are written and synced (taking a simulated
// fsync time during which the node takes no input), messages go out (a leader's at once,
// before its own sync), committed entries are applied, and advance() is called.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "etcdlab/fs/sim_file_system.h"
#include "etcdlab/raft/config.h"
#include "etcdlab/sim/history.h"
#include "etcdlab/sim/options.h"
#include "etcdlab/sim/trace.h"

namespace etcdlab::sim {

struct ViewFrame;

// One node as an observer sees it.
struct NodeView {
  int index = 0;
  bool up = true;
  bool member = true;  // in its own configuration (false once removed, or before it joins)
  uint64_t term = 0;
  Role role = Role::kFollower;
  std::optional<int> vote;    // node index voted for in this term
  std::optional<int> leader;  // node index it believes is leader
  uint64_t commit = 0;
  uint64_t applied = 0;
  uint64_t first_index = 0;  // of the persisted log (after the snapshot)
  uint64_t last_index = 0;
  uint64_t snapshot_index = 0;
  uint64_t wal_bytes = 0;         // the size of its WAL segments on disk
  uint64_t commands_applied = 0;  // by the state machine
  uint64_t messages_sent = 0;
  uint64_t bytes_sent = 0;  // entry payload bytes plus a fixed 32 per message
  uint64_t restarts = 0;
  ConfState conf;
};

// A change of term, role or leader on one node, for plots of elections over time.
struct RoleChange {
  uint64_t time_us = 0;
  int node = 0;
  uint64_t term = 0;
  Role role = Role::kFollower;
  std::optional<int> leader;
};

// Arguments are checked before anything changes: a node index outside 0 .. size()-1 (or an
// operation id never returned) throws std::out_of_range; bad options, a negative duration, an
// unknown crash mode, overlapping partition groups throw std::invalid_argument.
class Cluster {
 public:
  explicit Cluster(const ClusterOptions& options);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  const ClusterOptions& options() const;
  int size() const;

  // ---- time (virtual milliseconds)
  double now_ms() const;
  uint64_t events() const;  // events processed so far
  void run_ms(double ms);   // process every event due in the next `ms`
  // Runs until `done()` holds (checked after every event) or `timeout_ms` pass; returns done().
  bool run_until(const std::function<bool()>& done, double timeout_ms);
  void step();  // process the next event (time jumps to it)

  // ---- faults
  void partition(const std::vector<std::vector<int>>& groups);  // nodes talk within a group only
  void isolate(int node);
  void cut(int a, int b, bool one_way = false);     // a -> b (and b -> a unless one_way)
  void heal();                                      // ends partitions, isolations and cuts
  void set_network(const NetworkOptions& network);  // stays until changed
  void crash(int node, CrashMode mode = CrashMode::kAny);
  void restart(int node);

  // ---- clients: each returns an operation id at once; the operation completes as time runs
  uint64_t propose(std::string data, std::optional<int> via = std::nullopt);
  uint64_t read(std::optional<int> via = std::nullopt);
  uint64_t read(std::string query, std::optional<int> via = std::nullopt);  // SimApp::read
  // Membership changes and leader transfer go to the current leader (retried until one is
  // found or the deadline passes); they complete when the change is applied (transfer: when
  // `to` is leader).
  uint64_t add_voter(int node);
  uint64_t add_learner(int node);
  uint64_t remove_node(int node);
  uint64_t transfer_leader(int to);
  const Operation& op(uint64_t id) const;
  const std::vector<Operation>& history() const;

  // ---- observation
  std::optional<int> leader() const;  // the up leader with the highest term
  NodeView node(int index) const;
  std::vector<Entry> log(int index) const;  // the node's persisted log after its snapshot
  // What runs on node `index` now (nullptr while it is down): for tests that look inside a
  // node logic of their own (sim/kv/kv_node_logic.h's kv_node_of).
  const NodeLogic* logic(int index) const;
  // The same, to call: a client connected to this node (a watch stream) talks to its logic
  // directly, as a TCP client talks to its server; a crash ends what it held.
  NodeLogic* logic(int index);
  const std::vector<RoleChange>& role_changes() const;
  const Trace& trace() const;
  std::string trace_hash() const;

  // ---- checks
  // Runs the checks that are not incremental (log matching across every pair of logs, equal
  // applied state on caught-up nodes); throws InvariantViolation.
  void check_invariants() const;

  struct Impl;

 private:
  friend ViewFrame view_frame(const Cluster& c);                // view.h
  friend std::vector<ViewFrame> view_frames(const Cluster& c, uint64_t since);  // view.h
  friend uint64_t view_frames_recorded(const Cluster& c);                    // view.h
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdlab::sim
