#pragma once
// The reference Raft's state and the functions that change it. The code is split by role:
//   raft.cc           construction, the public inputs, ready() and advance(), status()
//   raft_step.cc      step(): terms, votes, and dispatch to the role's handler
//   raft_election.cc  ticks, campaigns, becoming follower / candidate / leader
//   raft_leader.cc    what a leader does: replication, commit, heartbeats, reads, transfer
//   raft_follower.cc  what followers and candidates do with appends, heartbeats, snapshots
//   raft_conf.cc      membership changes

#include <fmt/format.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "etcdlab/broken.h"
#include "etcdlab/raft/raft.h"
#include "etcdlab/random.h"
#include "progress.h"
#include "raft_log.h"
#include "read_only.h"

namespace etcdlab {

// The configuration after one change (raft_conf.cc).
ConfState conf_after(ConfState conf, const ConfChange& change);

struct Raft::Impl {
  explicit Impl(const RaftConfig& config);

  // ---- configuration
  RaftConfig config;
  NodeId id;
  Rng rng;

  // ---- persistent state (HardState) and the log
  uint64_t term = 0;
  NodeId vote = kNoNode;
  raft::RaftLog log;

  // ---- volatile state
  // invariant: role == kLeader implies lead == id
  Role role = Role::kFollower;
  NodeId lead = kNoNode;
  raft::Tracker tracker;
  int election_elapsed = 0;   // ticks since the last election timeout reset (leader: since
                              // the last quorum check)
  int heartbeat_elapsed = 0;  // leader: ticks since the last heartbeat
  int randomized_election_timeout = 0;
  NodeId lead_transferee = kNoNode;
  uint64_t pending_conf_index = 0;  // leader: index of the last conf change that may be unapplied
  raft::ReadOnly read_only;
  std::vector<raft::ReadOnly::Request> reads_waiting_for_commit;  // before a commit in this term

  // ---- output being gathered for the next Ready
  std::vector<Message> msgs;
  std::vector<ReadState> read_states;
  SoftState prev_soft;
  HardState prev_hard;
  size_t deferred_entries = 0;  // broken variant "ack-before-persist" only

  // raft.cc
  HardState hard_state() const { return {term, vote, log.committed()}; }
  SoftState soft_state() const { return {lead, role}; }
  void send(Message m);
  // One line for the driver's logger, formatted only if there is a logger.
  template <typename... Args>
  void note(fmt::format_string<Args...> format, Args&&... args) const {
    if (config.logger) config.logger(fmt::format(format, std::forward<Args>(args)...));
  }
  void log_state(const char* what) const;

  // raft_step.cc
  void step(const Message& m);
  void handle_vote_request(const Message& m);

  // raft_election.cc
  void tick();
  void tick_election();
  void tick_heartbeat();
  bool promotable() const {
    // The bug variant: a node removed from a configuration (not a new one) keeps campaigning.
    return tracker.is_voter(id) || (ETCDLAB_BROKEN("removed-node-campaigns") &&
                                    !tracker.contains(id) && !tracker.all().empty());
  }
  bool past_election_timeout() const { return election_elapsed >= randomized_election_timeout; }
  void reset_randomized_election_timeout();
  void reset(uint64_t new_term);
  void become_follower(uint64_t new_term, NodeId leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void hup(bool transfer);
  void campaign(bool pre_vote, bool transfer);
  void poll(NodeId from, bool granted, bool pre_vote);

  // raft_leader.cc
  void step_leader(const Message& m);
  void propose_entries(std::vector<Entry> entries, bool local);
  bool append_entries(std::vector<Entry> entries);
  bool maybe_send_append(NodeId to, bool send_if_empty);
  void send_append(NodeId to) { maybe_send_append(to, true); }
  void send_heartbeat(NodeId to, const std::string& context);
  void broadcast_append();
  void broadcast_heartbeat(const std::string& context);
  bool maybe_commit();
  void on_commit_advanced();
  void handle_append_response(const Message& m);
  void handle_heartbeat_response(const Message& m);
  void handle_read_index(const Message& m);
  void start_read_round();
  void answer_read(const raft::ReadOnly::Request& request);
  void handle_transfer_leader(NodeId to);
  void abort_leader_transfer() { lead_transferee = kNoNode; }
  void self_ack_persisted();

  // raft_follower.cc
  void step_follower(const Message& m);
  void step_candidate(const Message& m);
  void handle_append(const Message& m);
  void handle_heartbeat(const Message& m);
  void handle_snapshot(const Message& m);
  bool restore(const SnapshotMeta& snapshot);

  // raft_conf.cc
  bool has_unapplied_conf_change() const;
  ConfState apply_conf_change(const ConfChange& change);
  void switch_to_conf(const ConfState& conf);
};

}  // namespace etcdlab
