// Driving one simulated node through the Ready contract (ready.h):
// input -> ready() -> write + sync (simulated fsync time) -> send -> apply -> advance().
#include <fmt/format.h>

#include <algorithm>

#include "cluster_impl.h"
#include "etcdlab/codec.h"

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
// whole membership from the log (or from a snapshot), not from their own configuration.
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
  RaftConfig config = raft_config(index);
  if (n.storage->last_index() == 0 && n.storage->hard_state().empty() && !config.voters.empty()) {
    bootstrap(*n.storage, config.voters);
  }
  n.app = make_app();
  SnapshotMeta snap = n.storage->snapshot();
  if (auto reader = n.storage->open_snapshot()) {
    n.app->restore(reader->read(0, reader->size()));
  }
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
  n.raft = std::make_unique<Raft>(config);
  RaftStatus s = n.raft->status();
  n.term = s.hard_state.term;
  n.vote = s.hard_state.vote;
  n.commit = s.hard_state.commit;
  n.applied = s.applied;
  n.last_snapshot_at = snap.index;
  n.conf = s.conf;
  n.role = Role::kFollower;
  n.lead = kNoNode;
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
      n.raft->tick();
      break;
    case Input::Kind::kMessage:
      n.raft->step(*in.message);
      break;
    case Input::Kind::kSnapshotStatus:
      n.raft->report_snapshot(in.peer, in.ok);
      break;
    default:
      client_input(n, in);
      break;
  }
}

void Cluster::Impl::drive(SimNode& n) {
  while (n.up && !n.busy()) {
    if (n.raft->has_ready()) {
      start_ready(n);
    } else if (!n.inputs.empty()) {
      Input in = std::move(n.inputs.front());
      n.inputs.pop_front();
      handle_input(n, in);
    } else {
      break;
    }
  }
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

void Cluster::Impl::start_ready(SimNode& n) {
  Ready rd = n.raft->ready();
  bool new_term = false;
  if (rd.hard_state) {
    new_term = rd.hard_state->term != n.term;
    n.term = rd.hard_state->term;
    n.vote = rd.hard_state->vote;
  }
  if (rd.soft_state) {
    note_role(n, *rd.soft_state);
  } else if (new_term) {
    // A candidate that times out again keeps its role but moves to a new term: still a change.
    note_role(n, SoftState{n.lead, n.role});
  }
  bool leader = n.role == Role::kLeader;
  if (checker) {
    if (leader) {
      checker->leader_appends(
          n.index, rd.entries, n.storage->last_index(),
          [&](uint64_t lo, uint64_t hi) {
            if (lo >= hi || lo < n.storage->first_index()) return false;
            hi = std::min(hi, n.storage->last_index() + 1);
            for (const Entry& e : n.storage->entries(lo, hi, ~0ULL)) {
              if (e.type == EntryType::kConfChange) return true;
            }
            return false;
          },
          n.applied);
    }
  }
  // A leader may send while its own write is in flight (ready.h, step 2).
  if (leader) {
    if (checker) {
      for (const Message& m : rd.messages) checker->sent(n.index, m, n.is_learner());
    }
    send_messages(n, rd.messages);
    n.sent_early = true;
  }
  if (rd.snapshot) install_snapshot(n, *rd.snapshot);
  if (!rd.entries.empty()) n.storage->append(rd.entries);
  if (rd.hard_state) n.storage->set_hard_state(*rd.hard_state);
  if (rd.must_sync) {
    n.in_flight = std::move(rd);
    Event done;
    done.kind = Event::Kind::kPersistDone;
    done.node = n.index;
    done.incarnation = n.incarnation;
    done.time = now + random_delay(options.fsync_min_ms, options.fsync_max_ms);
    push(std::move(done));
    return;
  }
  finish_ready(n, std::move(rd));
}

void Cluster::Impl::finish_ready(SimNode& n, Ready rd) {
  std::vector<int> voters_before;
  if (checker && n.role == Role::kLeader) voters_before = voters_of(n);
  if (rd.must_sync) n.storage->sync();
  if (!rd.entries.empty()) {
    if (checker) {
      checker->persisted(n.index, rd.entries, [&](uint64_t i) {
        uint64_t t = term_at(n, i);
        return i <= n.storage->snapshot().index ? DurableLog::kCovered : t;
      });
    }
    add_trace(TraceEvent::Kind::kPersisted, n.index, "", rd.entries.back().index,
              rd.hard_state ? rd.hard_state->commit : n.commit);
  }
  if (!n.sent_early) {
    // Recorded only now: a node that crashes before its sync completes never sent these.
    if (checker) {
      for (const Message& m : rd.messages) checker->sent(n.index, m, n.is_learner());
    }
    send_messages(n, rd.messages);
  }
  n.sent_early = false;
  if (rd.hard_state) n.commit = rd.hard_state->commit;
  apply_entries(n, rd.committed_entries);
  for (const ReadState& rs : rd.read_states) on_read_state(n, rs);
  answer_ready_reads(n);  // reads whose index this node has already applied
  uint64_t snapshot_term = rd.committed_entries.empty() ? 0 : rd.committed_entries.back().term;
  n.raft->advance(rd);
  // (A leader's commit may move inside advance(); the next Ready's hard state shows it.)
  if (checker) {
    checker->commit(n.index, n.commit);
    if (n.role == Role::kLeader) {
      bool newly_leader = rd.soft_state && rd.soft_state->role == Role::kLeader;
      if (newly_leader) {
        checker->check_completeness(n.index, n.storage->snapshot().index, n.storage->last_index(),
                                    [&](uint64_t i) { return term_at(n, i); });
      }
      checker->leader_commit(n.index, n.commit, newly_leader, {voters_before, voters_of(n)},
                             [&](uint64_t i) { return term_at(n, i); });
    }
  }
  if (options.snapshot_every > 0 && snapshot_term > 0 &&
      n.applied >= n.last_snapshot_at + options.snapshot_every) {
    take_snapshot(n, snapshot_term);
  }
}

void Cluster::Impl::send_messages(SimNode& n, std::vector<Message>& messages) {
  for (Message& m : messages) send(n, std::move(m));
  messages.clear();
}

void Cluster::Impl::apply_entries(SimNode& n, const std::vector<Entry>& entries) {
  for (const Entry& e : entries) {
    if (checker) checker->applied(n.index, e, n.commit);
    add_trace(TraceEvent::Kind::kApply, n.index, "", e.index, e.term);
    if (e.type == EntryType::kConfChange) {
      ConfChange cc = decode_value<ConfChange>(e.data, "conf change entry");
      n.conf = n.raft->apply_conf_change(cc);
      auto [op, unused] = decode_command(cc.context);
      (void)unused;
      if (op > 0 && op <= ops.size() && !ops[op - 1].done()) {
        complete(op, Outcome::kOk, "", e.index);
      }
    } else if (Applied a = n.app->apply(e.index, e.data);
               a.op > 0 && a.op <= ops.size() && !ops[a.op - 1].done()) {
      complete(a.op, Outcome::kOk, std::move(a.output), e.index);
    }
    n.applied = e.index;
  }
  answer_ready_reads(n);
}

void Cluster::Impl::install_snapshot(SimNode& n, const SnapshotMeta& meta) {
  auto staged = n.incoming.find({meta.term, meta.index});
  if (staged == n.incoming.end()) {
    throw std::logic_error(fmt::format("node {}: Raft installs snapshot {}/{} that never arrived",
                                       n.index, meta.index, meta.term));
  }
  bool replaced = term_at(n, meta.index) != meta.term;
  auto in = n.disk.open(staged->second);
  auto w = n.storage->begin_snapshot(meta);
  std::string payload;
  for (uint64_t at = 0; at < in->size(); at += 64 << 10) {
    std::string chunk = in->read_at(at, 64 << 10);
    w->write(chunk);
    payload += chunk;  // the simulated state machine is small
  }
  w->commit();
  in.reset();
  n.disk.remove(staged->second);
  n.incoming.erase(staged);
  n.app = make_app();
  n.app->restore(payload);
  n.applied = meta.index;
  n.conf = meta.conf;
  n.last_snapshot_at = meta.index;
  add_trace(TraceEvent::Kind::kSnapshot, n.index,
            fmt::format("installed snapshot {}/{} from the leader", meta.index, meta.term));
  if (checker) {
    checker->snapshot_durable(n.index, meta.index, replaced);
    checker->snapshot_restored(n.index, meta.index);
  }
}

void Cluster::Impl::take_snapshot(SimNode& n, uint64_t term_at_applied) {
  SnapshotMeta meta{n.applied, term_at_applied, n.conf};
  if (meta.index <= n.storage->snapshot().index) return;
  auto w = n.storage->begin_snapshot(meta);
  w->write(n.app->snapshot());
  w->commit();
  n.last_snapshot_at = n.applied;
  add_trace(TraceEvent::Kind::kSnapshot, n.index, fmt::format("took snapshot at {}", meta.index));
  if (checker) checker->snapshot_durable(n.index, meta.index, false);
}

}  // namespace etcdlab::sim
