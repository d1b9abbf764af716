#pragma once
// What runs on a simulated node besides its disk: by default the Raft core with a SimApp
// (app.h; lab 2's plain log), or — through ClusterOptions::node_logic — a whole node such as
// the server's KvNode (server/node/kv_node.h), so the simulator runs exactly what the server
// runs. The simulator drives either through the one Ready loop (server/node/ready_loop.h).
//
// A node logic takes client operations the way the server's gateway hands them to its node,
// and reports back how each ended through its NodeHost. Operation ids are the simulator's;
// the logic keeps its own request ids and maps them.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "etcdlab/raft/config.h"
#include "etcdlab/raft/ready.h"
#include "etcdlab/sim/history.h"
#include "etcdlab/node/ready_loop.h"

namespace etcdlab::sim {

// What the simulator offers the logic running on one of its nodes.
class NodeHost {
 public:
  virtual ~NodeHost() = default;
  // A committed entry is being applied on this node (the invariant checker and the trace see
  // every one, in order).
  virtual void applying(const Entry& e) = 0;
  // A client operation ended here: its outcome and output (what the client was told).
  virtual void answer(uint64_t op, Outcome outcome, std::string output, uint64_t index) = 0;
  // The node cannot take a client operation now (no leader...): the client tries again
  // elsewhere a little later.
  virtual void refused(uint64_t op, const std::string& why) = 0;
  // A line for the trace.
  virtual void log(const std::string& line) = 0;
};

// A message between two nodes that is not Raft's (the server's node forwards lease
// keep-alives to the leader this way): the simulator carries it over its network like a Raft
// message (delayed, lost, cut by partitions).
struct PeerMessage {
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  std::string data;
};

// What a node logic starts from.
struct NodeSetup {
  int index = 0;         // the node's index (its Raft id is index + 1)
  int nodes = 0;         // the cluster's size
  uint64_t restarts = 0;  // how many times this node restarted before
  RaftConfig raft;       // raft.storage is the node's storage (already opened, maybe new)
  double tick_ms = 100;
  uint64_t snapshot_every = 0;  // a snapshot every N applied entries (0: never)
};

class NodeLogic : public DrivenNode {
 public:
  // ---- inputs
  virtual void tick() = 0;
  virtual void step(const Message& m) = 0;
  virtual void report_snapshot(NodeId to, bool ok) = 0;
  virtual RaftStatus status() const = 0;
  virtual ConfState conf() const = 0;  // the configuration it has applied

  // ---- client operations; each ends with NodeHost::answer (or refused) now or later
  virtual void propose(uint64_t op, const std::string& payload) = 0;
  virtual void read(uint64_t op, const std::string& query, bool linearizable) = 0;
  virtual void change_membership(uint64_t op, ConfChange::Type type, NodeId node) = 0;
  virtual void transfer_leader(uint64_t op, NodeId to) = 0;  // done when `to` leads

  // ---- snapshots: whether one is due (NodeSetup::snapshot_every), and its payload
  virtual bool wants_snapshot() const = 0;
  virtual SnapshotMeta snapshot_meta() const = 0;
  virtual void write_snapshot(SnapshotWriter& out) = 0;
  virtual void snapshot_done() = 0;

  // ---- observation
  virtual uint64_t applied_index() const = 0;
  virtual uint64_t commands_applied() const = 0;  // client commands applied
  virtual uint64_t state_hash() const = 0;        // equal on nodes in the same state
  // A read of the node's state (a serializable read): the query is the client's read input.
  virtual std::string read_local(const std::string& query) const = 0;

  // ---- messages that are not Raft's (none by default)
  virtual std::vector<PeerMessage> take_peer_messages() { return {}; }
  virtual void receive_peer_message(const PeerMessage& m) { (void)m; }
};

// Makes the logic of one node for one start (after a crash, a new one from the disk).
using NodeLogicFactory =
    std::function<std::unique_ptr<NodeLogic>(const NodeSetup& setup, NodeHost& host)>;

}  // namespace etcdlab::sim
