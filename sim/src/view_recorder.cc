// The live view's recorder: the last N frames of a run, at little cost per event
// (view_recorder.h says how).
#include "view_recorder.h"

#include "cluster_impl.h"

namespace etcdlab::sim {

ViewRecorder::ViewRecorder(size_t cap, size_t nodes)
    : cap_(cap),
      n_(nodes),
      touches_(nodes, 0),
      log_changed_from_(nodes, 0),
      states_(nodes),
      confs_(nodes),
      logs_(nodes) {
  // Room for the ring at once (untouched memory costs nothing until used): growing it frame by
  // frame would move every head kept so far, again and again.
  heads_.reserve(std::min<size_t>(cap, 1 << 16));
}

void ViewRecorder::sent(const Event& e, uint64_t now) {
  flights_.push_back(Flight{view_message(e, now), recorded_, kNever});
  flights_changed_ = true;
}

void ViewRecorder::arrived(uint64_t event_seq) {
  // Flights are in id order (ids are event numbers, given in order): a binary search.
  auto it =
      std::lower_bound(flights_.begin() + static_cast<ptrdiff_t>(flights_from_), flights_.end(),
                       event_seq, [](const Flight& f, uint64_t id) { return f.message.id < id; });
  if (it == flights_.end() || it->message.id != event_seq) return;
  it->to_frame = recorded_;
  flights_changed_ = true;
}

void ViewRecorder::log_changed(int node, uint64_t from) {
  uint64_t& at = log_changed_from_[static_cast<size_t>(node)];
  at = std::min(at, from);
}

bool ViewRecorder::update(const Cluster::Impl& c) {
  bool changed = std::exchange(flights_changed_, false);
  bool first = recorded_ == 0 && heads_.empty();
  for (size_t i = 0; i < n_; ++i) {
    const SimNode& n = *c.nodes[i];
    // Only a node touched since the last look (most events drive one node), and only its
    // state unless its configuration or log changed: most often nothing is allocated.
    if (first || touches_[i] != n.touches) {
      touches_[i] = n.touches;
      ViewState state = view_state(n);
      if (first || !(state == *states_[i].latest())) {
        states_[i].set(recorded_, state);
        changed = true;
      }
      if (first || !(*confs_[i].latest() == n.conf)) {
        confs_[i].set(recorded_, n.conf);
        changed = true;
      }
    }
    uint64_t& log_from = log_changed_from_[i];
    if (first || log_from != kNever) {
      const ViewLog* before = first ? nullptr : logs_[i].latest();
      ViewLog log = view_log(n, before, log_from);
      log_from = kNever;
      if (!before || !(log == *before)) {  // a rewrite may leave the same log
        logs_[i].set(recorded_, std::move(log));
        changed = true;
      }
    }
  }
  if (blocked_changes_ != c.blocked_changes) {
    blocked_changes_ = c.blocked_changes;
    ViewLinks links = view_links(c);
    if (first || !(links == *blocked_.latest())) {
      blocked_.set(recorded_, std::move(links));
      changed = true;
    }
  }
  if (client_changes_ != c.client_changes) {
    client_changes_ = c.client_changes;
    size_t from = c.ops.size() > kViewClients ? c.ops.size() - kViewClients : 0;
    std::vector<ClientRow> clients;
    clients.reserve(c.ops.size() - from);
    for (size_t k = from; k < c.ops.size(); ++k) {
      while (client_info_.size() <= k) client_info_.push_back(view_client(c, client_info_.size()));
      clients.push_back(ClientRow{c.ops[k].id, c.ops[k].outcome, c.ops[k].return_us});
    }
    if (first || !(clients == *clients_.latest())) {
      clients_.set(recorded_, std::move(clients));
      changed = true;
    }
  }
  return changed || first;
}

void ViewRecorder::observe(const Cluster::Impl& c, std::optional<TraceEvent>& event, bool always) {
  if (!update(c) && !always) return;
  size_t slot = recorded_ % cap_;
  if (heads_.size() < cap_) heads_.emplace_back();
  heads_[slot] = Head{c.now, c.event_count, std::move(event)};
  recorded_++;
  if (heads_.size() < cap_) return;
  // The ring is full: what only frames older than the oldest kept showed goes. (A flight
  // still on the wire at the front holds those behind it: the log stays in id order.)
  uint64_t keep = oldest();
  for (size_t i = 0; i < n_; ++i) {
    states_[i].trim(keep);
    confs_[i].trim(keep);
    logs_[i].trim(keep);
  }
  blocked_.trim(keep);
  clients_.trim(keep);
  while (flights_from_ < flights_.size() && flights_[flights_from_].to_frame <= keep) {
    flights_from_++;
  }
  if (flights_from_ > 4096 && flights_from_ > flights_.size() / 2) {  // from time to time
    flights_.erase(flights_.begin(), flights_.begin() + static_cast<ptrdiff_t>(flights_from_));
    flights_from_ = 0;
  }
}

ViewFrame ViewRecorder::frame(uint64_t k) const {
  size_t slot = k % cap_;
  const Head& head = heads_[slot];
  ViewFrame f;
  f.time_us = head.time_us;
  f.seq = head.seq;
  if (head.event) f.event = head.event->to_string();
  for (size_t i = 0; i < n_; ++i) {
    f.nodes.push_back(view_node(states_[i].at(k), confs_[i].at(k), logs_[i].at(k)));
  }
  for (size_t j = flights_from_; j < flights_.size(); ++j) {
    const Flight& m = flights_[j];
    if (m.from_frame > k) break;  // in id order, so in from_frame order too
    if (k < m.to_frame) f.messages.push_back(m.message);
  }
  f.blocked = blocked_.at(k);
  for (const ClientRow& row : clients_.at(k)) {
    ViewClient& v = f.clients.emplace_back(client_info_[row.op - 1]);
    v.outcome = row.outcome;
    v.return_us = row.return_us;
  }
  return f;
}

std::vector<ViewFrame> ViewRecorder::frames(uint64_t since) const {
  std::vector<ViewFrame> out;
  for (uint64_t k = std::max(since, oldest()); k < recorded_; ++k) out.push_back(frame(k));
  return out;
}

}  // namespace etcdlab::sim
