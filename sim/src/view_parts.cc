// The parts of a live-view frame, read from the simulator's state (view_recorder.h), and the
// frame of the cluster now (view.h's view_frame).
#include <fmt/format.h>

#include <algorithm>

#include "cluster_impl.h"
#include "view_recorder.h"

namespace etcdlab::sim {
namespace {

bool contains(const std::vector<NodeId>& ids, NodeId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// Printable ASCII only (frames are JSON and trace files are read as UTF-8), at most 24 bytes.
std::string short_text(const std::string& data) {
  std::string out = "\"";
  for (char ch : data.substr(0, 24)) out += ch >= 0x20 && ch < 0x7f && ch != '"' ? ch : '.';
  out += data.size() > 24 ? "...\"" : "\"";
  return out;
}

std::string client_text(const Operation& op, const ClientState& c) {
  switch (op.kind) {
    case Operation::Kind::kPropose:
      return "propose " + short_text(op.input);
    case Operation::Kind::kRead:
      return op.input.empty() ? "read" : "read " + short_text(op.input);
    case Operation::Kind::kConfChange:
      return fmt::format("{} n{}", to_string(c.change.type), c.change.node_id);
    case Operation::Kind::kTransfer:
      return fmt::format("transfer leadership to n{}", c.transfer_to + 1);
  }
  return "?";
}

}  // namespace

ViewState view_state(const SimNode& n) {
  ViewState v;
  v.id = n.id;
  v.up = n.up;
  v.member = contains(n.conf.voters, n.id) || contains(n.conf.learners, n.id);
  v.role = n.role;
  v.term = n.term;
  v.vote = n.vote;
  v.leader = n.lead;
  v.commit = n.commit;
  v.applied = n.applied;
  return v;
}

// A down node shows no log: its memory is gone; its disk is read again when it restarts.
ViewLog view_log(const SimNode& n, const ViewLog* before, uint64_t changed_from) {
  ViewLog v;
  if (!n.up) return v;
  v.first_index = n.storage->first_index();
  v.last_index = n.storage->last_index();
  v.snapshot_index = n.storage->snapshot().index;
  v.log_from =
      std::max(v.first_index,
               v.last_index + 1 > kViewLogTail ? v.last_index + 1 - kViewLogTail : uint64_t{0});
  v.terms.reserve(v.last_index + 1 - v.log_from);
  for (uint64_t i = v.log_from; i <= v.last_index; ++i) {
    // What did not change is copied: appends (most writes) read only the new entries' terms.
    bool unchanged = before && i < changed_from && i >= before->log_from && i <= before->last_index;
    v.terms.push_back(unchanged ? before->terms[i - before->log_from] : n.storage->term(i));
  }
  return v;
}

ViewLinks view_links(const Cluster::Impl& c) {
  ViewLinks links;
  for (size_t a = 0; a < c.blocked.size(); ++a) {
    for (size_t b = 0; b < c.blocked[a].size(); ++b) {
      if (c.blocked[a][b]) links.emplace_back(a + 1, b + 1);
    }
  }
  return links;
}

ViewMessage view_message(const Event& e, uint64_t sent_us) {
  const Message& m = *e.message;
  return ViewMessage{e.seq,    m.from,           m.to,     m.type,  m.term, m.index, m.log_term,
                     m.commit, m.entries.size(), m.reject, sent_us, e.time};
}

std::vector<ViewMessage> messages_in_flight(const Cluster::Impl& c) {
  std::vector<ViewMessage> out;
  for (const Event& e : c.queue) {
    if (e.kind == Event::Kind::kDeliver) out.push_back(view_message(e));
  }
  std::sort(out.begin(), out.end(),
            [](const ViewMessage& a, const ViewMessage& b) { return a.id < b.id; });
  return out;
}

ViewClient view_client(const Cluster::Impl& c, size_t k) {
  const Operation& op = c.ops[k];
  ViewClient v;
  v.op = op.id;
  v.kind = op.kind;
  if (op.via >= 0) v.via = static_cast<NodeId>(op.via + 1);
  v.outcome = op.outcome;
  v.call_us = op.call_us;
  v.return_us = op.return_us;
  v.text = client_text(op, c.clients[k]);
  return v;
}

ViewNode view_node(const ViewState& state, const ConfState& conf, const ViewLog& log) {
  ViewNode n;
  n.id = state.id;
  n.up = state.up;
  n.member = state.member;
  n.role = state.role;
  n.term = state.term;
  n.vote = state.vote;
  n.leader = state.leader;
  n.commit = state.commit;
  n.applied = state.applied;
  n.first_index = log.first_index;
  n.last_index = log.last_index;
  n.snapshot_index = log.snapshot_index;
  n.log_from = log.log_from;
  n.log_terms = log.terms;
  n.voters = conf.voters;
  n.learners = conf.learners;
  return n;
}

// ---- view.h

ViewFrame view_frame(const Cluster& c) {
  const Cluster::Impl& r = *c.impl_;
  ViewFrame f;
  f.time_us = r.now;
  f.seq = r.event_count;
  for (const auto& n : r.nodes) f.nodes.push_back(view_node(view_state(*n), n->conf, view_log(*n)));
  f.messages = messages_in_flight(r);
  f.blocked = view_links(r);
  for (size_t k = r.ops.size() > kViewClients ? r.ops.size() - kViewClients : 0; k < r.ops.size();
       ++k) {
    f.clients.push_back(view_client(r, k));
  }
  return f;
}

uint64_t view_frames_recorded(const Cluster& c) {
  return c.impl_->view ? c.impl_->view->recorded() : 0;
}

std::vector<ViewFrame> view_frames(const Cluster& c, uint64_t since) {
  return c.impl_->view ? c.impl_->view->frames(since) : std::vector<ViewFrame>{};
}

}  // namespace etcdlab::sim
