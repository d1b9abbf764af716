#pragma once
// The node: the Raft core plus the state machine (the MVCC store) it drives, with no I/O of its
// own. Both drivers run this same class: the server runtime (Asio, real disks and sockets) and
// the simulator (virtual time, simulated network, in-memory store). A driver does, per Ready:
//
//   rd = node.ready();
//   persist rd (the Raft storage: entries, hard state, a received snapshot; sync if must_sync)
//   send rd.messages              (a leader may send before persisting; see ready.h)
//   node.apply(rd);               // committed entries -> the store, in one batch
//   node.advance(rd);
//   for (c : node.take_completions()) answer the client waiting for c.id
//
// Requests: propose() puts a write in the log and returns its id; the member that proposed it
// completes it when it applies the entry. read_index() asks for a linearizable read point and
// completes once this member has applied up to it; the caller then reads its store.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "etcdlab/log/log_storage.h"
#include "etcdlab/mvcc/store.h"
#include "etcdlab/raft/raft.h"
#include "requests.h"
#include "state_machine.h"

namespace etcdlab::server {

struct NodeOptions {
  RaftConfig raft;                 // raft.storage is the node's Raft log storage
  uint64_t snapshot_count = 100000;  // entries applied between snapshots (0: never)
  uint64_t request_epoch = 0;      // makes request ids unique across restarts (a boot time)
  std::vector<Member> initial_members;
};

struct Completion {
  enum class Kind { kWrite, kReadReady };
  Kind kind = Kind::kWrite;
  uint64_t id = 0;
  Result result;  // kWrite
};

class KvNode {
 public:
  KvNode(const NodeOptions& options, std::unique_ptr<mvcc::KvStore> store);
  ~KvNode();

  NodeId id() const;
  // ---- inputs
  void tick();
  void step(const Message& m);
  uint64_t propose(const Request& request);  // throws ProposalDropped (no leader...)
  uint64_t read_index();                     // throws ProposalDropped
  // A membership change for `member` (its id; name and peer URLs go in the context), completed
  // like a write once applied here. Throws ProposalDropped.
  uint64_t propose_member_change(ConfChange::Type type, const Member& member);
  // The driver gave up on a request (timed out): its completion, if it ever comes, is dropped.
  void forget(uint64_t id);
  void transfer_leader(NodeId to);
  void report_unreachable(NodeId peer);
  void report_snapshot(NodeId peer, bool ok);

  // ---- the Ready cycle (see the top of this file)
  bool has_ready() const;
  Ready ready();
  void apply(const Ready& rd);
  void advance(const Ready& rd);
  std::vector<Completion> take_completions();

  // A compaction removes old revisions a bounded step at a time: apply() takes one step, and
  // while compaction_pending() the driver calls compaction_step() between other work (a
  // physical compaction is answered when the last step is done).
  bool compaction_pending() const;
  void compaction_step();

  // Whether enough entries were applied since the last snapshot; if so the driver calls
  // write_snapshot() into LogStorage::begin_snapshot(snapshot_meta()).
  bool wants_snapshot() const;
  SnapshotMeta snapshot_meta() const;
  void write_snapshot(SnapshotWriter& out);
  void snapshot_done();

  // ---- local state (serializable reads, status)
  const mvcc::KvStore& store() const;
  mvcc::KvStore& store();
  const KvStateMachine& state_machine() const;
  RaftStatus status() const;
  NodeId leader() const;
  uint64_t applied_index() const;
  std::vector<Member> members() const;
  std::vector<Alarm> alarms() const;
  std::set<NodeId> removed() const;  // members removed from the cluster

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdlab::server
