// The simulator's event loop, faults and observation.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include "cluster_impl.h"
#include "etcdlab/errors.h"

namespace etcdlab::sim {
namespace {

bool later(const Event& a, const Event& b) {
  return a.time != b.time ? a.time > b.time : a.seq > b.seq;
}

// ---- arguments from outside (tests, Python): checked before anything changes, so a bad one is
// an exception that names the valid range, never a wild index or an endless loop.

void check_ms(double ms, double min, const char* what) {
  if (!std::isfinite(ms) || ms < min) {
    throw std::invalid_argument(fmt::format("{} must be a finite number of ms >= {}, not {}",
                                            what, min, ms));
  }
}

void check_probability(double p, const char* what) {
  if (!(p >= 0 && p <= 1)) {
    throw std::invalid_argument(fmt::format("{} is a probability in [0, 1], not {}", what, p));
  }
}

void check_network(const NetworkOptions& n) {
  check_ms(n.delay_min_ms, 0, "delay_min_ms");
  check_ms(n.delay_max_ms, n.delay_min_ms, "delay_max_ms (at least delay_min_ms)");
  check_probability(n.drop, "drop");
  check_probability(n.duplicate, "duplicate");
  check_probability(n.reorder, "reorder");
  check_ms(n.reorder_max_ms, 0, "reorder_max_ms");
}

void check_options(const ClusterOptions& o) {
  if (o.nodes < 1 || o.nodes > 64) {
    throw std::invalid_argument(fmt::format("a cluster has 1 to 64 nodes, not {}", o.nodes));
  }
  if (o.initial_voters == 0 || o.initial_voters < -1 || o.initial_voters > o.nodes) {
    throw std::invalid_argument(fmt::format(
        "initial_voters must be in [1, nodes={}] (or -1 for all), not {}", o.nodes,
        o.initial_voters));
  }
  if (o.heartbeat_ticks < 1 || o.election_ticks <= o.heartbeat_ticks) {
    throw std::invalid_argument(
        fmt::format("need 1 <= heartbeat_ticks < election_ticks, not heartbeat_ticks={} and "
                    "election_ticks={}",
                    o.heartbeat_ticks, o.election_ticks));
  }
  if (o.max_inflight < 1) throw std::invalid_argument("max_inflight must be at least 1");
  check_ms(o.tick_ms, 0.001, "tick_ms");  // a tick every 0 us would never let time pass
  check_ms(o.fsync_min_ms, 0, "fsync_min_ms");
  check_ms(o.fsync_max_ms, o.fsync_min_ms, "fsync_max_ms (at least fsync_min_ms)");
  check_ms(o.client_retry_ms, 0.001, "client_retry_ms");
  check_ms(o.client_deadline_ms, 0, "client_deadline_ms");
  check_network(o.network);
}

void check_crash_mode(CrashMode mode) {
  switch (mode) {
    case CrashMode::kDropUnsynced:
    case CrashMode::kRandomPrefix:
    case CrashMode::kTornWrite:
    case CrashMode::kAny:
      return;
  }
  throw std::invalid_argument(
      fmt::format("crash mode {} is none of drop_unsynced, random_prefix, torn_write, any",
                  static_cast<int>(mode)));
}

}  // namespace

void Cluster::Impl::check_node(int node) const {
  if (node < 0 || node >= static_cast<int>(nodes.size())) {
    throw std::out_of_range(
        fmt::format("no node {}: nodes are 0 .. {}", node, static_cast<int>(nodes.size()) - 1));
  }
}

std::string to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPending:
      return "pending";
    case Outcome::kOk:
      return "ok";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kUnknown:
      return "unknown";
  }
  return "?";
}

Cluster::Impl::Impl(const ClusterOptions& o) : options(o), rng(o.seed), network(o.network) {
  check_options(o);
  trace.resize(o.nodes);
  trace.set_recording(o.record_trace);
  if (!o.node_logic) command_app = make_app();
  blocked.assign(o.nodes, std::vector<bool>(o.nodes, false));
  if (o.check_invariants) {
    checker.emplace(o.nodes, [this] { return std::make_pair(event_count, now); });
  }
  for (int i = 0; i < o.nodes; ++i) {
    auto n = std::make_unique<SimNode>();
    n->index = i;
    n->id = static_cast<NodeId>(i + 1);
    n->tick_phase = rng.uniform(0, us(o.tick_ms) - 1);
    nodes.push_back(std::move(n));
  }
  for (int i = 0; i < o.nodes; ++i) {
    start_node(i);
    Event tick;
    tick.kind = Event::Kind::kTick;
    tick.node = i;
    tick.time = nodes[i]->tick_phase;
    push(std::move(tick));
  }
  if (o.view_frames > 0) {
    view = std::make_unique<ViewRecorder>(o.view_frames, nodes.size());
    trace.keep_first(true);
    observe_view();  // frame 0: the cluster before anything happened
  }
}

void Cluster::Impl::push(Event e) {
  e.seq = ++seq;
  if (view && e.kind == Event::Kind::kDeliver) view->sent(e, now);
  queue.push_back(std::move(e));
  std::push_heap(queue.begin(), queue.end(), later);
}

void Cluster::Impl::add_trace(TraceEvent::Kind kind, int node, std::string text, uint64_t a,
                              uint64_t b) {
  TraceEvent t;
  t.seq = event_count;
  t.time_us = now;
  t.kind = kind;
  t.node = node;
  t.text = std::move(text);
  t.a = a;
  t.b = b;
  trace.add(std::move(t));
}

void Cluster::Impl::rethrow_with_context(const InvariantViolation& v) {
  throw InvariantViolation(v.invariant(), v.node(), v.event(), v.time_us(), v.detail(),
                           fmt::format("seed {}; last events:\n{}", options.seed, trace.recent()));
}

void Cluster::Impl::process_next() {
  if (queue.empty()) throw std::logic_error("simulator: no events left");
  std::pop_heap(queue.begin(), queue.end(), later);
  Event e = std::move(queue.back());
  queue.pop_back();
  now = e.time;
  event_count++;
  if (view && e.kind == Event::Kind::kDeliver) view->arrived(e.seq);
  try {
    dispatch(e);
  } catch (const InvariantViolation& v) {
    observe_view(true);       // the moment a rule broke, named by its event, ends the film
    rethrow_with_context(v);  // the checker knows the rule; the trace knows what led to it
  }
  observe_view();
}

void Cluster::Impl::dispatch(Event& e) {
  switch (e.kind) {
    case Event::Kind::kTick: {
      Event next;
      next.kind = Event::Kind::kTick;
      next.node = e.node;
      next.time = e.time + us(options.tick_ms);
      push(std::move(next));
      if (nodes[e.node]->up) {
        add_trace(TraceEvent::Kind::kTick, e.node, "");
        submit(e.node, Input{Input::Kind::kTick, nullptr, 0, kNoNode, false, nullptr});
      }
      break;
    }
    case Event::Kind::kDeliver:
      deliver(e);
      break;
    case Event::Kind::kPersistDone: {
      SimNode& n = *nodes[e.node];
      if (!n.up || n.incarnation != e.incarnation || !n.in_flight) break;  // crashed meanwhile
      persist_done(n);
      break;
    }
    case Event::Kind::kClientAttempt:
      attempt(e.op, e.incarnation);
      break;
    case Event::Kind::kDeliverPeer: {
      Input in;
      in.kind = Input::Kind::kPeerMessage;
      in.peer_message = e.peer_message;
      submit(e.node, std::move(in));
      break;
    }
    case Event::Kind::kSnapshotStatus: {
      SimNode& n = *nodes[e.node];
      if (!n.up || n.incarnation != e.incarnation) break;
      submit(e.node, Input{Input::Kind::kSnapshotStatus, nullptr, 0, e.peer, e.ok, nullptr});
      break;
    }
  }
}

// ---- faults

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
    if (is_snapshot) {
      Event status;
      status.kind = Event::Kind::kSnapshotStatus;
      status.node = from;
      status.incarnation = nodes[from]->incarnation;
      status.peer = n.id;
      status.ok = false;
      status.time = now;
      push(std::move(status));
    }
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
    Event status;
    status.kind = Event::Kind::kSnapshotStatus;
    status.node = from;
    status.incarnation = nodes[from]->incarnation;
    status.peer = n.id;
    status.ok = ok;
    status.time = now;
    push(std::move(status));
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
    if (msg->type == MessageType::kSnapshot) {
      Event status;  // the transport reports the failure after a while
      status.kind = Event::Kind::kSnapshotStatus;
      status.node = from.index;
      status.incarnation = from.incarnation;
      status.peer = msg->to;
      status.ok = false;
      status.time = now + random_delay(network.delay_min_ms, network.delay_max_ms);
      push(std::move(status));
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

std::unique_ptr<SimApp> Cluster::Impl::make_app() const {
  if (!options.app) return std::make_unique<LogApp>();
  auto app = options.app();
  if (!app) throw std::invalid_argument("ClusterOptions::app returned no state machine");
  return app;
}

void Cluster::Impl::note_role(SimNode& n, const SoftState& s) {
  n.role = s.role;
  n.lead = s.leader;
  RoleChange rc;
  rc.time_us = now;
  rc.node = n.index;
  rc.term = n.term;
  rc.role = s.role;
  if (s.leader != kNoNode) rc.leader = static_cast<int>(s.leader) - 1;
  role_changes.push_back(rc);
  n.term = rc.term;
  if (s.role == Role::kLeader) {
    if (checker) checker->became_leader(n.index, rc.term);
    for (size_t op = 0; op < clients.size(); ++op) {
      if (clients[op].transfer_to == n.index && !ops[op].done()) complete(op + 1, Outcome::kOk);
    }
  }
}

// ---- the public class

Cluster::Cluster(const ClusterOptions& options) : impl_(std::make_unique<Impl>(options)) {}
Cluster::~Cluster() {
  // tools/trace_hashes.sh pins the simulator's behaviour: with ETCDLAB_TRACE_HASH_FILE set,
  // every cluster appends its seed, event count and trace hash when it ends, so two builds can
  // be compared run by run (the hash covers every event, so any change of behaviour shows).
  if (const char* path = std::getenv("ETCDLAB_TRACE_HASH_FILE"); path && *path) {
    std::ofstream out(path, std::ios::app);
    out << impl_->options.seed << ' ' << impl_->event_count << ' ' << trace_hash() << '\n';
  }
}

const ClusterOptions& Cluster::options() const {
  return impl_->options;
}
int Cluster::size() const {
  return static_cast<int>(impl_->nodes.size());
}
double Cluster::now_ms() const {
  return impl_->now / 1000.0;
}
uint64_t Cluster::events() const {
  return impl_->event_count;
}

void Cluster::run_ms(double ms) {
  check_ms(ms, 0, "the time to run");
  uint64_t end = impl_->now + impl_->us(ms);
  while (!impl_->queue.empty() && impl_->queue.front().time <= end) impl_->process_next();
  impl_->now = end;
}

bool Cluster::run_until(const std::function<bool()>& done, double timeout_ms) {
  check_ms(timeout_ms, 0, "run_until's timeout");
  uint64_t end = impl_->now + impl_->us(timeout_ms);
  while (!done()) {
    if (impl_->queue.empty() || impl_->queue.front().time > end) {
      impl_->now = end;
      return done();
    }
    impl_->process_next();
  }
  return true;
}

void Cluster::step() {
  impl_->process_next();
}

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

void Cluster::crash(int node, CrashMode mode) {
  auto& r = *impl_;
  r.check_node(node);
  check_crash_mode(mode);
  SimNode& n = *r.nodes[node];
  if (!n.up) return;
  r.add_trace(TraceEvent::Kind::kCrash, node, to_string(mode));
  n.up = false;
  n.incarnation++;
  n.in_flight.reset();
  n.inputs.clear();
  n.incoming.clear();
  n.loop.reset();
  n.logic.reset();
  n.storage.reset();
  n.role = Role::kFollower;
  n.lead = kNoNode;
  n.touches++;
  r.log_changed(n, 0);
  n.disk.crash(r.rng.next(), mode);
  if (r.checker) r.checker->crashed(node);
  r.observe_view();
}

void Cluster::restart(int node) {
  auto& r = *impl_;
  r.check_node(node);
  SimNode& n = *r.nodes[node];
  if (n.up) return;
  n.up = true;
  n.incarnation++;
  n.restarts++;
  r.start_node(node);
  r.add_trace(
      TraceEvent::Kind::kRestart, node,
      fmt::format("term {} commit {} snapshot {}", n.term, n.commit, n.storage->snapshot().index));
  r.drive(n);
  r.observe_view();
}

std::optional<int> Cluster::leader() const {
  std::optional<int> best;
  uint64_t best_term = 0;
  for (const auto& n : impl_->nodes) {
    if (n->up && n->role == Role::kLeader && (!best || n->term > best_term)) {
      best = n->index;
      best_term = n->term;
    }
  }
  return best;
}

NodeView Cluster::node(int index) const {
  impl_->check_node(index);
  const SimNode& n = *impl_->nodes[index];
  NodeView v;
  v.index = index;
  v.up = n.up;
  v.term = n.term;
  v.role = n.role;
  if (n.vote != kNoNode) v.vote = static_cast<int>(n.vote) - 1;
  if (n.lead != kNoNode) v.leader = static_cast<int>(n.lead) - 1;
  v.commit = n.commit;
  v.applied = n.applied;
  v.conf = n.conf;
  v.member =
      std::find(n.conf.voters.begin(), n.conf.voters.end(), n.id) != n.conf.voters.end() ||
      std::find(n.conf.learners.begin(), n.conf.learners.end(), n.id) != n.conf.learners.end();
  if (n.up) {
    v.first_index = n.storage->first_index();
    v.last_index = n.storage->last_index();
    v.snapshot_index = n.storage->snapshot().index;
    v.commands_applied = n.logic->commands_applied();
  }
  for (const auto& name : const_cast<SimFileSystem&>(n.disk).list("data/wal")) {
    v.wal_bytes += const_cast<SimFileSystem&>(n.disk).open("data/wal/" + name)->size();
  }
  v.messages_sent = n.messages_sent;
  v.bytes_sent = n.bytes_sent;
  v.restarts = n.restarts;
  return v;
}

std::vector<Entry> Cluster::log(int index) const {
  impl_->check_node(index);
  const SimNode& n = *impl_->nodes[index];
  if (!n.up || n.storage->last_index() < n.storage->first_index()) return {};
  return n.storage->entries(n.storage->first_index(), n.storage->last_index() + 1, ~0ULL);
}

const NodeLogic* Cluster::logic(int index) const {
  const SimNode& n = *impl_->nodes.at(index);
  return n.up ? n.logic.get() : nullptr;
}

NodeLogic* Cluster::logic(int index) {
  SimNode& n = *impl_->nodes.at(index);
  return n.up ? n.logic.get() : nullptr;
}

const std::vector<RoleChange>& Cluster::role_changes() const {
  return impl_->role_changes;
}
const Trace& Cluster::trace() const {
  return impl_->trace;
}
std::string Cluster::trace_hash() const {
  return impl_->trace.hash_hex();
}

void Cluster::check_invariants() const {
  const auto& r = *impl_;
  auto fail = [&](const std::string& name, int node, const std::string& detail) {
    throw InvariantViolation(
        name, node, r.event_count, r.now, detail,
        fmt::format("seed {}; last events:\n{}", r.options.seed, r.trace.recent()));
  };
  // Log matching across every pair of up nodes: where two logs hold an entry of the same
  // index and term, they hold the same entries up to it.
  std::vector<std::vector<Entry>> logs;
  for (int i = 0; i < size(); ++i) logs.push_back(log(i));
  for (int a = 0; a < size(); ++a) {
    for (int b = a + 1; b < size(); ++b) {
      std::map<uint64_t, const Entry*> in_b;
      for (const auto& e : logs[b]) in_b[e.index] = &e;
      uint64_t agree_up_to = 0;
      for (const auto& e : logs[a]) {
        auto it = in_b.find(e.index);
        if (it != in_b.end() && it->second->term == e.term) agree_up_to = e.index;
      }
      for (const auto& e : logs[a]) {
        if (e.index > agree_up_to) break;
        auto it = in_b.find(e.index);
        if (it != in_b.end() && !(*it->second == e)) {
          fail("log matching", a,
               fmt::format("nodes {} and {} agree on entry {} but differ at {}", a, b, agree_up_to,
                           e.index));
        }
      }
    }
  }
  // Nodes that applied the same prefix hold the same state.
  std::map<uint64_t, std::pair<int, uint64_t>> state_at;  // applied -> (node, state hash)
  for (const auto& n : r.nodes) {
    if (!n->up) continue;
    uint64_t hash = n->logic->state_hash();
    auto [it, inserted] = state_at.emplace(n->applied, std::make_pair(n->index, hash));
    if (!inserted && it->second.second != hash) {
      fail("state machine safety", n->index,
           fmt::format("nodes {} and {} applied up to {} but hold different states",
                       it->second.first, n->index, n->applied));
    }
  }
}

}  // namespace etcdlab::sim
