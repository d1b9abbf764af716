// KvNode: the cluster's administration requests (etcd's MemberAdd/Remove/Update/Promote, Alarm,
// MoveLeader) and what ends them: a configuration change applied, a leader moved, this member's
// removal confirmed by a peer.
#include <fmt/format.h>

#include <algorithm>

#include "kv_node.h"
#include "kv_node_impl.h"

namespace etcdlab::server {

using namespace rpctypes;  // etcd's error texts

uint64_t KvNode::change_member(const MemberChange& change) {
  auto& r = *impl_;
  uint64_t id = r.noted(r.new_id(), r.note_if_viewed([&] { return describe(change); }));
  if (r.role != Role::kLeader) {
    r.fail_now(id, ApiError(GrpcCode::kUnavailable, kNoLeader));
    return id;
  }
  AdmittedChange admitted;
  try {
    admitted = admit(change, r.options.raft.id, r.raft->status(), r.sm.members(),
                     r.options.cluster_token);
  } catch (const ApiError& e) {
    r.fail_now(id, e);
    return id;
  }
  PendingRequest p;
  p.what = PendingRequest::What::kMember;
  p.member = admitted.member;
  // A leader removing itself normally proposes, applies and answers the removal, then steps
  // down (lab 2's rule) and the voters left elect a leader. With two voters the one left
  // could not: it may not know the removal committed, and cannot win without the removed
  // vote. So then the leader hands its leadership over first and proposes its removal as a
  // follower; the new leader commits it alone. This member then never learns the commit (it
  // is no longer replicated to): its peers tell it it was removed (removed_by_peer), which
  // answers the request.
  bool self = admitted.type == ConfChange::Type::kRemoveNode &&
              admitted.member.id == r.options.raft.id;
  p.after_leadership = self && r.raft->status().conf.voters.size() == 2;
  // The change carries the request id, so the member that proposed it can answer it.
  p.conf_change = ConfChange{admitted.type, admitted.member.id,
                             encode_member_context(admitted.member, id)};
  return r.track(std::move(p), id);
}

uint64_t KvNode::change_alarm(bool activate, const Alarm& alarm) {
  auto& r = *impl_;
  auto raised = r.sm.alarms();
  bool is_raised = std::find(raised.begin(), raised.end(), alarm) != raised.end();
  if (alarm.type == AlarmType::kNone || (!activate && !is_raised)) {
    // Nothing to change: a NONE alarm lists them all; clearing one that is not raised clears
    // nothing (etcd answers with no alarm).
    uint64_t id =
        r.noted(r.new_id(), "alarm", alarm.type == AlarmType::kNone ? "alarm list" : "alarm clear");
    Result result;
    result.revision = r.sm.store().revision();
    result.value = AlarmResult{alarm.type == AlarmType::kNone ? raised : std::vector<Alarm>{}};
    Completion c;
    c.id = id;
    c.result = std::move(result);
    r.completions.push_back(std::move(c));
    return id;
  }
  return submit(AlarmRequest{activate, alarm.member, alarm.type});
}

uint64_t KvNode::move_leader(NodeId to) {
  auto& r = *impl_;
  uint64_t id = r.noted(r.new_id(), "move_leader", "move leader");
  if (r.role != Role::kLeader) {
    r.fail_now(id, ApiError(GrpcCode::kFailedPrecondition, rpctypes::kNotLeader));
    return id;
  }
  std::vector<Member> all = members();
  auto it = std::find_if(all.begin(), all.end(), [to](const Member& m) { return m.id == to; });
  if (it == all.end() || it->learner) {
    r.fail_now(id, ApiError(GrpcCode::kFailedPrecondition, rpctypes::kBadLeaderTransferee));
    return id;
  }
  PendingRequest p;
  p.what = PendingRequest::What::kMoveLeader;
  p.proposed = true;
  p.transferee = to;
  p.deadline = r.ticks + r.timeout_ticks;
  r.pending.emplace(id, std::move(p));
  if (to != r.options.raft.id) r.raft->transfer_leader(to);
  r.leader_moved();  // (a move to itself is done)
  return id;
}

void KvNode::Impl::leader_moved() {
  std::vector<uint64_t> done;
  for (const auto& [id, p] : pending) {
    if (p.what == PendingRequest::What::kMoveLeader && p.transferee == lead) done.push_back(id);
  }
  for (uint64_t id : done) {
    Result result;
    result.revision = sm.store().revision();
    complete(id, std::move(result));
  }
}

void KvNode::Impl::removal_confirmed() {
  // A peer refused this member as removed: its own removal, if it asked for it, is done.
  for (auto it = pending.begin(); it != pending.end();) {
    PendingRequest& p = it->second;
    if (p.what != PendingRequest::What::kMember || !p.after_leadership || !p.proposed) {
      ++it;
      continue;
    }
    uint64_t id = it->first;
    Result result;
    result.value = MembershipResult{p.member};
    result.revision = sm.store().revision();
    ++it;
    complete(id, std::move(result));
  }
}

}  // namespace etcdlab::server
