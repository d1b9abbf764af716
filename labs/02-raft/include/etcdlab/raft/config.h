#pragma once
// Lab 2: what a Raft node is configured with, and what it reports about itself.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "etcdlab/log/log_storage.h"
#include "etcdlab/types.h"

namespace etcdlab {

struct RaftConfig {
  NodeId id = kNoNode;  // this node; ids are positive
  // The configuration of a new cluster. Ignored when the storage holds a snapshot: its
  // ConfState wins (and configuration entries after it are re-applied by the driver).
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;

  int election_ticks = 10;   // a follower that hears nothing for a randomized timeout in
                             // [election_ticks, 2 * election_ticks) ticks campaigns
  int heartbeat_ticks = 1;   // a leader sends heartbeats every heartbeat_ticks ticks
  bool pre_vote = true;      // campaign in two phases so a partitioned node cannot raise terms
  bool check_quorum = true;  // a leader steps down when it has not heard from a quorum for an
                             // election timeout (and followers ignore votes while a leader is
                             // known to be alive)
  uint64_t max_append_bytes = 1 << 20;  // entry bytes per append message (at least one entry)
  size_t max_inflight_appends = 256;    // unacknowledged append messages per follower

  uint64_t applied = 0;  // restart: the last index the application has applied (0: from the
                         // snapshot's index)
  LogStorage* storage = nullptr;  // not owned; what this node persisted (or MemoryStorage)
  uint64_t seed = 0;              // election-timeout randomness: same seed, same run

  // Receives one line per state change ("node 3 became leader at term 7"); may be empty.
  std::function<void(const std::string&)> logger;
};

enum class Role { kFollower, kPreCandidate, kCandidate, kLeader };
std::string to_string(Role role);

// Volatile state the driver may want to know about (not persisted).
struct SoftState {
  NodeId leader = kNoNode;
  Role role = Role::kFollower;
  friend bool operator==(const SoftState&, const SoftState&) = default;
};

// How the leader sees one follower's log.
struct ProgressStatus {
  uint64_t match = 0;  // highest index known to be in the follower's log (durably)
  uint64_t next = 0;   // next index to send
  enum class State { kProbe, kReplicate, kSnapshot } state = State::kProbe;
  bool learner = false;
};

struct RaftStatus {
  NodeId id = kNoNode;
  HardState hard_state;
  SoftState soft_state;
  uint64_t applied = 0;
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  ConfState conf;
  NodeId lead_transferee = kNoNode;           // leader only: a transfer in progress
  std::map<NodeId, ProgressStatus> progress;  // leader only
};

}  // namespace etcdlab
