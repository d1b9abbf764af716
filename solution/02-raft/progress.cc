#include "progress.h"

#include <algorithm>

#include "etcdlab/broken.h"

namespace etcdlab::raft {

void Progress::become_probe() {
  // After a snapshot, resume right after it (the follower has at least that much).
  if (state == State::kSnapshot) {
    uint64_t pending = pending_snapshot;
    state = State::kProbe;
    next = std::max(match + 1, pending + 1);
  } else {
    state = State::kProbe;
    next = match + 1;
  }
  pending_snapshot = 0;
  probe_sent = false;
  inflights.reset();
}

void Progress::become_replicate() {
  state = State::kReplicate;
  next = match + 1;
  probe_sent = false;
  pending_snapshot = 0;
  inflights.reset();
}

void Progress::become_snapshot(uint64_t index) {
  state = State::kSnapshot;
  pending_snapshot = index;
  probe_sent = false;
  inflights.reset();
}

bool Progress::maybe_update(uint64_t index) {
  bool updated = false;
  if (match < index) {
    match = index;
    updated = true;
    probe_sent = false;
  }
  next = std::max(next, index + 1);
  return updated;
}

bool Progress::maybe_decrease_to(uint64_t rejected, uint64_t hint) {
  if (ETCDLAB_BROKEN("accept-stale-rejection")) {  // the bug: every rejection is taken as current
    next = std::max<uint64_t>(std::min(rejected, hint + 1), 1);
    probe_sent = false;
    return true;
  }
  if (state == State::kReplicate) {
    // A rejection of something already matched is stale (reordered or duplicated).
    if (rejected <= match) return false;
    next = match + 1;
    return true;
  }
  // Probing: only the answer to the append we sent (at next - 1) counts. Back off to the hint,
  // but never below match + 1: what the follower acknowledged is durable on it.
  if (next == 0 || next - 1 != rejected) return false;
  next = std::max(std::min(rejected, hint + 1), match + 1);
  probe_sent = false;
  return true;
}

bool Progress::paused() const {
  switch (state) {
    case State::kProbe:
      return probe_sent;
    case State::kReplicate:
#ifdef ETCDLAB_BROKEN_VARIANTS
      if (ETCDLAB_BROKEN("no-inflight-bound")) return false;
      if (ETCDLAB_BROKEN("one-append-per-round-trip")) return inflights.any();
#endif
      return inflights.full();
    case State::kSnapshot:
      return true;
  }
  return true;
}

void Tracker::record_vote(NodeId id, bool granted) {
  bool first = votes_.emplace(id, granted).second;
  if (ETCDLAB_BROKEN("count-duplicate-vote") && !first && granted) duplicate_grants_++;
}

void Tracker::set_conf(const ConfState& conf, uint64_t last_index) {
  std::map<NodeId, Progress> next_progress;
  auto keep = [&](NodeId id, bool learner) {
    auto it = progress_.find(id);
    Progress p = it != progress_.end() ? it->second : Progress(max_inflight_);
    if (it == progress_.end()) {
      p.next = last_index + 1;
      p.recent_active = true;  // a new member gets a grace period before quorum checks
    }
    p.learner = learner;
    next_progress.emplace(id, std::move(p));
  };
  for (NodeId id : conf.voters) keep(id, false);
  for (NodeId id : conf.learners) keep(id, true);
  progress_ = std::move(next_progress);
}

ConfState Tracker::conf() const {
  ConfState c;
  for (const auto& [id, p] : progress_) (p.learner ? c.learners : c.voters).push_back(id);
  return c;
}

bool Tracker::is_voter(NodeId id) const {
  auto it = progress_.find(id);
  return it != progress_.end() && !it->second.learner;
}

bool Tracker::is_learner(NodeId id) const {
  auto it = progress_.find(id);
  return it != progress_.end() && it->second.learner;
}

size_t Tracker::voter_count() const {
  size_t n = 0;
  for (const auto& [id, p] : progress_) n += p.learner ? 0 : 1;
  return n;
}

uint64_t Tracker::committed_index() const {
  std::vector<uint64_t> matches;
  for (const auto& [id, p] : progress_) {
    if (!p.learner || ETCDLAB_BROKEN("learner-counts-toward-quorum")) matches.push_back(p.match);
  }
  if (matches.empty()) return 0;
  std::sort(matches.begin(), matches.end(), std::greater<>());
  // The largest index a majority of voters has reached: the (voters / 2 + 1)-th highest match.
  size_t k = voter_count() / 2;
  return k < matches.size() ? matches[k] : 0;
}

bool Tracker::quorum_active() const {
  std::vector<NodeId> active;
  for (const auto& [id, p] : progress_) {
    if (id == self_ || p.recent_active) active.push_back(id);
  }
  return has_quorum(active);
}

void Tracker::reset_recent_active() {
  for (auto& [id, p] : progress_) p.recent_active = id == self_;
}

bool Tracker::has_quorum(const std::vector<NodeId>& acks) const {
  size_t yes = 0;
  for (NodeId id : acks) {
    if (is_voter(id) || (ETCDLAB_BROKEN("learner-counts-toward-quorum") && is_learner(id))) yes++;
  }
  return yes > voter_count() / 2;
}

Tracker::VoteResult Tracker::tally() const {
  size_t granted = 0, rejected = 0;
  for (const auto& [id, p] : progress_) {
    if (p.learner) continue;
    auto v = votes_.find(id);
    if (v == votes_.end()) continue;
    (v->second ? granted : rejected)++;
  }
  if (ETCDLAB_BROKEN("count-duplicate-vote")) granted += duplicate_grants_;  // the bug
  size_t quorum = voter_count() / 2 + 1;
  if (granted >= quorum) return VoteResult::kWon;
  if (rejected >= voter_count() - quorum + 1) return VoteResult::kLost;
  return VoteResult::kPending;
}

}  // namespace etcdlab::raft
