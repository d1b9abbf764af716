// The live view's frames: built from the simulator's state after every event, only the parts
// that changed (view_recorder.h says why), and kept in a ring of the last N.
#include <fmt/format.h>

#include <algorithm>

#include "cluster_impl.h"
#include "view_recorder.h"

namespace etcdlab::sim {
namespace {

bool contains(const std::vector<NodeId>& ids, NodeId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// Everything of a node but its log (which is rebuilt only when the log may have changed).
void fill_state(ViewNode& v, const SimNode& n) {
  v.id = n.id;
  v.up = n.up;
  v.member = contains(n.conf.voters, n.id) || contains(n.conf.learners, n.id);
  v.role = n.role;
  v.term = n.term;
  v.vote = n.vote;
  v.leader = n.lead;
  v.commit = n.commit;
  v.applied = n.applied;
  v.voters.assign(n.conf.voters.begin(), n.conf.voters.end());
  v.learners.assign(n.conf.learners.begin(), n.conf.learners.end());
}

bool same_state(const ViewNode& a, const ViewNode& b) {
  return a.id == b.id && a.up == b.up && a.member == b.member && a.role == b.role &&
         a.term == b.term && a.vote == b.vote && a.leader == b.leader && a.commit == b.commit &&
         a.applied == b.applied && a.voters == b.voters && a.learners == b.learners;
}

// The log part: indexes and the terms of the last kViewLogTail entries. A down node shows
// none (its memory is gone; its disk is read again when it restarts).
void fill_log(ViewNode& v, const SimNode& n) {
  v.log_terms.clear();
  v.first_index = v.last_index = v.snapshot_index = 0;
  v.log_from = 0;
  if (!n.up) return;
  v.first_index = n.storage->first_index();
  v.last_index = n.storage->last_index();
  v.snapshot_index = n.storage->snapshot().index;
  v.log_from =
      std::max(v.first_index,
               v.last_index + 1 > kViewLogTail ? v.last_index + 1 - kViewLogTail : uint64_t{0});
  for (uint64_t i = v.log_from; i <= v.last_index; ++i) v.log_terms.push_back(n.storage->term(i));
}

// Printable ASCII only (frames are JSON and trace files are read as UTF-8), at most 24 bytes.
std::string short_text(const std::string& data) {
  std::string out = "\"";
  for (char ch : data.substr(0, 24)) out += ch >= 0x20 && ch < 0x7f && ch != '"' ? ch : '.';
  out += data.size() > 24 ? "...\"" : "\"";
  return out;
}

ViewClient view_client(const Operation& op, const ClientState& c) {
  ViewClient v;
  v.op = op.id;
  v.kind = op.kind;
  if (op.via >= 0) v.via = static_cast<NodeId>(op.via + 1);
  v.outcome = op.outcome;
  v.call_us = op.call_us;
  v.return_us = op.return_us;
  switch (op.kind) {
    case Operation::Kind::kPropose:
      v.text = "propose " + short_text(op.input);
      break;
    case Operation::Kind::kRead:
      v.text = op.input.empty() ? "read" : "read " + short_text(op.input);
      break;
    case Operation::Kind::kConfChange:
      v.text = fmt::format("{} n{}", to_string(c.change.type), c.change.node_id);
      break;
    case Operation::Kind::kTransfer:
      v.text = fmt::format("transfer leadership to n{}", c.transfer_to + 1);
      break;
  }
  return v;
}

}  // namespace

bool ViewBuilder::update(const Cluster::Impl& c) {
  bool changed = nodes_.size() != c.nodes.size();
  nodes_.resize(c.nodes.size());
  log_writes_.resize(c.nodes.size());
  for (size_t i = 0; i < c.nodes.size(); ++i) changed |= update_node(*c.nodes[i], i);
  changed |= update_messages(c);
  changed |= update_blocked(c);
  changed |= update_clients(c);
  return changed;
}

bool ViewBuilder::update_node(const SimNode& n, size_t i) {
  fill_state(scratch_, n);
  const auto& old = nodes_[i];
  bool log_changed = !old || log_writes_[i] != n.log_writes;
  if (!log_changed && same_state(scratch_, *old)) return false;
  auto v = std::make_shared<ViewNode>(scratch_);
  if (log_changed) {
    fill_log(*v, n);
    log_writes_[i] = n.log_writes;
  } else {
    v->first_index = old->first_index;
    v->last_index = old->last_index;
    v->snapshot_index = old->snapshot_index;
    v->log_from = old->log_from;
    v->log_terms = old->log_terms;
  }
  bool changed = !old || !(*v == *old);  // a rewrite may leave the same log
  nodes_[i] = std::move(v);
  return changed;
}

bool ViewBuilder::update_messages(const Cluster::Impl& c) {
  scratch_ids_.clear();
  for (const Event& e : c.queue) {
    if (e.kind == Event::Kind::kDeliver) scratch_ids_.push_back(e.seq);
  }
  std::sort(scratch_ids_.begin(), scratch_ids_.end());
  if (messages_ && scratch_ids_ == message_ids_) return false;  // a message never changes
  message_ids_ = scratch_ids_;
  auto out = std::make_shared<std::vector<ViewMessage>>();
  for (const Event& e : c.queue) {
    if (e.kind != Event::Kind::kDeliver) continue;
    const Message& m = *e.message;
    out->push_back(ViewMessage{e.seq, m.from, m.to, m.type, m.term, m.index, m.log_term, m.commit,
                               m.entries.size(), m.reject, e.sent, e.time});
  }
  std::sort(out->begin(), out->end(),
            [](const ViewMessage& a, const ViewMessage& b) { return a.id < b.id; });
  messages_ = std::move(out);
  return true;
}

bool ViewBuilder::update_blocked(const Cluster::Impl& c) {
  scratch_blocked_.clear();
  for (size_t a = 0; a < c.blocked.size(); ++a) {
    for (size_t b = 0; b < c.blocked[a].size(); ++b) {
      if (c.blocked[a][b]) scratch_blocked_.emplace_back(a + 1, b + 1);
    }
  }
  if (blocked_ && scratch_blocked_ == *blocked_) return false;
  blocked_ = std::make_shared<const std::vector<std::pair<NodeId, NodeId>>>(scratch_blocked_);
  return true;
}

bool ViewBuilder::update_clients(const Cluster::Impl& c) {
  if (client_changes_ == c.client_changes) return false;
  client_changes_ = c.client_changes;
  auto out = std::make_shared<std::vector<ViewClient>>();
  size_t from = c.ops.size() > kViewClients ? c.ops.size() - kViewClients : 0;
  for (size_t k = from; k < c.ops.size(); ++k) out->push_back(view_client(c.ops[k], c.clients[k]));
  bool changed = !clients_ || *out != *clients_;
  clients_ = std::move(out);
  return changed;
}

SharedFrame ViewBuilder::frame(const Cluster::Impl& c, std::optional<TraceEvent> event) const {
  return SharedFrame{c.now, c.event_count, std::move(event), nodes_, messages_, blocked_, clients_};
}

ViewFrame SharedFrame::expand() const {
  ViewFrame f;
  f.time_us = time_us;
  f.seq = seq;
  if (event) f.event = event->to_string();
  for (const auto& n : nodes) f.nodes.push_back(*n);
  f.messages = *messages;
  f.blocked = *blocked;
  f.clients = *clients;
  return f;
}

void ViewRecorder::observe(const Cluster::Impl& c, std::optional<TraceEvent> event) {
  if (!builder_.update(c)) return;
  SharedFrame f = builder_.frame(c, std::move(event));
  if (ring_.size() < cap_) {
    ring_.push_back(std::move(f));
  } else {
    ring_[next_] = std::move(f);
    next_ = (next_ + 1) % cap_;
  }
}

std::vector<ViewFrame> ViewRecorder::frames() const {
  std::vector<ViewFrame> out;
  out.reserve(ring_.size());
  for (size_t k = 0; k < ring_.size(); ++k)
    out.push_back(ring_[(next_ + k) % ring_.size()].expand());
  return out;
}

// ---- the public functions (view.h)

ViewFrame view_frame(const Cluster& c) {
  ViewBuilder builder;
  builder.update(*c.impl_);
  return builder.frame(*c.impl_, std::nullopt).expand();
}

std::vector<ViewFrame> view_frames(const Cluster& c) {
  return c.impl_->view ? c.impl_->view->frames() : std::vector<ViewFrame>{};
}

}  // namespace etcdlab::sim
