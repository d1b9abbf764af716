#pragma once
// Lab 2: the Raft core, a pure, deterministic state machine in the style of etcd's raft library.
//
// It has no threads, clocks, sockets, files or sleeps. Time passes when the driver calls
// tick(); messages arrive when it calls step(); everything Raft wants done comes back as a
// Ready (ready.h says in what order to do it). The same inputs in the same order always give
// the same outputs, which is what lets the simulator replay a failure from its seed.
//
// Thread-unsafe: one driver calls it from one thread.

#include <memory>
#include <stdexcept>
#include <string>

#include "etcdlab/raft/config.h"
#include "etcdlab/raft/ready.h"

namespace etcdlab {

// A proposal (or read, or transfer) this node cannot take now: no leader is known, a leader
// transfer is under way, or a membership change is already pending. The client should retry,
// possibly elsewhere.
class ProposalDropped : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Raft {
 public:
  // Starts (or restarts) the node from config.storage: its hard state, snapshot and log.
  // Throws std::invalid_argument for a config that cannot work: id 0, no storage,
  // heartbeat_ticks <= 0, election_ticks <= heartbeat_ticks, or max_inflight_appends == 0.
  // Throws (any exception) when the storage's hard state commits past its last index: an
  // earlier Ready persisted a commit beyond its log, or the log was lost.
  explicit Raft(const RaftConfig& config);
  ~Raft();
  Raft(const Raft&) = delete;
  Raft& operator=(const Raft&) = delete;

  // ---- inputs
  void tick();                     // one unit of logical time
  void step(const Message& m);     // a message from a peer (stale or unknown ones are ignored)
  void campaign();                 // start an election now, as a timeout would (pre-vote if on)
  void propose(std::string data);  // append a command; followers forward it to the leader
  void propose_conf_change(const ConfChange& change);  // one membership change at a time
  void read_index(std::string context);  // ask for a linearizable read point (a ReadState)
  void transfer_leader(NodeId to);       // leader: hand leadership to voter `to` (others are
                                         // ignored); followers forward it to the leader
  // The driver applied a kConfChange entry: make it the configuration. Returns the new one.
  ConfState apply_conf_change(const ConfChange& change);
  // The driver could (ok) or could not deliver a snapshot to `to`.
  void report_snapshot(NodeId to, bool ok);
  // The driver could not reach `to`: the leader stops pipelining to it and probes instead.
  void report_unreachable(NodeId to);

  // ---- outputs
  bool has_ready() const;
  Ready ready();                  // what to do now; see ready.h for the contract
  void advance(const Ready& rd);  // step 5: everything in `rd` has been done

  RaftStatus status() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdlab
