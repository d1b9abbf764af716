#pragma once
// A scripted, synchronous network of Raft nodes for the rule tests. Nothing happens unless the
// test says so: tick a node, deliver its messages, drop some. Each node runs on a MemoryStorage
// and is driven exactly as ready.h says. Every step is written to a trail that failures print,
// so a failing test reads like a script of what happened:
//
//   Script s({1, 2, 3});
//   s.elect(1);                       // campaign on 1 and deliver until quiet
//   s.propose(1, "x");
//   s.stabilize();
//   EXPECT_EQ(s.commit(2), 2u) << s.trail();

#include <gtest/gtest.h>

#include <cstdio>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "etcdlab/codec.h"
#include "etcdlab/log/log_storage.h"
#include "etcdlab/raft/raft.h"
#include "failure_report.h"

namespace etcdlab {
// gtest prints roles by name in failure messages ("leader", not "4-byte object <03-00 00-00>").
inline void PrintTo(Role role, std::ostream* os) {
  *os << to_string(role);
}
}  // namespace etcdlab

namespace etcdlab::lab2 {

class Script {
 public:
  struct Options {
    int election_ticks = 10;
    int heartbeat_ticks = 1;
    bool pre_vote = false;
    bool check_quorum = false;
    uint64_t max_append_bytes = 1 << 20;
    size_t max_inflight = 256;
    uint64_t seed = 1;
  };

  explicit Script(std::vector<NodeId> ids) : Script(std::move(ids), Options()) {}
  Script(std::vector<NodeId> ids, Options options) : options_(options), ids_(ids) {
    for (NodeId id : ids) start(id, ids);
  }

  // (Re)creates node `id` from its storage (a restart keeps the storage).
  void start(NodeId id, const std::vector<NodeId>& voters) {
    auto& n = nodes_[id];
    if (!n.storage) n.storage = std::make_unique<MemoryStorage>();
    RaftConfig c;
    c.id = id;
    c.voters = voters;
    c.election_ticks = options_.election_ticks;
    c.heartbeat_ticks = options_.heartbeat_ticks;
    c.pre_vote = options_.pre_vote;
    c.check_quorum = options_.check_quorum;
    c.max_append_bytes = options_.max_append_bytes;
    c.max_inflight_appends = options_.max_inflight;
    c.seed = options_.seed;
    c.storage = n.storage.get();
    c.logger = [this](const std::string& line) { note("  " + line); };
    n.raft = std::make_unique<Raft>(c);
    n.applied.clear();
    n.reads.clear();
    note("start node " + std::to_string(id));
  }
  void restart(NodeId id) {
    note("restart node " + std::to_string(id) + " from its storage");
    start(id, ids_);
  }

  Raft& raft(NodeId id) { return *nodes_.at(id).raft; }
  MemoryStorage& storage(NodeId id) { return *nodes_.at(id).storage; }
  RaftStatus status(NodeId id) { return raft(id).status(); }
  uint64_t term(NodeId id) { return status(id).hard_state.term; }
  uint64_t commit(NodeId id) { return status(id).hard_state.commit; }
  Role role(NodeId id) { return status(id).soft_state.role; }
  NodeId leader_of(NodeId id) { return status(id).soft_state.leader; }
  const std::vector<Entry>& applied(NodeId id) { return nodes_.at(id).applied; }

  // ---- inputs
  void tick(NodeId id, int times = 1) {
    note("tick node " + std::to_string(id) + (times > 1 ? " x" + std::to_string(times) : ""));
    for (int i = 0; i < times; ++i) {
      raft(id).tick();
      process(id);
    }
  }
  void campaign(NodeId id) {
    note("campaign on node " + std::to_string(id));
    raft(id).campaign();
    process(id);
  }
  void propose(NodeId id, std::string data) {
    note("propose \"" + data + "\" on node " + std::to_string(id));
    raft(id).propose(std::move(data));
    process(id);
  }
  void read_index(NodeId id, std::string context) {
    note("read_index \"" + context + "\" on node " + std::to_string(id));
    raft(id).read_index(std::move(context));
    process(id);
  }
  void transfer_leader(NodeId id, NodeId to) {
    note("transfer leadership from node " + std::to_string(id) + " to " + std::to_string(to));
    raft(id).transfer_leader(to);
    process(id);
  }
  void change(NodeId id, ConfChange::Type type, NodeId node) {
    note("propose " + to_string(type) + " " + std::to_string(node) + " on node " +
         std::to_string(id));
    raft(id).propose_conf_change(ConfChange{type, node, ""});
    process(id);
  }
  // A new node, started knowing the initial members but not as one of them: it becomes a
  // member when it applies the configuration change that adds it.
  void add_node(NodeId id) { start(id, ids_); }
  void step(const Message& m) {
    note("deliver " + to_string(m));
    raft(m.to).step(m);
    process(m.to);
  }

  // ---- the network
  // Delivers queued messages (and those they cause), in order, until none are left.
  void stabilize(size_t max_messages = 100000) {
    for (size_t n = 0; !queue_.empty() && n < max_messages; ++n) {
      Message m = std::move(queue_.front());
      queue_.pop_front();
      if (cut_.count({m.from, m.to}) || isolated_.count(m.from) || isolated_.count(m.to)) {
        note("drop " + to_string(m));
        continue;
      }
      step(m);
    }
  }
  // Messages sent and not yet delivered; `take` removes them from the network.
  std::vector<Message> take(std::function<bool(const Message&)> which = nullptr) {
    std::vector<Message> out;
    std::deque<Message> keep;
    for (auto& m : queue_) {
      if (which == nullptr || which(m)) {
        out.push_back(m);
      } else {
        keep.push_back(m);
      }
    }
    queue_ = std::move(keep);
    return out;
  }
  const std::deque<Message>& in_flight() const { return queue_; }
  void cut(NodeId a, NodeId b) {
    note("cut " + std::to_string(a) + " <-> " + std::to_string(b));
    cut_.insert({a, b});
    cut_.insert({b, a});
  }
  void isolate(NodeId id) {
    note("isolate node " + std::to_string(id));
    isolated_.insert(id);
  }
  void heal() {
    note("heal the network");
    cut_.clear();
    isolated_.clear();
  }

  // The application on `id` takes a snapshot at its applied index (the log before it goes).
  void compact(NodeId id) {
    auto st = status(id);
    SnapshotMeta meta{st.applied, storage(id).term(st.applied), st.conf};
    note("node " + std::to_string(id) + " snapshots at " + std::to_string(meta.index));
    auto w = storage(id).begin_snapshot(meta);
    w->write("state@" + std::to_string(meta.index));
    w->commit();
  }
  // Read states handed out to `id` so far.
  const std::vector<ReadState>& read_states(NodeId id) { return nodes_.at(id).reads; }

  // Makes `id` leader: campaign, then deliver until quiet.
  void elect(NodeId id) {
    campaign(id);
    stabilize();
  }

  // Every Ready handed out, in order (for tests of the Ready contract).
  const std::vector<std::pair<NodeId, Ready>>& readys() const { return readys_; }
  // Lets a test inspect each Ready before it is processed.
  void on_ready(std::function<void(NodeId, const Ready&, const LogStorage&)> fn) {
    on_ready_ = std::move(fn);
  }

  void note(const std::string& line) {
    trail_.push_back(line);
    if (verbose_) std::printf("  %s\n", line.c_str());  // ETCDLAB_LOG: the script as it runs
  }
  // The last steps, for failure messages.
  std::string trail(size_t last = 60) const {
    std::string out = "\n-- the last steps of the script:\n";
    size_t from = trail_.size() > last ? trail_.size() - last : 0;
    for (size_t i = from; i < trail_.size(); ++i) out += "  " + trail_[i] + "\n";
    return out;
  }

 private:
  struct Node {
    std::unique_ptr<MemoryStorage> storage;
    std::unique_ptr<Raft> raft;
    std::vector<Entry> applied;
    std::vector<ReadState> reads;
  };

  // Runs the node's Readys as ready.h says: persist, send, apply, advance.
  void process(NodeId id) {
    auto& n = nodes_.at(id);
    while (n.raft->has_ready()) {
      Ready rd = n.raft->ready();
      if (on_ready_) on_ready_(id, rd, *n.storage);
      readys_.push_back({id, rd});
      if (rd.snapshot) {
        n.storage->begin_snapshot(*rd.snapshot)->commit();
        n.applied.clear();  // the state machine is now the snapshot's
        note("  node " + std::to_string(id) + " installed snapshot " + to_string(*rd.snapshot));
      }
      if (!rd.entries.empty()) n.storage->append(rd.entries);
      if (rd.hard_state) n.storage->set_hard_state(*rd.hard_state);
      for (const Message& m : rd.messages) queue_.push_back(m);
      for (const Entry& e : rd.committed_entries) {
        if (e.type == EntryType::kConfChange) {
          n.raft->apply_conf_change(decode_value<ConfChange>(e.data, "conf change"));
        }
        n.applied.push_back(e);
      }
      for (const ReadState& r : rd.read_states) n.reads.push_back(r);
      n.raft->advance(rd);
    }
  }

  Options options_;
  std::vector<NodeId> ids_;
  std::map<NodeId, Node> nodes_;
  std::deque<Message> queue_;
  std::set<std::pair<NodeId, NodeId>> cut_;
  std::set<NodeId> isolated_;
  std::vector<std::string> trail_;
  std::vector<std::pair<NodeId, Ready>> readys_;
  std::function<void(NodeId, const Ready&, const LogStorage&)> on_ready_;
  bool verbose_ = verbose_log();
  // Every failing assertion prints the trail, unless its message already does.
  FailureReport report_{[this] { return trail(); }, "-- the last steps of the script"};
};

// Applied entries that carry data (the leaders' empty entries left out).
inline std::vector<std::string> data_of(const std::vector<Entry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) {
    if (e.type == EntryType::kNormal && !e.data.empty()) out.push_back(e.data);
  }
  return out;
}

// A message of `type` from `from` to `to` at `term`, every other field empty (for tests that
// step one in).
inline Message msg(MessageType type, NodeId from, NodeId to, uint64_t term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

// An append as a leader of `term` sends it: the entries after (prev_index, prev_term), and its
// commit index.
inline Message append(NodeId from, NodeId to, uint64_t term, uint64_t prev_index,
                      uint64_t prev_term, std::vector<Entry> entries, uint64_t commit) {
  Message m = msg(MessageType::kAppend, from, to, term);
  m.index = prev_index;
  m.log_term = prev_term;
  m.entries = std::move(entries);
  m.commit = commit;
  return m;
}

// An InstallSnapshot message, as a leader of `term` sends it (for tests that step one in).
inline Message snapshot_message(NodeId from, NodeId to, uint64_t term, SnapshotMeta meta) {
  Message m;
  m.type = MessageType::kSnapshot;
  m.from = from;
  m.to = to;
  m.term = term;
  m.snapshot = std::move(meta);
  return m;
}

// Leader 1 of {1, 2, 3} proposed `entries` entries while node 3 was cut off, then compacted
// them into a snapshot (at 1 + entries: the election's entry comes first); the network is
// healed, nothing has been sent since. Node 3 can now be caught up only by the snapshot.
inline void compact_past_3(Script& s, int entries = 10) {
  s.elect(1);
  s.isolate(3);
  for (int i = 0; i < entries; ++i) s.propose(1, "p" + std::to_string(i));
  s.stabilize();
  s.compact(1);
  s.heal();
}

// `rounds` exchanges that deliver every message but the snapshots, which stay on their way (as
// if the driver were still streaming them).
inline void deliver_all_but_snapshots(Script& s, int rounds = 4) {
  for (int i = 0; i < rounds; ++i) {
    for (const auto& m : s.take()) {
      if (m.type != MessageType::kSnapshot) s.step(m);
    }
  }
}

// compact_past_3, then a heartbeat: node 3 answers, the leader sends it the snapshot, and the
// snapshot stays on its way while everything else is delivered.
inline void snapshot_on_its_way_to_3(Script& s, int entries = 10) {
  compact_past_3(s, entries);
  s.tick(1);
  deliver_all_but_snapshots(s);
}

}  // namespace etcdlab::lab2
