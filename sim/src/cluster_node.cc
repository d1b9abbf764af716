// Driving one simulated node through the one Ready loop (etcdlab/node/ready_loop.h), the same
// loop the server runs: input -> ready() -> write + sync (simulated fsync time) -> send ->
// apply -> advance(). SimDriver is the simulator's side of it: the simulated disk and network,
// and the invariant checker and trace watching every step.
#include <fmt/format.h>

#include <algorithm>

#include "cluster_impl.h"
#include "etcdlab/codec.h"
#include "log_node.h"

namespace etcdlab::sim {

bool SimNode::is_learner() const {
  return std::find(conf.learners.begin(), conf.learners.end(), id) != conf.learners.end();
}

RaftConfig Cluster::Impl::raft_config(int index) {
  RaftConfig c;
  c.id = static_cast<NodeId>(index + 1);
  int voters = options.initial_voters < 0 ? options.nodes : options.initial_voters;
  if (index < voters) {
    for (int v = 0; v < voters; ++v) c.voters.push_back(static_cast<NodeId>(v + 1));
  }  // a node that joins later starts knowing no one: the leader's log tells it the config
  c.election_ticks = options.election_ticks;
  c.heartbeat_ticks = options.heartbeat_ticks;
  c.pre_vote = options.pre_vote;
  c.check_quorum = options.check_quorum;
  c.max_append_bytes = options.max_append_bytes;
  c.max_inflight_appends = options.max_inflight;
  c.seed = options.seed * 1000003 + nodes[index]->restarts;
  c.storage = nodes[index]->storage.get();
  c.logger = [this, index](const std::string& line) {
    add_trace(TraceEvent::Kind::kLog, index, line);
  };
  return c;
}

// A new cluster's first members write its configuration into their logs, as etcd's bootstrap
// does: one committed AddVoter entry per member at term 1. Nodes that join later learn the
// whole membership from the log (or from a snapshot), not from their own configuration. (A
// node logic of ClusterOptions::node_logic bootstraps its own storage.)
static void bootstrap(LogStorage& storage, const std::vector<NodeId>& voters) {
  std::vector<Entry> entries;
  for (NodeId id : voters) {
    ConfChange cc{ConfChange::Type::kAddVoter, id, ""};
    entries.push_back(Entry{entries.size() + 1, 1, EntryType::kConfChange, encode_value(cc)});
  }
  storage.append(entries);
  storage.set_hard_state(HardState{1, kNoNode, entries.size()});
  storage.sync();
}

void Cluster::Impl::start_node(int index) {
  SimNode& n = *nodes[index];
  n.storage = WalStorage::open(n.disk, "data", WalStorageOptions{options.wal, 2});
  if (!n.driver) n.driver = std::make_unique<SimDriver>(*this, n);
  NodeSetup setup;
  setup.index = index;
  setup.nodes = options.nodes;
  setup.restarts = n.restarts;
  setup.raft = raft_config(index);
  setup.tick_ms = options.tick_ms;
  setup.snapshot_every = options.snapshot_every;
  if (options.node_logic) {
    n.logic = options.node_logic(setup, *n.driver);
    if (!n.logic) throw std::invalid_argument("ClusterOptions::node_logic returned no node");
  } else {
    if (n.storage->last_index() == 0 && n.storage->hard_state().empty() &&
        !setup.raft.voters.empty()) {
      bootstrap(*n.storage, setup.raft.voters);
    }
    n.logic = std::make_unique<LogNode>(setup, *n.driver, make_app(), [this] { return make_app(); });
  }
  SnapshotMeta snap = n.storage->snapshot();
  if (checker) {
    DurableLog on_disk;
    on_disk.base = snap.index;
    if (n.storage->last_index() >= n.storage->first_index()) {
      for (const Entry& e :
           n.storage->entries(n.storage->first_index(), n.storage->last_index() + 1, ~0ULL)) {
        on_disk.terms.push_back(e.term);
      }
    }
    checker->restarted(index, n.storage->hard_state(), on_disk);
  }
  n.loop = std::make_unique<ReadyLoop>(*n.logic, *n.driver);
  RaftStatus s = n.logic->status();
  n.term = s.hard_state.term;
  n.vote = s.hard_state.vote;
  n.commit = s.hard_state.commit;
  n.applied = n.logic->applied_index();
  n.last_snapshot_at = snap.index;
  n.conf = s.conf;
  n.role = Role::kFollower;
  n.lead = kNoNode;
  n.touches++;
  log_changed(n, 0);
}

void Cluster::Impl::submit(int index, Input in) {
  SimNode& n = *nodes[index];
  if (!n.up) return;
  if (n.busy()) {
    n.inputs.push_back(std::move(in));
    return;
  }
  handle_input(n, in);
  drive(n);
}

void Cluster::Impl::handle_input(SimNode& n, const Input& in) {
  switch (in.kind) {
    case Input::Kind::kTick:
      n.logic->tick();
      break;
    case Input::Kind::kMessage:
      n.logic->step(*in.message);
      break;
    case Input::Kind::kSnapshotStatus:
      n.logic->report_snapshot(in.peer, in.ok);
      break;
    case Input::Kind::kPeerMessage:
      n.logic->receive_peer_message(*in.peer_message);
      break;
    default:
      client_input(n, in);
      break;
  }
}

void Cluster::Impl::drive(SimNode& n) {
  n.touches++;
  while (n.up && !n.busy()) {
    if (n.logic->has_ready()) {
      n.loop->step();
    } else if (!n.inputs.empty()) {
      Input in = std::move(n.inputs.front());
      n.inputs.pop_front();
      handle_input(n, in);
    } else {
      break;
    }
  }
  if (n.up) send_peer_messages(n);
}

void Cluster::Impl::send_peer_messages(SimNode& n) {
  // Carried like Raft messages: cut by partitions, lost, delayed. (The plain log has none: no
  // random draw happens here for it.)
  for (PeerMessage& m : n.logic->take_peer_messages()) {
    int to = static_cast<int>(m.to) - 1;
    if (to < 0 || to >= static_cast<int>(nodes.size())) continue;
    bool lost = blocked[n.index][to] || (network.drop > 0 && rng.chance(network.drop));
    add_trace(TraceEvent::Kind::kClient, n.index,
              fmt::format("node message to n{}{}", to + 1, lost ? " (lost)" : ""));
    if (lost) continue;
    Event e;
    e.kind = Event::Kind::kDeliverPeer;
    e.node = to;
    e.peer_message = std::make_shared<const PeerMessage>(std::move(m));
    e.time = now + random_delay(network.delay_min_ms, network.delay_max_ms);
    push(std::move(e));
  }
}

void Cluster::Impl::persist_done(SimNode& n) {
  Ready rd = std::move(*n.in_flight);
  n.in_flight.reset();
  n.storage->sync();
  n.loop->synced(rd, n.in_flight_leader);
  drive(n);
}

uint64_t Cluster::Impl::term_at(const SimNode& n, uint64_t index) const {
  try {
    return n.storage->term(index);
  } catch (const StorageError&) {
    return 0;
  }
}

std::vector<int> Cluster::Impl::voters_of(const SimNode& n) const {
  std::vector<int> out;
  for (NodeId v : n.conf.voters) out.push_back(static_cast<int>(v) - 1);
  return out;
}

void Cluster::Impl::send_messages(SimNode& n, std::vector<Message>& messages) {
  for (Message& m : messages) send(n, std::move(m));
  messages.clear();
}

void Cluster::Impl::take_snapshot(SimNode& n) {
  SnapshotMeta meta = n.logic->snapshot_meta();
  if (meta.index <= n.storage->snapshot().index) return;
  auto w = n.storage->begin_snapshot(meta);
  n.logic->write_snapshot(*w);
  w->commit();
  n.logic->snapshot_done();
  n.last_snapshot_at = meta.index;
  log_changed(n, 0);
  add_trace(TraceEvent::Kind::kSnapshot, n.index, fmt::format("took snapshot at {}", meta.index));
  if (checker) checker->snapshot_durable(n.index, meta.index, false);
}

// ---- SimDriver: the Ready loop's I/O and hooks

bool SimDriver::taken(const Ready& rd) {
  bool new_term = false;
  if (rd.hard_state) {
    new_term = rd.hard_state->term != n_.term;
    n_.term = rd.hard_state->term;
    n_.vote = rd.hard_state->vote;
  }
  if (rd.soft_state) {
    c_.note_role(n_, *rd.soft_state);
  } else if (new_term) {
    // A candidate that times out again keeps its role but moves to a new term: still a change.
    c_.note_role(n_, SoftState{n_.lead, n_.role});
  }
  bool leader = n_.role == Role::kLeader;
  if (c_.checker && leader) {
    c_.checker->leader_appends(
        n_.index, rd.entries, n_.storage->last_index(),
        [&](uint64_t lo, uint64_t hi) {
          if (lo >= hi || lo < n_.storage->first_index()) return false;
          hi = std::min(hi, n_.storage->last_index() + 1);
          for (const Entry& e : n_.storage->entries(lo, hi, ~0ULL)) {
            if (e.type == EntryType::kConfChange) return true;
          }
          return false;
        },
        n_.applied);
  }
  return leader;
}

void SimDriver::send(std::vector<Message>& messages) {
  // Recorded as they go out: a node that crashes before its sync completes never sent a
  // follower's messages.
  if (c_.checker) {
    for (const Message& m : messages) c_.checker->sent(n_.index, m, n_.is_learner());
  }
  c_.send_messages(n_, messages);
}

void SimDriver::install_snapshot(const SnapshotMeta& meta) {
  auto staged = n_.incoming.find({meta.term, meta.index});
  if (staged == n_.incoming.end()) {
    throw std::logic_error(fmt::format("node {}: Raft installs snapshot {}/{} that never arrived",
                                       n_.index, meta.index, meta.term));
  }
  bool replaced = c_.term_at(n_, meta.index) != meta.term;
  auto in = n_.disk.open(staged->second);
  auto w = n_.storage->begin_snapshot(meta);
  for (uint64_t at = 0; at < in->size(); at += 64 << 10) w->write(in->read_at(at, 64 << 10));
  w->commit();
  in.reset();
  n_.disk.remove(staged->second);
  n_.incoming.erase(staged);
  c_.log_changed(n_, 0);
  // The logic restores itself from the storage when it applies this Ready; what the checks
  // read about the node moves now.
  n_.applied = meta.index;
  n_.conf = meta.conf;
  n_.last_snapshot_at = meta.index;
  c_.add_trace(TraceEvent::Kind::kSnapshot, n_.index,
               fmt::format("installed snapshot {}/{} from the leader", meta.index, meta.term));
  if (c_.checker) {
    c_.checker->snapshot_durable(n_.index, meta.index, replaced);
    c_.checker->snapshot_restored(n_.index, meta.index);
  }
}

void SimDriver::write(const Ready& rd) {
  if (!rd.entries.empty()) {
    n_.storage->append(rd.entries);
    c_.log_changed(n_, rd.entries.front().index);
  }
  if (rd.hard_state) n_.storage->set_hard_state(*rd.hard_state);
}

void SimDriver::start_sync(Ready rd, bool leader) {
  n_.in_flight = std::move(rd);
  n_.in_flight_leader = leader;
  Event done;
  done.kind = Event::Kind::kPersistDone;
  done.node = n_.index;
  done.incarnation = n_.incarnation;
  done.time = c_.now + c_.random_delay(c_.options.fsync_min_ms, c_.options.fsync_max_ms);
  c_.push(std::move(done));
}

void SimDriver::persisted(const Ready& rd) {
  n_.voters_before.clear();
  if (c_.checker && n_.role == Role::kLeader) n_.voters_before = c_.voters_of(n_);
  if (!rd.entries.empty()) {
    if (c_.checker) {
      c_.checker->persisted(n_.index, rd.entries, [&](uint64_t i) {
        uint64_t t = c_.term_at(n_, i);
        return i <= n_.storage->snapshot().index ? DurableLog::kCovered : t;
      });
    }
    c_.add_trace(TraceEvent::Kind::kPersisted, n_.index, "", rd.entries.back().index,
                 rd.hard_state ? rd.hard_state->commit : n_.commit);
  }
  if (rd.hard_state) n_.commit = rd.hard_state->commit;
}

void SimDriver::applying(const Entry& e) {
  if (c_.checker) c_.checker->applied(n_.index, e, n_.commit);
  c_.add_trace(TraceEvent::Kind::kApply, n_.index, "", e.index, e.term);
}

void SimDriver::applied(const Ready& rd) {
  (void)rd;
  n_.applied = n_.logic->applied_index();
  n_.conf = n_.logic->conf();
}

void SimDriver::advanced(const Ready& rd) {
  // (A leader's commit may move inside advance(); the next Ready's hard state shows it.)
  if (c_.checker) {
    c_.checker->commit(n_.index, n_.commit);
    if (n_.role == Role::kLeader) {
      bool newly_leader = rd.soft_state && rd.soft_state->role == Role::kLeader;
      if (newly_leader) {
        c_.checker->check_completeness(n_.index, n_.storage->snapshot().index,
                                       n_.storage->last_index(),
                                       [&](uint64_t i) { return c_.term_at(n_, i); });
      }
      c_.checker->leader_commit(n_.index, n_.commit, newly_leader,
                                {n_.voters_before, c_.voters_of(n_)},
                                [&](uint64_t i) { return c_.term_at(n_, i); });
    }
  }
  // Snapshots are taken right after entries were applied, once enough of them were.
  if (!rd.committed_entries.empty() && n_.logic->wants_snapshot()) c_.take_snapshot(n_);
}

void SimDriver::answer(uint64_t op, Outcome outcome, std::string output, uint64_t index) {
  if (op == 0 || op > c_.ops.size() || c_.ops[op - 1].done()) return;
  c_.complete(op, outcome, std::move(output), index);
}

void SimDriver::refused(uint64_t op, const std::string& why) {
  if (op == 0 || op > c_.ops.size() || c_.ops[op - 1].done()) return;
  c_.refuse(n_, op, why);
}

void SimDriver::log(const std::string& line) {
  c_.add_trace(TraceEvent::Kind::kLog, n_.index, line);
}

}  // namespace etcdlab::sim
