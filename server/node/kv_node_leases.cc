// KvNode: the leases' clock — promote and demote with the leadership, expiry proposals, and
// keep-alives and time-to-live questions answered by the leader (asked by the others).
#include <spdlog/spdlog.h>

#include "etcdlab/codec.h"
#include "kv_node.h"
#include "kv_node_impl.h"

namespace etcdlab::server {
namespace {

// The answer to a forwarded question (its ttl, keys... filled by the caller).
NodeMessage answer_message(bool keep_alive, NodeId from, NodeId to, uint64_t request,
                           int64_t lease) {
  NodeMessage m;
  m.kind = keep_alive ? NodeMessage::Kind::kKeepAliveAnswer : NodeMessage::Kind::kTimeToLiveAnswer;
  m.from = from;
  m.to = to;
  m.request = request;
  m.lease = lease;
  return m;
}

}  // namespace

NodeMessage KvNode::Impl::question_to_leader(uint64_t id, const PendingRequest& p) const {
  NodeMessage m;
  m.kind = p.what == PendingRequest::What::kKeepAlive ? NodeMessage::Kind::kKeepAlive
                                                       : NodeMessage::Kind::kTimeToLive;
  m.from = options.raft.id;
  m.to = lead;
  m.request = id;
  m.lease = p.lease;
  m.with_keys = p.with_keys;
  return m;
}

void KvNode::Impl::role_changed(Role before) {
  // Becoming the leader does not start the leases' clock: the entries of earlier terms may
  // still hold revokes the last leader proposed. It starts once this leader has applied its
  // own term's first entry (promote_if_caught_up), as etcd's does.
  if (before != Role::kLeader) return;
  sm.lessor().demote();
  std::vector<uint64_t> dropped;
  for (auto& [id, p] : pending) {
    if (p.origin == Origin::kLeaseExpiry && !p.proposed) {
      // Decided on the clock this member no longer keeps: the new leader decides.
      dropped.push_back(id);
    } else if (p.origin == Origin::kPeer) {
      // The asking member asks the new leader.
      NodeMessage answer = answer_message(p.what == PendingRequest::What::kKeepAlive,
                                          options.raft.id, p.reply_to, p.reply_request, p.lease);
      answer.not_leader = true;
      outbox.push_back(std::move(answer));
      dropped.push_back(id);
    } else if (p.what == PendingRequest::What::kKeepAlive && p.confirming_term != 0) {
      // Its leadership round will not confirm: it asks the new leader.
      p.confirming_term = 0;
      p.read_index.reset();
      p.proposed = false;
      waiting.push_back(id);
    }
  }
  for (uint64_t id : dropped) pending.erase(id);
}

void KvNode::Impl::promote_if_caught_up(const std::vector<Entry>& applied_entries) {
  if (role != Role::kLeader || sm.lessor().primary()) return;
  for (const Entry& e : applied_entries) {
    if (e.type == EntryType::kNormal && e.data.empty() && e.term == term) {
      // This leader's own first entry: everything earlier terms committed is applied. As
      // etcd's Promote: nobody knows how long each lease had left on the last leader, so each
      // gets its whole TTL again plus an election timeout.
      sm.lessor().promote(options.raft.election_ticks);
      return;
    }
  }
}

void KvNode::Impl::expire_leases() {
  if (role != Role::kLeader) return;
  for (lease::LeaseId id : sm.lessor().expired()) {
    spdlog::debug("node {:x}: lease {:x} expired: revoking it", options.raft.id, id);
    PendingRequest p;
    p.origin = Origin::kLeaseExpiry;
    p.request = LeaseRevokeRequest{id};
    // As etcd's (WithRoot): the node revokes as itself, whatever the lease's keys.
    if (sm.auth().enabled()) p.stamp = auth::node_stamp();
    track(std::move(p));
  }
}

Result KvNode::Impl::lease_answer(const PendingRequest& p) {
  Result result;
  result.revision = sm.store().revision();
  if (p.what == PendingRequest::What::kKeepAlive) {
    LeaseKeepAliveResult answer{p.lease, 0};
    try {
      answer.ttl = sm.lessor().renew(p.lease);
    } catch (const lease::LeaseError&) {  // unknown, or its time is up: TTL 0, as etcd
    }
    result.value = answer;
    return result;
  }
  LeaseTimeToLiveResult answer{p.lease, -1, 0, {}};
  if (auto info = sm.lessor().info(p.lease, p.with_keys)) {
    answer.ttl = info->remaining_ttl;
    answer.granted_ttl = info->granted_ttl;
    answer.keys = std::move(info->keys);
  }
  result.value = std::move(answer);
  return result;
}

bool KvNode::Impl::ask_leader(uint64_t id, PendingRequest& p) {
  if (role == Role::kLeader) {
    if (!sm.lessor().primary()) return false;  // its clock starts soon (promote_if_caught_up)
    if (p.what == PendingRequest::What::kKeepAlive) {
      // A leader that was deposed without knowing it must not renew: the new leader's clock
      // would not know, and would expire the lease before the TTL this answer promises (etcd
      // 3.5's ensureLeadership). A read round confirms that a quorum still follows it; the
      // renewal happens once it does (confirmed_keep_alives).
      join_read_round(id);
      p.confirming_term = term;
      p.proposed = true;
      return true;
    }
    p.proposed = true;
    answer_question(id);  // erases `p`
    return true;
  }
  if (p.origin == Origin::kPeer) return false;  // (dropped by role_changed)
  if (lead == kNoNode) return false;  // waits for a leader
  outbox.push_back(question_to_leader(id, p));
  p.asked = lead;
  p.proposed = true;
  return true;
}

void KvNode::Impl::answer_question(uint64_t id) {
  auto it = pending.find(id);
  if (it == pending.end()) return;
  Result result = lease_answer(it->second);
  if (it->second.origin != Origin::kPeer) {
    complete(id, std::move(result));
    return;
  }
  const PendingRequest& p = it->second;
  NodeMessage answer = answer_message(p.what == PendingRequest::What::kKeepAlive,
                                      options.raft.id, p.reply_to, p.reply_request, p.lease);
  if (const auto* k = std::get_if<LeaseKeepAliveResult>(&result.value)) {
    answer.ttl = k->ttl;
  } else if (auto* t = std::get_if<LeaseTimeToLiveResult>(&result.value)) {
    answer.ttl = t->ttl;
    answer.granted_ttl = t->granted_ttl;
    answer.keys = std::move(t->keys);
  }
  outbox.push_back(std::move(answer));
  pending.erase(it);
}

void KvNode::Impl::confirmed_keep_alives() {
  std::vector<uint64_t> ready;
  for (const auto& [id, p] : pending) {
    if (p.what == PendingRequest::What::kKeepAlive && p.confirming_term != 0 && p.read_index) {
      ready.push_back(id);
    }
  }
  for (uint64_t id : ready) {
    PendingRequest& p = pending.at(id);
    if (role == Role::kLeader && term == p.confirming_term && sm.lessor().primary()) {
      answer_question(id);
    } else {  // confirmed a leadership that is gone since: ask again
      p.confirming_term = 0;
      p.read_index.reset();
      p.proposed = false;
      waiting.push_back(id);
    }
  }
}

void KvNode::Impl::reask_leader() {
  // A question sent to a leader that is no longer the leader may never be answered.
  for (auto& [id, p] : pending) {
    bool question =
        p.what == PendingRequest::What::kKeepAlive || p.what == PendingRequest::What::kTimeToLive;
    if (question && p.proposed && p.asked != lead && lead != kNoNode && role != Role::kLeader) {
      outbox.push_back(question_to_leader(id, p));
      p.asked = lead;
    }
  }
}

// ---- the public side

uint64_t KvNode::keep_alive(int64_t lease) {
  PendingRequest p;
  p.what = PendingRequest::What::kKeepAlive;
  p.lease = lease;
  return impl_->noted(impl_->track(std::move(p)), "lease_keep_alive", "lease keep-alive");
}

uint64_t KvNode::time_to_live(int64_t lease, bool with_keys) {
  PendingRequest p;
  p.what = PendingRequest::What::kTimeToLive;
  p.lease = lease;
  p.with_keys = with_keys;
  return impl_->noted(impl_->track(std::move(p)), "lease_ttl", "lease time-to-live");
}

std::vector<int64_t> KvNode::leases() const { return impl_->sm.lessor().leases(); }

std::vector<NodeMessage> KvNode::take_messages() {
  std::vector<NodeMessage> out;
  out.swap(impl_->outbox);
  return out;
}

void KvNode::receive(const NodeMessage& m) {
  auto& r = *impl_;
  if (m.to != r.options.raft.id) return;
  switch (m.kind) {
    case NodeMessage::Kind::kKeepAlive:
    case NodeMessage::Kind::kTimeToLive: {
      if (r.role != Role::kLeader) {
        NodeMessage answer = answer_message(m.kind == NodeMessage::Kind::kKeepAlive,
                                            r.options.raft.id, m.from, m.request, m.lease);
        answer.not_leader = true;
        r.outbox.push_back(std::move(answer));
        break;
      }
      // Answered as this member's own clients are: once its clock runs, and a keep-alive
      // once its leadership is confirmed (ask_leader).
      PendingRequest p;
      p.what = m.kind == NodeMessage::Kind::kKeepAlive ? PendingRequest::What::kKeepAlive
                                                        : PendingRequest::What::kTimeToLive;
      p.origin = Origin::kPeer;
      p.lease = m.lease;
      p.with_keys = m.with_keys;
      p.reply_to = m.from;
      p.reply_request = m.request;
      r.track(std::move(p));
      break;
    }
    case NodeMessage::Kind::kKeepAliveAnswer:
    case NodeMessage::Kind::kTimeToLiveAnswer: {
      auto it = r.pending.find(m.request);
      if (it == r.pending.end() || it->second.asked != m.from) return;  // late, or stale
      if (m.not_leader) {
        // Asked the wrong member: ask again once a leader is known.
        it->second.proposed = false;
        it->second.asked = kNoNode;
        r.waiting.push_back(m.request);
        return;
      }
      Result result;
      result.revision = r.sm.store().revision();
      if (m.kind == NodeMessage::Kind::kKeepAliveAnswer) {
        result.value = LeaseKeepAliveResult{m.lease, m.ttl};
      } else {
        result.value = LeaseTimeToLiveResult{m.lease, m.ttl, m.granted_ttl, m.keys};
      }
      r.complete(m.request, std::move(result));
      break;
    }
  }
}

// ---- node messages on the wire (etcdlab/codec.h): u64 version (1), u64 kind, u64 from,
// u64 to, u64 request, u64 lease, bool with_keys, bool not_leader, u64 ttl, u64 granted ttl,
// u64 n + n x bytes key

std::string encode_node_message(const NodeMessage& m) {
  std::string out;
  Writer w(out);
  w.u64(1);
  w.u64(static_cast<uint64_t>(m.kind));
  w.u64(m.from);
  w.u64(m.to);
  w.u64(m.request);
  w.u64(static_cast<uint64_t>(m.lease));
  w.boolean(m.with_keys);
  w.boolean(m.not_leader);
  w.u64(static_cast<uint64_t>(m.ttl));
  w.u64(static_cast<uint64_t>(m.granted_ttl));
  w.u64(m.keys.size());
  for (const auto& k : m.keys) w.bytes(k);
  return out;
}

NodeMessage decode_node_message(std::string_view data) {
  Reader r(data);
  if (uint64_t v = r.u64("node message version"); v != 1) {
    throw DecodeError("unknown node message version " + std::to_string(v), 0);
  }
  NodeMessage m;
  uint64_t kind = r.u64("node message kind");
  if (kind < 1 || kind > 4) throw DecodeError("unknown node message kind", 0);
  m.kind = static_cast<NodeMessage::Kind>(kind);
  m.from = r.u64("node message from");
  m.to = r.u64("node message to");
  m.request = r.u64("node message request");
  m.lease = static_cast<int64_t>(r.u64("node message lease"));
  m.with_keys = r.boolean("node message with_keys");
  m.not_leader = r.boolean("node message not_leader");
  m.ttl = static_cast<int64_t>(r.u64("node message ttl"));
  m.granted_ttl = static_cast<int64_t>(r.u64("node message granted ttl"));
  uint64_t n = r.count("node message keys", 1);
  for (uint64_t i = 0; i < n; ++i) m.keys.push_back(r.bytes("node message key"));
  r.expect_done("node message");
  return m;
}

}  // namespace etcdlab::server
