#pragma once
// The test harness of the KvNode tests: one member driven through the Ready loop over
// MemoryStorage (TestNode), a single elected voter, and a three-member cluster whose network is
// a queue the tests deliver. No clocks: time is tick().
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>
#include <set>

#include "../node/kv_node.h"
#include "etcdlab/codec.h"
#include "etcdlab/node/ready_loop.h"

namespace etcdlab::server::kvtest {

inline PutRequest put(std::string key, std::string value) {
  return PutRequest{std::move(key), std::move(value), 0, {}};
}

// A new cluster's first entries, as server.cc writes them: one AddVoter per member at term 1,
// committed.
inline void bootstrap(LogStorage& storage, const std::vector<NodeId>& voters) {
  std::vector<Entry> entries;
  for (NodeId id : voters) {
    Member m{id, "n" + std::to_string(id), {"http://n" + std::to_string(id) + ":2380"}, {}, false};
    ConfChange cc{ConfChange::Type::kAddVoter, id, encode_member_context(m)};
    entries.push_back(Entry{entries.size() + 1, 1, EntryType::kConfChange, encode_value(cc)});
  }
  storage.append(entries);
  storage.set_hard_state(HardState{1, kNoNode, entries.size()});
  storage.sync();
}

// A completion and what the node's store held when it was taken.
struct Done {
  Completion completion;
  int64_t store_revision = 0;
  uint64_t applied = 0;
};

// One member: its Raft storage, its node and what it has answered. The storage is declared
// first so it outlives the node (which keeps a pointer to it).
struct TestNode {
  NodeId id = kNoNode;
  std::unique_ptr<MemoryStorage> storage = std::make_unique<MemoryStorage>();
  std::unique_ptr<KvNode> node;
  std::vector<Done> done;
  std::map<uint64_t, std::string> staged;  // snapshot payloads received, by index
  std::function<void(NodeOptions&)> tweak;  // changes the options before open() uses them
  // Snapshots as the server takes and sends them (begin_snapshot, snapshot_to_send) rather
  // than the simulator's whole ones (write_snapshot).
  bool server_snapshots = false;

  void open(const std::vector<NodeId>& voters, uint64_t epoch, uint64_t snapshot_count,
            int64_t compaction_batch = 1000) {
    NodeOptions o;
    o.raft.id = id;
    o.raft.voters = voters;
    o.raft.storage = storage.get();
    o.raft.seed = id * 7919 + epoch;
    o.snapshot_count = snapshot_count;
    o.request_epoch = epoch;
    o.store.compaction_batch = compaction_batch;
    o.view_requests = true;  // the live view's request log runs in every node test
    if (tweak) tweak(o);
    node = std::make_unique<KvNode>(o);
  }

  void collect() {
    for (auto& c : node->take_completions()) {
      done.push_back({std::move(c), node->store().revision(), node->applied_index()});
    }
  }
  const Done* find(uint64_t request) const {
    for (const Done& d : done) {
      if (d.completion.id == request) return &d;
    }
    return nullptr;
  }

  void take_snapshot() {
    if (server_snapshots) {
      SnapshotMeta meta;
      std::unique_ptr<StateCopy> copy = node->begin_snapshot(meta);
      auto w = storage->begin_snapshot(meta);
      copy->write([&](std::string_view chunk) { w->write(chunk); });
      copy.reset();
      w->commit();
      node->snapshot_done(meta.index);
      return;
    }
    auto w = storage->begin_snapshot(node->snapshot_meta());
    node->write_snapshot(*w);
    w->commit();
    node->snapshot_done();
  }
  // What this member sends one that needs its snapshot `meta`.
  std::string snapshot_payload(const SnapshotMeta& meta) const {
    if (!server_snapshots) {
      auto reader = storage->open_snapshot();
      return reader->read(0, reader->size());
    }
    std::string out;
    node->snapshot_to_send(meta)->write([&](std::string_view chunk) { out.append(chunk); });
    return out;
  }

  // The one Ready loop (ready_loop.h) over the memory storage, minus the sockets: persist,
  // send, apply, advance, answer. Returns the messages to send; `auto_snapshot` snapshots when
  // the node wants one.
  std::vector<Message> pump(bool auto_snapshot = false) {
    Io io{*this, auto_snapshot};
    ReadyLoop loop(*node, io);
    io.loop = &loop;
    loop.run();
    // What waited while the store was held (a defragmentation), as the server's driver does.
    while (node->backlog_pending()) node->backlog_step();
    collect();  // completions from tick() and submit() come without a Ready
    return std::move(io.out);
  }

  struct Io final : DriverIo {
    Io(TestNode& node, bool snapshots) : n(node), auto_snapshot(snapshots) {}
    bool taken(const Ready&) override { return n.node->role() == Role::kLeader; }
    void send(std::vector<Message>& messages) override {
      out.insert(out.end(), messages.begin(), messages.end());
      messages.clear();
    }
    void install_snapshot(const SnapshotMeta& meta) override {
      // A leader's snapshot, received with a kSnapshot message.
      auto w = n.storage->begin_snapshot(meta);
      w->write(n.staged.at(meta.index));
      w->commit();
    }
    void write(const Ready& rd) override {
      if (!rd.entries.empty()) n.storage->append(rd.entries);
      if (rd.hard_state) n.storage->set_hard_state(*rd.hard_state);
    }
    void start_sync(Ready rd, bool leader) override {
      n.storage->sync();
      loop->synced(rd, leader);
    }
    void advanced(const Ready&) override {
      n.collect();
      if (auto_snapshot && n.node->wants_snapshot()) n.take_snapshot();
    }
    TestNode& n;
    bool auto_snapshot;
    ReadyLoop* loop = nullptr;
    std::vector<Message> out;
  };
};

// A single-voter member, elected.
// `tweak` may change its options before it opens (TestNode::tweak).
inline std::unique_ptr<TestNode> single(NodeId id = 1, uint64_t epoch = 1, uint64_t snapshot_count = 0,
                                 int64_t compaction_batch = 1000,
                                 std::function<void(NodeOptions&)> tweak = nullptr) {
  auto n = std::make_unique<TestNode>();
  n->id = id;
  n->tweak = std::move(tweak);
  bootstrap(*n->storage, {id});
  n->open({id}, epoch, snapshot_count, compaction_batch);
  for (int i = 0; i < 100 && n->node->leader() != id; ++i) {
    n->node->tick();
    EXPECT_TRUE(n->pump().empty()) << "a single voter has no one to talk to";
  }
  EXPECT_EQ(n->node->leader(), id) << "no leader after 100 ticks";
  return n;
}

// Ticks a lone voter (restarted) until it leads; whether it does within 100 ticks.
inline bool lead_alone(TestNode& n) {
  for (int i = 0; i < 100 && n.node->leader() != n.id; ++i) {
    n.node->tick();
    n.pump();
  }
  return n.node->leader() == n.id;
}

// Proposes, runs the Ready cycles, and returns the completion (failing if there is none).
inline Done write(TestNode& n, const Request& r) {
  uint64_t id = n.node->submit(r);
  n.pump();
  const Done* d = n.find(id);
  if (d == nullptr) {
    ADD_FAILURE() << "request " << id << " did not complete";
    return {};
  }
  EXPECT_EQ(d->completion.kind, Completion::Kind::kWrite);
  return *d;
}


class Cluster {
 public:
  // `prepare` may set a member's options (TestNode::tweak) before it opens.
  explicit Cluster(uint64_t snapshot_count = 0,
                   const std::function<void(TestNode&)>& prepare = nullptr) {
    for (NodeId id = 1; id <= 3; ++id) {
      nodes_.push_back(std::make_unique<TestNode>());
      nodes_.back()->id = id;
      if (prepare) prepare(*nodes_.back());
      bootstrap(*nodes_.back()->storage, {1, 2, 3});
      nodes_.back()->open({1, 2, 3}, 1, snapshot_count);
    }
  }
  TestNode& at(NodeId id) { return *nodes_.at(id - 1); }
  void isolate(NodeId id) { isolated_ = id; }
  void duplicate_proposals(bool on) { duplicate_proposals_ = on; }
  void heal() { isolated_ = kNoNode; }

  // Ready cycles and deliveries until nothing moves (or `until` holds after some node's cycle).
  void settle(const std::function<bool()>& until = nullptr) {
    for (int round = 0; round < 1000; ++round) {
      bool moved = false;
      for (auto& n : nodes_) {
        moved |= n->node->has_ready();
        for (Message& m : n->pump(true)) queue_.push_back(std::move(m));
        if (until && until()) return;
      }
      moved |= !queue_.empty();
      for (; !queue_.empty(); queue_.pop_front()) deliver(queue_.front());
      if (!moved) return;
    }
    ADD_FAILURE() << "the cluster never settled";
  }
  // Ticks everyone (settling after each tick) until `until` holds; false if it never does.
  bool tick_until(const std::function<bool()>& until, int max_ticks = 200) {
    for (int i = 0; i < max_ticks && !until(); ++i) {
      for (auto& n : nodes_) n->node->tick();
      settle();
    }
    return until();
  }
  NodeId elect() {
    auto agreed = [&] {
      NodeId lead = at(1).node->leader();
      return lead != kNoNode && at(2).node->leader() == lead && at(3).node->leader() == lead;
    };
    EXPECT_TRUE(tick_until(agreed)) << "no leader agreed on";
    return at(1).node->leader();
  }

 private:
  void deliver(const Message& m) {
    if (m.to == isolated_ || m.from == isolated_) return;
    if (m.type == MessageType::kSnapshot) {  // the payload travels beside the message
      at(m.to).staged[m.snapshot.index] = at(m.from).snapshot_payload(m.snapshot);
    }
    at(m.to).node->step(m);
    // A network that delivers a forwarded proposal twice (TCP does not; the simulator may).
    if (duplicate_proposals_ && m.type == MessageType::kPropose) at(m.to).node->step(m);
    if (m.type == MessageType::kSnapshot) at(m.from).node->report_snapshot(m.to, true);
  }

  std::vector<std::unique_ptr<TestNode>> nodes_;
  std::deque<Message> queue_;
  NodeId isolated_ = kNoNode;
  bool duplicate_proposals_ = false;
};

}  // namespace etcdlab::server::kvtest
