// Reference Raft: what a leader does -- replicate, commit, heartbeat, serve reads, transfer.
#include <fmt/format.h>

#include "etcdlab/broken.h"
#include "etcdlab/codec.h"
#include "raft_impl.h"

namespace etcdlab {

using raft::Progress;

void Raft::Impl::step_leader(const Message& m) {
  switch (m.type) {
    case MessageType::kPropose:
      propose_entries(m.entries, false);
      return;
    case MessageType::kReadIndex:
      handle_read_index(m);
      return;
    case MessageType::kTransferLeader:
      handle_transfer_leader(m.index);
      return;
    case MessageType::kAppendResponse:
      if (tracker.contains(m.from)) handle_append_response(m);
      return;
    case MessageType::kHeartbeatResponse:
      if (tracker.contains(m.from)) handle_heartbeat_response(m);
      return;
    default:
      return;  // votes and anything else are of no use to a leader in its own term
  }
}

void Raft::Impl::propose_entries(std::vector<Entry> entries, bool local) {
  auto drop = [&](const std::string& why) {
    if (local) throw ProposalDropped(fmt::format("node {}: {}", id, why));
    note("node {} dropped a forwarded proposal: {}", id, why);
  };
  if (role != Role::kLeader) {
    if (lead == kNoNode) return drop("no leader known");
    Message m;
    m.type = MessageType::kPropose;
    m.to = lead;
    m.entries = std::move(entries);
    send(std::move(m));
    return;
  }
  if (!tracker.contains(id)) return drop("this leader was removed from the cluster");
  if (lead_transferee != kNoNode) {
    return drop(fmt::format("leadership is being transferred to {}", lead_transferee));
  }
  for (const Entry& e : entries) {
    if (e.type != EntryType::kConfChange) continue;
    if (pending_conf_index > log.applied() && !ETCDLAB_BROKEN("second-conf-change")) {
      return drop(fmt::format("a configuration change is pending (index {}, applied {})",
                              pending_conf_index, log.applied()));
    }
  }
  if (append_entries(std::move(entries))) broadcast_append();
}

bool Raft::Impl::append_entries(std::vector<Entry> entries) {
  uint64_t index = log.last_index();
  for (Entry& e : entries) {
    e.term = term;
    e.index = ++index;
    if (e.type == EntryType::kConfChange) pending_conf_index = e.index;
  }
  log.append(entries);
#ifdef ETCDLAB_BROKEN_VARIANTS
  for (const Entry& e : entries) {
    if (ETCDLAB_BROKEN("conf-on-append") && e.type == EntryType::kConfChange) {
      // The bug: the configuration changes when the entry is appended, not applied.
      switch_to_conf(conf_after(tracker.conf(), decode_value<ConfChange>(e.data, "conf change")));
    }
  }
  if (ETCDLAB_BROKEN("leader-counts-unpersisted") && tracker.contains(id)) {
    // The bug: the leader counts itself at its appended index, before the entries are synced.
    if (tracker.at(id).maybe_update(log.last_index()) && maybe_commit()) on_commit_advanced();
  }
#endif
  // The leader's own entries count toward a commit only once persisted: self_ack_persisted()
  // runs from advance(). A single-node cluster commits there.
  return true;
}

void Raft::Impl::self_ack_persisted() {
  if (!tracker.contains(id)) return;
  if (tracker.at(id).maybe_update(log.persisted_index()) && maybe_commit()) on_commit_advanced();
}

bool Raft::Impl::maybe_send_append(NodeId to, bool send_if_empty) {
  Progress& pr = tracker.at(to);
  if (pr.paused()) return false;
  Message m;
  m.to = to;
  auto prev_term = log.term(pr.next - 1);
  auto entries = log.entries_from(pr.next, config.max_append_bytes);
  if (entries && entries->empty() && !send_if_empty) return false;
  if (!prev_term || !entries) {
    // What the follower needs was compacted away: send the snapshot instead.
    if (!pr.recent_active) return false;  // do not stream a snapshot to a node that is down
    SnapshotMeta snap = log.snapshot();
    if (snap.empty()) return false;
    m.type = MessageType::kSnapshot;
    m.snapshot = snap;
    pr.become_snapshot(snap.index);
    note("node {} sends snapshot {} to {} (its next was {})", id, snap.index, to, pr.next);
    send(std::move(m));
    return true;
  }
  m.type = MessageType::kAppend;
  m.index = pr.next - 1;
  m.log_term = *prev_term;
  m.entries = std::move(*entries);
  m.commit = log.committed();
  if (!m.entries.empty()) {
    uint64_t last = m.entries.back().index;
    switch (pr.state) {
      case Progress::State::kReplicate:
        pr.optimistic_update(last);
        pr.inflights.add(last);
        break;
      case Progress::State::kProbe:
        pr.probe_sent = true;
        break;
      case Progress::State::kSnapshot:
        break;
    }
  }
  send(std::move(m));
  return true;
}

void Raft::Impl::broadcast_append() {
  for (const auto& [peer, pr] : tracker.all()) {
    if (peer != id) send_append(peer);
  }
}

void Raft::Impl::send_heartbeat(NodeId to, const std::string& context) {
  Message m;
  m.type = MessageType::kHeartbeat;
  m.to = to;
  // Never tell a follower to commit past what it is known to hold.
  m.commit = std::min(tracker.at(to).match, log.committed());
  m.context = context;
  send(std::move(m));
}

void Raft::Impl::broadcast_heartbeat(const std::string& context) {
  for (const auto& [peer, pr] : tracker.all()) {
    if (peer != id) send_heartbeat(peer, context);
  }
}

bool Raft::Impl::maybe_commit() {
#ifdef ETCDLAB_BROKEN_VARIANTS
  if (ETCDLAB_BROKEN("conf-on-commit")) {
    uint64_t before = log.committed();
    if (!log.maybe_commit(tracker.committed_index(), term)) return false;
    for (const Entry& e : log.slice(before + 1, log.committed() + 1, ~0ULL)) {
      // The bug: the configuration changes when the entry commits, not when it is applied.
      if (e.type == EntryType::kConfChange) {
        switch_to_conf(conf_after(tracker.conf(), decode_value<ConfChange>(e.data, "conf change")));
      }
    }
    return true;
  }
#endif
  return log.maybe_commit(tracker.committed_index(), term);
}

void Raft::Impl::on_commit_advanced() {
  // Followers learn the new commit index with the next append.
  broadcast_append();
  // Reads that arrived before this leader had committed an entry of its term can go now.
  if (!reads_waiting_for_commit.empty() && log.term_or_zero(log.committed()) == term) {
    auto waiting = std::move(reads_waiting_for_commit);
    reads_waiting_for_commit.clear();
    for (auto& r : waiting) {
      r.index = log.committed();
      read_only.add(std::move(r));
    }
    if (!read_only.round_in_flight()) start_read_round();
  }
}

void Raft::Impl::handle_append_response(const Message& m) {
  Progress& pr = tracker.at(m.from);
  pr.recent_active = true;
  if (m.reject) {
    // Fast backtracking: the follower said where its log might match (reject_hint) and the
    // term there (log_term); skip back over every entry of ours with a larger term.
    uint64_t next_probe = m.reject_hint;
    if (m.log_term > 0) next_probe = log.find_conflict_by_term(m.reject_hint, m.log_term).first;
    if (pr.maybe_decrease_to(m.index, next_probe)) {
      note("node {} backs off {}: append at {} rejected, next {}", id, m.from, m.index, pr.next);
      if (pr.state == Progress::State::kReplicate) pr.become_probe();
      send_append(m.from);
    }
    return;
  }
  bool was_paused = pr.paused();
  if (!pr.maybe_update(m.index)) return;
  switch (pr.state) {
    case Progress::State::kProbe:
      pr.become_replicate();
      break;
    case Progress::State::kSnapshot:
      if (pr.match >= pr.pending_snapshot) {
        pr.become_probe();
        pr.become_replicate();
      }
      break;
    case Progress::State::kReplicate:
      pr.inflights.free_le(m.index);
      break;
  }
  if (maybe_commit()) {
    on_commit_advanced();
  } else if (was_paused) {
    send_append(m.from);
  }
  // Keep the pipeline full while there is more to send.
  while (maybe_send_append(m.from, false)) {
  }
  if (m.from == lead_transferee && pr.match == log.last_index()) {
    note("node {} sends TimeoutNow to {}: it is up to date", id, m.from);
    Message t;
    t.type = MessageType::kTimeoutNow;
    t.to = m.from;
    send(std::move(t));
  }
}

void Raft::Impl::handle_heartbeat_response(const Message& m) {
  Progress& pr = tracker.at(m.from);
  pr.recent_active = true;
  pr.probe_sent = false;
  if (pr.state == Progress::State::kReplicate && pr.inflights.full()) pr.inflights.free_first();
  if (pr.match < log.last_index()) send_append(m.from);
  if (m.context.empty()) return;
  auto done = read_only.ack(
      m.context, m.from, [&](const std::vector<NodeId>& acks) { return tracker.has_quorum(acks); });
  if (!done) return;
  for (const auto& request : *done) answer_read(request);
  if (read_only.has_queued()) start_read_round();
}

void Raft::Impl::handle_read_index(const Message& m) {
  raft::ReadOnly::Request request{m.from, m.context, log.committed()};
  if (tracker.voter_count() == 1 && tracker.is_voter(id)) {
    answer_read(request);  // a single voter is its own quorum
    return;
  }
  if (ETCDLAB_BROKEN("read-without-confirm")) {
    answer_read(request);  // the bug: a deposed leader that does not know it answers stale
    return;
  }
  if (log.term_or_zero(log.committed()) != term) {
    // Until an entry of its own term commits, a new leader does not know the true commit index
    // (§6.4 step 1). Hold the read until then.
    reads_waiting_for_commit.push_back(std::move(request));
    return;
  }
  read_only.add(std::move(request));
  if (!read_only.round_in_flight()) start_read_round();
}

void Raft::Impl::start_read_round() {
  std::string context = read_only.start_round(term);
  auto done = read_only.ack(
      context, id, [&](const std::vector<NodeId>& acks) { return tracker.has_quorum(acks); });
  if (done) {
    for (const auto& r : *done) answer_read(r);
    return;
  }
  broadcast_heartbeat(context);
}

void Raft::Impl::answer_read(const raft::ReadOnly::Request& request) {
  uint64_t index = request.index;
  if (request.from == id) {
    read_states.push_back({index, request.context});
    return;
  }
  Message m;
  m.type = MessageType::kReadIndexResponse;
  m.to = request.from;
  m.index = index;
  m.context = request.context;
  send(std::move(m));
}

void Raft::Impl::handle_transfer_leader(NodeId to) {
  if (!tracker.contains(to) || tracker.is_learner(to)) {
    note("node {} ignored a transfer to {}: not a voter", id, to);
    return;
  }
  if (to == id) return;
  if (lead_transferee == to) return;  // already under way
  lead_transferee = to;
  election_elapsed = 0;  // the transfer must finish within an election timeout
  note("node {} starts transferring leadership to {} at term {}", id, to, term);
  if (tracker.at(to).match == log.last_index()) {
    Message t;
    t.type = MessageType::kTimeoutNow;
    t.to = to;
    send(std::move(t));
  } else {
    send_append(to);
  }
}

}  // namespace etcdlab
