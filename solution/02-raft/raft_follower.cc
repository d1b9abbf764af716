// Reference Raft: followers and candidates -- appends, heartbeats and snapshots from a leader.
#include <fmt/format.h>

#include "etcdlab/broken.h"
#include "raft_impl.h"

namespace etcdlab {

void Raft::Impl::step_follower(const Message& m) {
  switch (m.type) {
    case MessageType::kPropose:
      propose_entries(m.entries, false);  // forwards to the leader, or drops
      return;
    case MessageType::kAppend:
      election_elapsed = 0;
      lead = m.from;
      handle_append(m);
      return;
    case MessageType::kHeartbeat:
      election_elapsed = 0;
      lead = m.from;
      handle_heartbeat(m);
      return;
    case MessageType::kSnapshot:
      election_elapsed = 0;
      lead = m.from;
      handle_snapshot(m);
      return;
    case MessageType::kTransferLeader:
    case MessageType::kReadIndex:
      if (lead == kNoNode) {
        note("node {} dropped a forwarded {}: no leader", id, to_string(m.type));
        return;
      }
      {
        Message fwd = m;
        fwd.to = lead;
        send(std::move(fwd));
      }
      return;
    case MessageType::kTimeoutNow:
      // Our leader asks us to take over: campaign at once, skipping pre-vote, and tell voters
      // to disregard their leader lease (context "transfer").
      note("node {} received TimeoutNow from {} at term {}", id, m.from, term);
      hup(true);
      return;
    case MessageType::kReadIndexResponse:
      // The bug variant serves the read at what this follower has applied, not at the
      // leader's commit index: a lagging follower answers stale.
      read_states.push_back(
          {ETCDLAB_BROKEN("read-before-applied") ? log.applied() : m.index, m.context});
      return;
    default:
      return;
  }
}

void Raft::Impl::step_candidate(const Message& m) {
  switch (m.type) {
    case MessageType::kPropose:
      // A forwarded proposal: a candidate knows no leader, so it drops it and the client
      // retries. (Its own proposals never come here: propose() refuses them first.)
      return;
    case MessageType::kAppend:
      become_follower(m.term, m.from);  // a leader of our term exists: we lost
      handle_append(m);
      return;
    case MessageType::kHeartbeat:
      become_follower(m.term, m.from);
      handle_heartbeat(m);
      return;
    case MessageType::kSnapshot:
      become_follower(m.term, m.from);
      handle_snapshot(m);
      return;
    case MessageType::kVoteResponse:
      if (role == Role::kCandidate) poll(m.from, !m.reject, false);
      return;
    case MessageType::kPreVoteResponse:
      if (role == Role::kPreCandidate) poll(m.from, !m.reject, true);
      return;
    default:
      return;
  }
}

void Raft::Impl::handle_append(const Message& m) {
  Message resp;
  resp.type = MessageType::kAppendResponse;
  resp.to = m.from;
  if (m.index < log.committed()) {
    // Everything up to our commit index already matches the leader's log.
    resp.index = log.committed();
    send(std::move(resp));
    return;
  }
  if (auto last_new = log.maybe_append(m.index, m.log_term, m.commit, m.entries)) {
    resp.index = *last_new;
    if (ETCDLAB_BROKEN("ack-before-persist")) deferred_entries = m.entries.size();
    send(std::move(resp));
    return;
  }
  // Our log does not hold (m.index, m.log_term). Hint where it might match: the last index
  // at or below m.index whose term is at most m.log_term, so the leader can skip a whole term
  // of conflicting entries per round trip instead of one entry.
  auto [hint_index, hint_term] =
      log.find_conflict_by_term(std::min(m.index, log.last_index()), m.log_term);
  note("node {} rejected append at {}/{} from {}: hint {}/{}", id, m.index, m.log_term, m.from,
       hint_index, hint_term);
  resp.index = m.index;
  resp.reject = true;
  resp.reject_hint = hint_index;
  resp.log_term = hint_term;
  send(std::move(resp));
}

void Raft::Impl::handle_heartbeat(const Message& m) {
  log.commit_to(std::min(m.commit, log.last_index()));
  Message resp;
  resp.type = MessageType::kHeartbeatResponse;
  resp.to = m.from;
  resp.context = m.context;
  send(std::move(resp));
}

void Raft::Impl::handle_snapshot(const Message& m) {
  Message resp;
  resp.type = MessageType::kAppendResponse;
  resp.to = m.from;
  if (restore(m.snapshot)) {
    note("node {} installs snapshot {}/{} from {}", id, m.snapshot.index, m.snapshot.term, m.from);
    resp.index = log.last_index();
  } else {
    resp.index = log.committed();
  }
  send(std::move(resp));
}

bool Raft::Impl::restore(const SnapshotMeta& s) {
  if (!ETCDLAB_BROKEN("install-older-snapshot")) {  // the bug: install whatever arrives
    if (s.index <= log.committed()) return false;   // we already have everything it holds
    if (log.match_term(s.index, s.term)) {
      // Our log already holds the snapshot's last entry: just commit up to it.
      log.commit_to(s.index);
      return false;
    }
  }
  log.restore(s);
  switch_to_conf(s.conf);
  return true;
}

}  // namespace etcdlab
