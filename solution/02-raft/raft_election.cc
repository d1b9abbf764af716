// Reference Raft: time, elections and role changes.
#include <fmt/format.h>

#include "etcdlab/broken.h"
#include "raft_impl.h"

namespace etcdlab {

void Raft::Impl::tick() {
  if (role == Role::kLeader) {
    tick_heartbeat();
  } else {
    tick_election();
  }
}

void Raft::Impl::tick_election() {
  election_elapsed++;
  if (promotable() && past_election_timeout()) {
    election_elapsed = 0;
    hup(false);
  }
}

void Raft::Impl::tick_heartbeat() {
  heartbeat_elapsed++;
  election_elapsed++;
  if (election_elapsed >= config.election_ticks) {
    election_elapsed = 0;
    if (config.check_quorum) {
      // CheckQuorum: a leader that has not heard from a quorum for an election timeout may be
      // cut off while the others elect a new leader; it steps down rather than linger.
      if (!tracker.quorum_active() && !ETCDLAB_BROKEN("leader-never-steps-down")) {
        note("node {} stepped down at term {}: no quorum heard from", id, term);
        become_follower(term, kNoNode);
        return;
      }
      tracker.reset_recent_active();
    }
    if (lead_transferee != kNoNode) {
      note("node {} aborted transfer to {}: it took an election timeout", id, lead_transferee);
      abort_leader_transfer();
    }
  }
  if (role != Role::kLeader) return;
  if (heartbeat_elapsed >= config.heartbeat_ticks) {
    heartbeat_elapsed = 0;
    // (The bug variant: periodic heartbeats without the round in flight.)
    broadcast_heartbeat(ETCDLAB_BROKEN("heartbeat-without-round") ? "" : read_only.round_context());
  }
}

void Raft::Impl::reset_randomized_election_timeout() {
  randomized_election_timeout =
      config.election_ticks + static_cast<int>(rng.uniform(0, config.election_ticks - 1));
}

void Raft::Impl::reset(uint64_t new_term) {
  if (term != new_term) {
    term = new_term;
    vote = kNoNode;
  }
  lead = kNoNode;
  election_elapsed = 0;
  heartbeat_elapsed = 0;
  reset_randomized_election_timeout();
  abort_leader_transfer();
  tracker.reset_votes();
  uint64_t last = log.last_index();
  for (auto& [peer, pr] : tracker.all()) {
    bool learner = pr.learner;
    pr = raft::Progress(config.max_inflight_appends);
    pr.learner = learner;
    pr.next = last + 1;
    if (peer == id) pr.match = log.persisted_index();
  }
  pending_conf_index = 0;
  read_only.reset();
  reads_waiting_for_commit.clear();
}

void Raft::Impl::become_follower(uint64_t new_term, NodeId leader) {
  bool changed = role != Role::kFollower || new_term != term;
  reset(new_term);
  lead = leader;
  role = Role::kFollower;
  if (changed) log_state("follower");
}

void Raft::Impl::become_pre_candidate() {
  // Pre-vote changes neither term nor vote: a node that cannot win does not disturb anyone.
  if (ETCDLAB_BROKEN("prevote-bumps-term")) reset(term + 1);  // the bug: a term per attempt
  tracker.reset_votes();
  lead = kNoNode;
  role = Role::kPreCandidate;
  log_state("pre-candidate");
}

void Raft::Impl::become_candidate() {
  reset(term + 1);
  vote = id;
  role = Role::kCandidate;
  log_state("candidate");
}

void Raft::Impl::become_leader() {
  reset(term);
  lead = id;
  role = Role::kLeader;
  tracker.at(id).become_replicate();
  tracker.at(id).match = log.persisted_index();
  tracker.at(id).recent_active = true;
  // No conf change may be proposed until everything up to here is applied, which includes
  // the empty entry below: a leader must commit an entry of its term before changing the
  // configuration (the single-server-change fix).
  pending_conf_index = log.last_index() + 1;
  if (ETCDLAB_BROKEN("new-leader-ignores-pending-conf")) pending_conf_index = 0;
  log_state("leader");
  // An empty entry of this term: once it commits, every earlier entry is committed too, and
  // reads can be served (§5.4.2, §8).
  append_entries({Entry{0, 0, EntryType::kNormal, ""}});
}

void Raft::Impl::hup(bool transfer) {
  if (role == Role::kLeader) return;
  if (!promotable()) {
    note("node {} cannot campaign: not a voter", id);
    return;
  }
  if (has_unapplied_conf_change() && !ETCDLAB_BROKEN("campaign-with-unapplied-conf")) {
    // Campaigning before applying a committed configuration change could use the wrong
    // configuration to count votes.
    note(
        "node {} cannot campaign at term {}: a configuration change is not "
        "applied yet",
        id, term);
    return;
  }
  campaign(config.pre_vote && !transfer, transfer);
}

void Raft::Impl::campaign(bool pre_vote, bool transfer) {
  uint64_t vote_term;
  if (pre_vote) {
    become_pre_candidate();
    vote_term = term + 1;  // the term we would campaign at; our own term does not move
  } else {
    become_candidate();
    vote_term = term;
  }
  poll(id, true, pre_vote);  // our own vote
  if (role == Role::kLeader || (pre_vote && role == Role::kCandidate)) return;
  for (const auto& [peer, pr] : tracker.all()) {
    if (peer == id || pr.learner) continue;
    Message m;
    m.type = pre_vote ? MessageType::kPreVote : MessageType::kVote;
    m.to = peer;
    m.term = vote_term;
    m.index = log.last_index();
    m.log_term = log.last_term();
    if (transfer) m.context = "transfer";
    note("node {} sent {} to {} at term {} (last {}/{})", id, to_string(m.type), peer, vote_term,
         m.index, m.log_term);
    send(std::move(m));
  }
}

void Raft::Impl::poll(NodeId from, bool granted, bool pre_vote) {
  tracker.record_vote(from, granted);
  switch (tracker.tally()) {
    case raft::Tracker::VoteResult::kWon:
      if (pre_vote) {
        campaign(false, false);
      } else {
        become_leader();
        broadcast_append();
      }
      break;
    case raft::Tracker::VoteResult::kLost:
      // Back to follower in the same term; a pre-candidate never changed its term.
      become_follower(term, kNoNode);
      break;
    case raft::Tracker::VoteResult::kPending:
      break;
  }
}

}  // namespace etcdlab
