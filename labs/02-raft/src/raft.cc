// Lab 2: the Raft core. raft.h, ready.h and config.h are the specification; the handout
// (labs/02-raft/README.md) walks through each part. Split this file as it grows: anything
// matching src/*.cc is built (the reference uses one file per role).
#include "etcdlab/raft/raft.h"

#include "todo.h"

namespace etcdlab {

std::string to_string(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "?";
}

// Your state goes here. A hint, by part:
//   A  term, vote, role, leader, the voters, election_elapsed and a randomized timeout (an Rng
//      seeded from config.seed and the id), votes received, outgoing messages.
//   B  the log (what the storage holds plus an unstable tail not yet persisted), commit and
//      applied indexes, per-follower progress (match, next, probe/replicate, in-flight).
//   C  what the last Ready handed out (hard state, soft state), to know what changed.
//   D  a pending snapshot received from the leader.
//   E  queued linearizable reads and their heartbeat round; the leader-transfer target.
//   F  the index of the last configuration change that may be unapplied.
struct Raft::Impl {};

Raft::Raft(const RaftConfig& /*config*/) {
  todo('A', "Raft::Raft (start from the storage)");
}
Raft::~Raft() = default;

void Raft::tick() {
  todo('A', "Raft::tick");
}
void Raft::step(const Message& /*m*/) {
  todo('A', "Raft::step");
}
void Raft::campaign() {
  todo('A', "Raft::campaign");
}

void Raft::propose(std::string /*data*/) {
  todo('B', "Raft::propose");
}

void Raft::propose_conf_change(const ConfChange& /*change*/) {
  todo('F', "Raft::propose_conf_change");
}

void Raft::read_index(std::string /*context*/) {
  todo('E', "Raft::read_index");
}
void Raft::transfer_leader(NodeId /*to*/) {
  todo('E', "Raft::transfer_leader");
}

// Needed from part A on: the simulator writes a new cluster's members into its log as
// configuration entries (as etcd does), which every node applies.
ConfState Raft::apply_conf_change(const ConfChange& /*change*/) {
  todo('A', "Raft::apply_conf_change (adding voters is enough until part F)");
}

void Raft::report_snapshot(NodeId /*to*/, bool /*ok*/) {
  todo('D', "Raft::report_snapshot");
}
void Raft::report_unreachable(NodeId /*to*/) {
  todo('B', "Raft::report_unreachable");
}

bool Raft::has_ready() const {
  todo('A', "Raft::has_ready");
}
Ready Raft::ready() {
  todo('A', "Raft::ready");
}
void Raft::advance(const Ready& /*rd*/) {
  todo('A', "Raft::advance");
}

RaftStatus Raft::status() const {
  todo('A', "Raft::status");
}

}  // namespace etcdlab
