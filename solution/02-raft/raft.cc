// Reference Raft: construction, the public inputs, ready()/advance() and status().
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "etcdlab/broken.h"
#include "etcdlab/codec.h"
#include "raft_impl.h"

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

namespace {

const RaftConfig& validated(const RaftConfig& c) {
  if (c.id == kNoNode) throw std::invalid_argument("RaftConfig: id must be positive");
  if (c.storage == nullptr) throw std::invalid_argument("RaftConfig: storage is required");
  if (c.heartbeat_ticks <= 0 || c.election_ticks <= c.heartbeat_ticks) {
    throw std::invalid_argument("RaftConfig: need 0 < heartbeat_ticks < election_ticks");
  }
  if (c.max_inflight_appends == 0) throw std::invalid_argument("RaftConfig: max_inflight_appends");
  return c;
}

ConfState sorted(ConfState c) {
  std::sort(c.voters.begin(), c.voters.end());
  std::sort(c.learners.begin(), c.learners.end());
  return c;
}

}  // namespace

Raft::Impl::Impl(const RaftConfig& c)
    : config(validated(c)),
      id(c.id),
      rng(c.seed * 0x9E3779B97F4A7C15ULL + (ETCDLAB_BROKEN("rng-seeded-without-id") ? 0 : c.id)),
      log(*c.storage),
      tracker(c.id, c.max_inflight_appends) {
  HardState hs = c.storage->hard_state();
  SnapshotMeta snap = c.storage->snapshot();
  ConfState conf = snap.empty() ? sorted(ConfState{c.voters, c.learners}) : snap.conf;
  log.commit_to(hs.commit);
  if (ETCDLAB_BROKEN("applied-starts-at-commit")) log.applied_to(log.committed());
  if (c.applied > log.applied()) {
    // The application already applied up to c.applied: those entries are not handed out
    // again, so the configuration changes among them are replayed here.
    uint64_t upto = std::min(c.applied, log.committed());
    for (const Entry& e : log.slice(log.applied() + 1, upto + 1, ~0ULL)) {
      if (e.type == EntryType::kConfChange) {
        conf = conf_after(conf, decode_value<ConfChange>(e.data, "conf change entry"));
      }
    }
    log.applied_to(upto);
  }
  term = hs.term;
  vote = hs.vote;
  tracker.set_conf(conf, log.last_index());
  become_follower(term, kNoNode);
  prev_hard = hard_state();
  prev_soft = soft_state();
  note("node {} started at term {} (commit {}, applied {}, last {}, {})", id, term, log.committed(),
       log.applied(), log.last_index(), to_string(conf));
}

void Raft::Impl::log_state(const char* what) const {
  note("node {} became {} at term {}", id, what, term);
}

void Raft::Impl::send(Message m) {
  m.from = id;
  // Proposals and forwarded requests carry no term; everything else carries ours (a vote
  // response or pre-vote carries the term it is about, set by the caller).
  if (m.term == 0 && m.type != MessageType::kPropose && m.type != MessageType::kReadIndex &&
      m.type != MessageType::kTransferLeader) {
    m.term = term;
  }
  msgs.push_back(std::move(m));
}

Raft::Raft(const RaftConfig& config) : impl_(std::make_unique<Impl>(config)) {}
Raft::~Raft() = default;

void Raft::tick() {
  impl_->tick();
}

void Raft::step(const Message& m) {
  if (m.to != impl_->id) {
    throw std::invalid_argument(
        fmt::format("message for node {} stepped into node {}: {}", m.to, impl_->id, to_string(m)));
  }
  impl_->step(m);
}

void Raft::campaign() {
  impl_->hup(false);
}

void Raft::propose(std::string data) {
  impl_->propose_entries({Entry{0, 0, EntryType::kNormal, std::move(data)}}, true);
}

void Raft::propose_conf_change(const ConfChange& change) {
  impl_->propose_entries({Entry{0, 0, EntryType::kConfChange, encode_value(change)}}, true);
}

void Raft::read_index(std::string context) {
  auto& r = *impl_;
  Message m;
  m.type = MessageType::kReadIndex;
  m.from = r.id;
  m.to = r.id;
  m.context = std::move(context);
  if (r.role == Role::kLeader) {
    r.handle_read_index(m);
  } else if (r.lead != kNoNode) {
    m.to = r.lead;
    r.send(std::move(m));
  } else {
    throw ProposalDropped("read index: no leader known");
  }
}

void Raft::transfer_leader(NodeId to) {
  auto& r = *impl_;
  if (r.role == Role::kLeader) {
    r.handle_transfer_leader(to);
  } else if (r.lead != kNoNode) {
    Message m;
    m.type = MessageType::kTransferLeader;
    m.to = r.lead;
    m.index = to;
    r.send(std::move(m));
  } else {
    throw ProposalDropped("transfer leader: no leader known");
  }
}

ConfState Raft::apply_conf_change(const ConfChange& change) {
  return impl_->apply_conf_change(change);
}

void Raft::report_snapshot(NodeId to, bool ok) {
  auto& r = *impl_;
  if (r.role != Role::kLeader || !r.tracker.contains(to)) return;
  auto& pr = r.tracker.at(to);
  if (pr.state != raft::Progress::State::kSnapshot) return;
  if (ETCDLAB_BROKEN("snapshot-failure-ignored") && !ok) return;  // the bug: stuck in kSnapshot
  if (!ok) pr.pending_snapshot = 0;
  // Either way, probe from after the snapshot (or from match): the follower's answer to the
  // snapshot (or to the next probe) tells where its log stands.
  pr.become_probe();
  pr.probe_sent = true;
}

void Raft::report_unreachable(NodeId to) {
  auto& r = *impl_;
  if (r.role != Role::kLeader || !r.tracker.contains(to)) return;
  auto& pr = r.tracker.at(to);
  if (pr.state == raft::Progress::State::kReplicate) pr.become_probe();
}

bool Raft::has_ready() const {
  const auto& r = *impl_;
  return r.soft_state() != r.prev_soft || r.hard_state() != r.prev_hard ||
         r.log.pending_snapshot() || !r.log.unstable_entries().empty() || !r.msgs.empty() ||
         r.log.has_next_committed() || !r.read_states.empty();
}

Ready Raft::ready() {
  auto& r = *impl_;
  Ready rd;
  SoftState ss = r.soft_state();
  if (ss != r.prev_soft) rd.soft_state = ss;
  HardState hs = r.hard_state();
  if (hs != r.prev_hard) {
    rd.hard_state = hs;
    if (ETCDLAB_BROKEN("forget-vote")) rd.hard_state->vote = kNoNode;
  }
  rd.snapshot = r.log.pending_snapshot();
  rd.entries = r.log.unstable_entries();
  if (ETCDLAB_BROKEN("ack-before-persist") && r.role != Role::kLeader) {
    // The bug: the acknowledgement below goes out before these entries are persisted.
    rd.entries.resize(rd.entries.size() - std::min(rd.entries.size(), r.deferred_entries));
  }
  rd.must_sync = !rd.entries.empty() || rd.snapshot.has_value() || hs.term != r.prev_hard.term ||
                 hs.vote != r.prev_hard.vote;
  if (ETCDLAB_BROKEN("must-sync-only-for-entries")) {
    rd.must_sync = !rd.entries.empty() || rd.snapshot.has_value();  // the bug: votes unsynced
  }
  rd.messages = std::move(r.msgs);
  r.msgs.clear();
  rd.committed_entries = r.log.next_committed(~0ULL);
  if (ETCDLAB_BROKEN("apply-covered-entries-again") && rd.snapshot &&
      r.config.storage->last_index() > r.log.applied()) {
    // The bug: the old log's committed entries, which the snapshot covers, are handed out too.
    uint64_t hi = std::min(rd.snapshot->index, r.config.storage->last_index());
    rd.committed_entries = r.config.storage->entries(
        std::max(r.log.applied() + 1, r.config.storage->first_index()), hi + 1, ~0ULL);
  }
  rd.read_states = std::move(r.read_states);
  r.read_states.clear();
  r.prev_soft = ss;
  r.prev_hard = hs;
  r.deferred_entries = 0;
  return rd;
}

void Raft::advance(const Ready& rd) {
  auto& r = *impl_;
  if (rd.snapshot) {
    r.log.stable_snapshot_to(rd.snapshot->index);
    r.log.applied_to(rd.snapshot->index);  // the driver restored the state machine from it
  }
  if (!rd.entries.empty()) r.log.stable_to(rd.entries.back().index, rd.entries.back().term);
  if (!rd.committed_entries.empty()) r.log.applied_to(rd.committed_entries.back().index);
  if (r.role == Role::kLeader) r.self_ack_persisted();
}

RaftStatus Raft::status() const {
  const auto& r = *impl_;
  RaftStatus s;
  s.id = r.id;
  s.hard_state = r.hard_state();
  s.soft_state = r.soft_state();
  s.applied = r.log.applied();
  s.first_index = r.log.first_index();
  s.last_index = r.log.last_index();
  s.conf = r.tracker.conf();
  s.lead_transferee = r.lead_transferee;
  if (r.role == Role::kLeader) {
    for (const auto& [id, p] : r.tracker.all()) {
      s.progress[id] = ProgressStatus{p.match, p.next, p.state, p.learner};
    }
  }
  return s;
}

}  // namespace etcdlab
