#pragma once
// How a simulated cluster is set up: its size, Raft settings, the network, the disks.
// Times are virtual milliseconds in the API (microseconds inside).

#include <cstdint>
#include <functional>
#include <memory>

#include "etcdlab/log/wal.h"
#include "etcdlab/sim/node_logic.h"

namespace etcdlab::sim {

class SimApp;

struct NetworkOptions {
  double delay_min_ms = 1;  // every message takes a uniform delay in [min, max]
  double delay_max_ms = 5;
  double drop = 0;               // probability a message is lost
  double duplicate = 0;          // probability a message is delivered twice
  double reorder = 0;            // probability a message is held back a long while (labrpc-style)
  double reorder_max_ms = 2000;  // ... by up to this much more
};

struct ClusterOptions {
  int nodes = 5;            // nodes 0 .. nodes-1 (Raft ids 1 .. nodes)
  int initial_voters = -1;  // the first k nodes form the cluster; the rest join by membership
                            // change (-1: all of them)
  uint64_t seed = 1;        // every random choice in the run derives from it

  // Raft (see etcdlab/raft/config.h)
  bool pre_vote = true;
  bool check_quorum = true;
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  uint64_t max_append_bytes = 64 << 10;
  size_t max_inflight = 64;

  double tick_ms = 100;  // a tick every tick_ms, per node, at a per-node phase
  NetworkOptions network;
  double fsync_min_ms = 0.2;  // each persist that must sync takes this long
  double fsync_max_ms = 2;
  WalOptions wal{64 << 10, false};  // small segments, so rotation and release happen

  uint64_t snapshot_every = 0;        // a node snapshots every N applied entries (0: never)
  bool linearizable_reads = true;     // false: reads answer from local state at once (stale!)
  double client_retry_ms = 1000;      // a client re-sends an unanswered request this often
  double client_deadline_ms = 10000;  // and gives up (outcome unknown) after this long

  // The state machine each node applies to (a new one per node start); empty: LogApp.
  std::function<std::unique_ptr<SimApp>()> app;
  // Instead of the Raft core with `app`: a whole node per start (e.g. the server's KvNode,
  // sim/kv/kv_node_logic.h). It answers every client operation it takes (or its node
  // crashes), so clients never re-send one: they wait for the answer until their deadline,
  // and retry elsewhere only when the node refused the operation.
  NodeLogicFactory node_logic;

  bool check_invariants = true;  // check every invariant after every event
  bool record_trace = false;     // keep every event (for Python); the hash is always kept
  size_t view_frames = 0;        // keep the live view's last N frames (view.h; 0: none)
};

}  // namespace etcdlab::sim
