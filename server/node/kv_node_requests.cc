// KvNode: client requests, their deadlines, and the node's own requests (the administration
// requests are in kv_node_admin.cc).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "kv_node.h"
#include "kv_node_impl.h"
#include "txn_rules.h"

namespace etcdlab::server {
namespace {

using namespace rpctypes;  // etcd's error texts

constexpr std::string_view kReadPrefix = "read:";
constexpr size_t kMaxOpenRounds = 1024;  // rounds never answered (a lost leadership) are pruned

}  // namespace

uint64_t KvNode::Impl::track(PendingRequest p, uint64_t id) {
  if (id == 0) id = new_id();
  p.deadline = ticks + timeout_ticks;
  auto [it, inserted] = pending.emplace(id, std::move(p));
  (void)inserted;
  if (!try_propose(id, it->second)) waiting.push_back(id);
  return id;
}

bool KvNode::Impl::try_propose(uint64_t id, PendingRequest& p) {
  if (p.after_leadership) {
    if (role == Role::kLeader) {
      hand_over_leadership();  // (again, if the last transfer failed)
      return false;
    }
    // A new leader drops configuration changes until it has applied its first entry (the
    // one-change-at-a-time rule), silently for forwarded ones: wait until this member has
    // applied an entry of the new term (the leader applied it before telling anyone).
    if (applied_term < term) return false;
  }
  try {
    switch (p.what) {
      case PendingRequest::What::kWrite:
        raft->propose(encode_request(id, *p.request, p.stamp));
        p.request.reset();
        break;
      case PendingRequest::What::kMember:
        // Proposed by the leader that admitted it (or, for a leader's own removal, once it
        // handed over: above). Forwarded from a member that lost the leadership meanwhile, a
        // change could remove the member leading now: with two voters, the one left may never
        // learn that the removal committed, nor win an election without the removed member's
        // vote (sim-kv seed 5707 of 10,000). It waits for this member to lead again, or times
        // out.
        if (!p.after_leadership && role != Role::kLeader) return false;
        raft->propose_conf_change(*p.conf_change);
        p.conf_change.reset();
        break;
      case PendingRequest::What::kKeepAlive:
      case PendingRequest::What::kTimeToLive:
        return ask_leader(id, p);
      case PendingRequest::What::kRead:
        join_read_round(id);
        break;
      case PendingRequest::What::kMoveLeader:
        break;  // (started by move_leader(): it waits for the leader to change)
    }
  } catch (const ProposalDropped& e) {
    // No leader after all, a leader transfer, or a membership change already pending: the
    // request waits and is tried again at the next tick, until its deadline.
    spdlog::debug("node {:x}: request {:x} not proposed yet: {}", options.raft.id, id, e.what());
    return false;
  }
  p.proposed = true;
  return true;
}

void KvNode::Impl::join_read_round(uint64_t id) {
  if (open_round == 0) {
    raft->read_index(fmt::format("{}{}", kReadPrefix, id));  // throws ProposalDropped
    open_round = id;
    if (rounds.size() > kMaxOpenRounds) {
      std::erase_if(rounds, [&](const auto& round) {
        return std::none_of(round.second.begin(), round.second.end(),
                            [&](uint64_t read) { return pending.count(read) > 0; });
      });
    }
  }
  rounds[open_round].push_back(id);
}

void KvNode::Impl::hand_over_leadership() {
  RaftStatus st = raft->status();
  if (st.lead_transferee != kNoNode) return;  // one is under way
  NodeId best = kNoNode;
  uint64_t best_match = 0;
  for (NodeId v : st.conf.voters) {
    auto it = st.progress.find(v);
    if (v == options.raft.id || it == st.progress.end()) continue;
    if (best == kNoNode || it->second.match > best_match) {
      best = v;
      best_match = it->second.match;
    }
  }
  if (best == kNoNode) return;
  spdlog::info("node {:x}: handing leadership to {:x} before removing itself", options.raft.id,
               best);
  try {
    raft->transfer_leader(best);
  } catch (const ProposalDropped&) {  // tried again at the next tick
  }
}

void KvNode::Impl::retry_waiting() {
  std::deque<uint64_t> still;
  while (!waiting.empty()) {
    uint64_t id = waiting.front();
    waiting.pop_front();
    auto it = pending.find(id);
    if (it == pending.end() || it->second.proposed) continue;  // forgotten, expired
    if (!try_propose(id, it->second)) still.push_back(id);
  }
  waiting = std::move(still);
}

void KvNode::Impl::expire() {
  for (auto it = pending.begin(); it != pending.end();) {
    PendingRequest& p = it->second;
    if (p.deadline > ticks || waits_for_purge(it->first)) {
      ++it;
      continue;
    }
    // As etcd: a request that never found a leader failed for want of one; any other that did
    // not apply in time timed out (and, once proposed, may still apply later).
    bool no_leader = !p.proposed && lead == kNoNode;
    // As etcd (parseProposeCtxErr): a request that started while the previous leader was
    // failing — within two election timeouts before the current leader was elected — timed
    // out "possibly due to previous leader failure"; clients log it and retry.
    int64_t started = p.deadline - timeout_ticks;
    bool proposal = p.what == PendingRequest::What::kWrite ||
                    p.what == PendingRequest::What::kMember;
    bool leader_failed = proposal && lead != kNoNode && started < lead_elected &&
                         started > lead_elected - 2 * options.raft.election_ticks;
    ApiError error(GrpcCode::kUnavailable, no_leader       ? kNoLeader
                                           : leader_failed ? kTimedOutLeaderFailed
                                                           : kRequestTimedOut);
    if (p.what == PendingRequest::What::kMoveLeader) {
      error = ApiError(GrpcCode::kDeadlineExceeded, rpctypes::kLeaderTransferTimedOut);
    }
    uint64_t id = it->first;
    Origin origin = p.origin;
    bool proposed = p.proposed;
    it = pending.erase(it);
    if (origin != Origin::kClient) {
      finished(id, origin, false);
      continue;
    }
    Completion c;
    c.id = id;
    c.error = error;
    c.proposed = proposed;
    completions.push_back(std::move(c));
  }
  std::erase_if(physical_waiting, [&](const auto& w) { return pending.count(w.first) == 0; });
}

void KvNode::Impl::complete(uint64_t id, Result result) {
  auto it = pending.find(id);
  if (it == pending.end()) return;
  Origin origin = it->second.origin;
  pending.erase(it);
  if (origin != Origin::kClient) {
    finished(id, origin, result.ok());
    return;
  }
  Completion c;
  c.id = id;
  c.result = std::move(result);
  c.proposed = true;
  completions.push_back(std::move(c));
}

void KvNode::Impl::fail_now(uint64_t id, const ApiError& error) {
  Completion c;
  c.id = id;
  c.error = error;
  completions.push_back(std::move(c));
}

void KvNode::Impl::finished(uint64_t id, Origin origin, bool ok) {
  switch (origin) {
    case Origin::kPublish:
      if (id == publishing) {
        publishing = 0;
        published = ok;
        if (ok) spdlog::info("node {:x}: published {} to the cluster", options.raft.id, options.name);
      }
      break;
    case Origin::kNoSpace:
      if (id == raising_nospace) raising_nospace = 0;
      break;
    case Origin::kAutoCompaction:
      if (id == compacting) {
        compacting = 0;
        compactor.done(ok, now_ms());
      }
      break;
    case Origin::kLeaseExpiry:
    case Origin::kPeer:  // the member that asked times out on its own
    case Origin::kClient:
      break;
  }
}

void KvNode::Impl::own_requests() {
  // etcd's publish: once a leader is known, tell the cluster how clients reach this member.
  if (!published && publishing == 0 && !options.name.empty() && lead != kNoNode) {
    PendingRequest p;
    p.origin = Origin::kPublish;
    p.request = AttributesRequest{options.raft.id, options.name, options.client_urls};
    publishing = track(std::move(p));
  }
  // Auto-compaction, on the leader.
  if (auto revision = compactor.tick(now_ms(), sm.store().revision(), role == Role::kLeader)) {
    if (compacting == 0) {
      spdlog::info("node {:x}: auto-compaction to revision {}", options.raft.id, *revision);
      PendingRequest p;
      p.origin = Origin::kAutoCompaction;
      p.request = CompactionRequest{*revision, false};
      compacting = track(std::move(p));
    }
  }
}

// ---- the public side

void KvNode::tick() {
  auto& r = *impl_;
  r.raft->tick();
  ++r.ticks;
  r.sm.lessor().tick();
  // As etcd's MoveLeader, which looks at the leader once per tick: a move completes at the
  // first tick after the target leads, by when the other members have heard from it too.
  r.leader_moved();
  r.expire();
  if (!r.waiting.empty()) r.retry_waiting();
  r.reask_leader();
  r.own_requests();
  r.expire_leases();
  r.sm.watches().sync(r.sm.store());  // watchers behind catch up, a batch per tick
  r.sm.watches().tick(r.sm.store());
  r.tokens.expire(r.ticks);
  if (!r.held_for_token.empty()) r.release_held();
}

uint64_t KvNode::submit(Request request) {
  auto note = impl_->note_if_viewed([&] { return describe(request); });
  return impl_->noted(impl_->submit_stamped(std::move(request), {}), std::move(note));
}

uint64_t KvNode::Impl::submit_stamped(Request request, std::optional<auth::AuthStamp> stamp,
                                      uint64_t given_id) {
  auto& r = *this;
  if (auto* grant = std::get_if<LeaseGrantRequest>(&request); grant && grant->id == 0) {
    // As etcd: the server picks a positive id from its request id generator.
    grant->id = static_cast<int64_t>(r.new_id() & 0x7FFFFFFFFFFFFFFFULL);
  }
  if (uint64_t cost = quota_cost(request); cost > 0 && r.options.quota_bytes > 0) {
    // As etcd's backend quota: a put (or a txn with puts) that would take the database past
    // the quota raises NOSPACE (through the log, so every member refuses puts) and is refused.
    if (r.db_bytes + cost > r.options.quota_bytes) {
      Alarm mine{r.options.raft.id, AlarmType::kNoSpace};
      auto alarms = r.sm.alarms();
      if (r.raising_nospace == 0 && std::find(alarms.begin(), alarms.end(), mine) == alarms.end()) {
        spdlog::warn("node {:x}: database size {} past the quota {}: raising NOSPACE",
                     r.options.raft.id, r.db_bytes, r.options.quota_bytes);
        PendingRequest p;
        p.origin = Origin::kNoSpace;
        p.request = AlarmRequest{true, r.options.raft.id, AlarmType::kNoSpace};
        r.raising_nospace = r.track(std::move(p));
      }
      uint64_t id = given_id != 0 ? given_id : r.new_id();
      r.fail_now(id, ApiError(GrpcCode::kResourceExhausted, kNoSpace));
      return id;
    }
  }
  PendingRequest p;
  p.request = std::move(request);
  p.stamp = std::move(stamp);
  return r.track(std::move(p), given_id);
}

uint64_t KvNode::read_index() {
  PendingRequest p;
  p.what = PendingRequest::What::kRead;
  return impl_->noted(impl_->track(std::move(p)), "read", "linearizable read");
}

void KvNode::forget(uint64_t id) {
  impl_->request_log.forgotten(id);
  impl_->pending.erase(id);
  impl_->held_for_token.erase(id);
}

size_t KvNode::pending_requests() const {
  size_t n = 0;
  for (const auto& [id, p] : impl_->pending) n += p.origin == Origin::kClient;
  return n + impl_->held_for_token.size();
}

}  // namespace etcdlab::server
