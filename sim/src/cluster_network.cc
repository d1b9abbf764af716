// The simulated network: how a message travels (delay, drop, duplicate, reorder, the cuts of
// partitions) and the faults a test puts on it.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <stdexcept>

#include "cluster_impl.h"

namespace etcdlab::sim {

void Cluster::Impl::deliver(Event& e) {
  SimNode& n = *nodes[e.node];
  TraceEvent t;
  t.seq = event_count;
  t.time_us = now;
  t.node = e.node;
  t.set_message(*e.message);
  bool is_snapshot = e.message->type == MessageType::kSnapshot;
  int from = static_cast<int>(e.message->from) - 1;
  if (!n.up) {
    t.kind = TraceEvent::Kind::kDrop;
    trace.add(std::move(t));
    if (is_snapshot) push_snapshot_status(from, n.id, false, now);
    return;
  }
  if (is_snapshot) {
    // The payload streams from the sender's snapshot file into a staging file on this node's
    // disk, chunk by chunk; the message is stepped once the whole payload is here.
    const SnapshotMeta& meta = e.message->snapshot;
    std::string dir = "incoming";
    std::string path = fmt::format("{}/{:016x}-{:016x}.snap", dir, meta.term, meta.index);
    bool ok = true;
    try {
      n.disk.create_dirs(dir);
      if (n.disk.exists(path)) n.disk.remove(path);
      auto f = n.disk.create(path);
      for (uint64_t at = 0; at < e.snapshot->size(); at += 64 << 10) {
        f->append(e.snapshot->read(at, 64 << 10));
      }
      n.incoming[{meta.term, meta.index}] = path;
    } catch (const IoError&) {
      ok = false;  // the sender crashed mid-transfer: its file handle died with it
    }
    push_snapshot_status(from, n.id, ok, now);
    if (!ok) {
      t.kind = TraceEvent::Kind::kDrop;
      trace.add(std::move(t));
      return;
    }
  }
  t.kind = TraceEvent::Kind::kDeliver;
  trace.add(std::move(t));
  submit(e.node, Input{Input::Kind::kMessage, e.message, 0, kNoNode, false, nullptr});
}

void Cluster::Impl::send(SimNode& from, Message m) {
  from.messages_sent++;
  uint64_t bytes = 32 + m.context.size();
  for (const auto& e : m.entries) bytes += e.data.size();
  from.bytes_sent += bytes;
  int to = static_cast<int>(m.to) - 1;
  if (to < 0 || to >= static_cast<int>(nodes.size())) return;  // not a node of this cluster
  std::shared_ptr<SnapshotReader> payload;
  if (m.type == MessageType::kSnapshot) {
    payload = from.storage->open_snapshot();
    if (payload) from.bytes_sent += payload->size();
  }
  auto msg = std::make_shared<const Message>(std::move(m));
  bool lost = blocked[from.index][to] || (network.drop > 0 && rng.chance(network.drop));
  int copies = lost ? 0 : (network.duplicate > 0 && rng.chance(network.duplicate) ? 2 : 1);
  if (copies == 0) {
    TraceEvent t;
    t.seq = event_count;
    t.time_us = now;
    t.kind = TraceEvent::Kind::kDrop;
    t.node = to;
    t.set_message(*msg);
    trace.add(std::move(t));
    if (msg->type == MessageType::kSnapshot) {  // the transport reports it after a while
      push_snapshot_status(from.index, msg->to, false,
                           now + random_delay(network.delay_min_ms, network.delay_max_ms));
    }
    return;
  }
  for (int c = 0; c < copies; ++c) {
    Event e;
    e.kind = Event::Kind::kDeliver;
    e.node = to;
    e.message = msg;
    e.snapshot = payload;
    e.time = now + random_delay(network.delay_min_ms, network.delay_max_ms);
    if (network.reorder > 0 && rng.chance(network.reorder)) {
      e.time += random_delay(0, network.reorder_max_ms);
    }
    push(std::move(e));
  }
}

void Cluster::Impl::push_snapshot_status(int sender, NodeId follower, bool ok,
                                         decltype(Event::time) at) {
  Event status;
  status.kind = Event::Kind::kSnapshotStatus;
  status.node = sender;
  status.incarnation = nodes[sender]->incarnation;
  status.peer = follower;
  status.ok = ok;
  status.time = at;
  push(std::move(status));
}

// ---- faults on the network

void Cluster::partition(const std::vector<std::vector<int>>& groups) {
  auto& r = *impl_;
  std::vector<int> group_of(r.nodes.size(), -1);
  for (size_t g = 0; g < groups.size(); ++g) {
    for (int n : groups[g]) {
      r.check_node(n);
      if (group_of[n] >= 0) {
        throw std::invalid_argument(fmt::format(
            "node {} is in two groups ({} and {}): partition groups must not overlap", n,
            group_of[n], g));
      }
      group_of[n] = static_cast<int>(g);
    }
  }
  for (size_t a = 0; a < r.nodes.size(); ++a) {
    for (size_t b = 0; b < r.nodes.size(); ++b) {
      r.blocked[a][b] = a != b && (group_of[a] != group_of[b] || group_of[a] < 0);
    }
  }
  std::string desc;
  for (const auto& g : groups) desc += fmt::format(" [{}]", fmt::join(g, " "));
  r.blocked_changes++;
  r.add_trace(TraceEvent::Kind::kFault, -1, "partition" + desc);
  r.observe_view();
}

void Cluster::isolate(int node) {
  auto& r = *impl_;
  r.check_node(node);
  for (size_t o = 0; o < r.nodes.size(); ++o) {
    if (static_cast<int>(o) == node) continue;
    r.blocked[node][o] = r.blocked[o][node] = true;
  }
  r.blocked_changes++;
  r.add_trace(TraceEvent::Kind::kFault, node, "isolated");
  r.observe_view();
}

void Cluster::cut(int a, int b, bool one_way) {
  auto& r = *impl_;
  r.check_node(a);
  r.check_node(b);
  if (a == b) throw std::invalid_argument(fmt::format("cut needs two nodes, not {} twice", a));
  r.blocked[a][b] = true;
  if (!one_way) r.blocked[b][a] = true;
  r.blocked_changes++;
  r.add_trace(TraceEvent::Kind::kFault, -1,
              fmt::format("cut {} {} {}", a, one_way ? "->" : "<->", b));
  r.observe_view();
}

void Cluster::heal() {
  auto& r = *impl_;
  for (auto& row : r.blocked) std::fill(row.begin(), row.end(), false);
  r.blocked_changes++;
  r.add_trace(TraceEvent::Kind::kFault, -1, "heal");
  r.observe_view();
}

void Cluster::set_network(const NetworkOptions& network) {
  check_network(network);
  impl_->network = network;
  impl_->add_trace(
      TraceEvent::Kind::kFault, -1,
      fmt::format("network delay {}-{} ms drop {} duplicate {} reorder {}", network.delay_min_ms,
                  network.delay_max_ms, network.drop, network.duplicate, network.reorder));
  impl_->observe_view();  // nothing a frame shows; takes the trace line, though
}

}  // namespace etcdlab::sim
