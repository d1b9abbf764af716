// The simulator's event loop, crashes and restarts, and observation (the network is in
// cluster_network.cc, the argument checks in cluster_checks.cc).
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
