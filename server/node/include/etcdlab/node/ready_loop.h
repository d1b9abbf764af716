#pragma once
// The one driver step. Every driver of a node — the server runtime and the simulator — hands
// each Ready to this loop, which does ready.h's steps in ready.h's order and calls back into
// the driver only for I/O and for what the driver wants to observe:
//
//   rd = node.ready()
//   leader = io.taken(rd)              note role, leader, term (no I/O)
//   if leader: io.send(rd.messages)    a leader may send before its own write is durable
//   if rd.snapshot: io.install_snapshot(meta)   the staged payload into the Raft storage
//   io.write(rd)                       entries and hard state into the storage, unsynced
//   if rd.must_sync:
//     io.start_sync(rd, leader)        the driver syncs (a disk thread, a simulated delay)
//     ... and later calls synced(rd, leader)          (the loop is busy() meanwhile)
//   io.persisted(rd)
//   if !leader: io.send(rd.messages)   a follower's acks and votes only after the sync
//   node.apply(rd)                     committed entries, snapshot restore, read states
//   io.applied(rd)
//   node.advance(rd)
//   io.advanced(rd)                    completions, snapshots, checks
//
// While a Ready is being synced the node takes no Ready and (by ready.h's rule) no input:
// drivers queue inputs until busy() is false. The lab 2 tests keep a small teaching copy of
// this loop (labs/02-raft/tests/raft_script.h); nothing else may.

#include <vector>

#include "etcdlab/raft/ready.h"

namespace etcdlab {

// What a driver drives: the Raft core and whatever applies what it commits.
class DrivenNode {
 public:
  virtual ~DrivenNode() = default;
  virtual bool has_ready() const = 0;
  virtual Ready ready() = 0;
  // ready.h's steps 3 and 4: restore the state machine from rd.snapshot (already installed
  // in the Raft storage), apply rd.committed_entries, note rd.read_states.
  virtual void apply(const Ready& rd) = 0;
  virtual void advance(const Ready& rd) = 0;
};

// The driver's side: I/O, and hooks to observe the steps (checkers, metrics, completions).
class DriverIo {
 public:
  virtual ~DriverIo() = default;
  // The Ready was just taken. Returns whether this node is the leader now.
  virtual bool taken(const Ready& rd) = 0;
  virtual void send(std::vector<Message>& messages) = 0;  // sends and clears them
  virtual void install_snapshot(const SnapshotMeta& meta) = 0;
  virtual void write(const Ready& rd) = 0;  // rd.entries and rd.hard_state, not synced
  // Sync the storage, then call ReadyLoop::synced(rd, leader) — from this call or later.
  virtual void start_sync(Ready rd, bool leader) = 0;
  virtual void persisted(const Ready&) {}
  virtual void applied(const Ready&) {}
  virtual void advanced(const Ready&) {}
};

class ReadyLoop {
 public:
  ReadyLoop(DrivenNode& node, DriverIo& io) : node_(node), io_(io) {}

  // Handles one Ready if the node has one and none is being synced; returns whether it did.
  bool step();
  // Handles Readys until there are none or one waits for its sync.
  void run() {
    while (step()) {
    }
  }
  // The sync started for `rd` is done: finishes that Ready.
  void synced(Ready& rd, bool leader);
  bool busy() const { return syncing_; }

 private:
  void finish(Ready& rd, bool leader);

  DrivenNode& node_;
  DriverIo& io_;
  bool syncing_ = false;
};

}  // namespace etcdlab
