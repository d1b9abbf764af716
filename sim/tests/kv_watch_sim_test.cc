// Watches on the server's node (KvNode with lab 4's watch hub) in the simulator, under
// partitions, lost messages, crashes, leader changes and compaction. Watch clients connect to
// a member, watch a key, a prefix or everything (prev_kv, filters at random), read their
// stream fast or slowly, cancel and watch again, ask for progress; when their member crashes
// (the connection dies) or they are cancelled by compaction, they watch again elsewhere from
// the revision after the last one they know of — as etcd's clients resume. Meanwhile clients
// put, delete, attach keys to leases and revoke them, and compact.
//
// The history checked against is the one every member applied: read from the stores as it
// grows (compaction is only ever asked below what was read). For every watch client, across
// all its connections, what it received must be (etcd's robustness checks):
//   ordered, unique, reliable  exactly the events of its range from its first start, filtered,
//                              in order — a gap only where a compaction cancelled it
//   atomic                     a revision's events in one response
//   prev_kv                    the key's previous version, when asked for
//   bookmarkable               a progress response at R after every event up to R
//   resumable, and caught up   at the end, with the cluster whole, every client has it all
// 200 seeds (10,000 with ETCDLAB_LONG=1); a failure prints its seed and a replay line.
#include <gtest/gtest.h>

#include <iostream>
#include <map>

#include "etcdlab/testing/seeds.h"
#include "kv_workload.h"

namespace etcdlab::sim::testing {
namespace {

using etcdlab::testing::for_each_seed;
using etcdlab::testing::seed_count;
using watch::WatchResponse;

std::string text(const mvcc::Event& e) {
  std::string out = (e.type == mvcc::Event::Type::kPut ? "PUT " : "DELETE ") + e.kv.key + "@" +
                    std::to_string(e.kv.mod_revision);
  if (e.type == mvcc::Event::Type::kPut) out += "=" + e.kv.value;
  if (e.prev_kv) out += " (was " + e.prev_kv->value + "@" + std::to_string(e.prev_kv->mod_revision) + ")";
  return out;
}

struct WatchClient {
  watch::WatchRequest request;  // start_revision is set at each connection
  bool slow = false;
  int64_t next = 0;             // the first revision it still needs (0: not started yet)
  int64_t first = 0;            // the revision its first watch started from
  // The connection.
  int node = -1;
  uint64_t restarts = 0;
  watch::StreamId stream = 0;
  watch::WatchId id = watch::kNoWatchId;
  bool cancelling = false;
  // What it saw: every event, in order; the gaps compaction excused; the failure, if any.
  std::vector<mvcc::Event> received;
  std::vector<std::pair<int64_t, int64_t>> compacted_gaps;  // [from, to] inclusive
  std::vector<std::pair<int64_t, size_t>> progress;  // (revision, events received by then)
  int64_t last_revision = 0;
  int connections = 0;
};

struct WatchRun {
  explicit WatchRun(uint64_t seed) : rng(seed * 7919 + 3), c(kv_cluster(seed, 3)) {}

  server::KvNode* node(int i) { return kv_node_of(c.logic(i)); }

  // The history: every member applies the same writes; read it from any member ahead of it.
  void capture() {
    for (int i = 0; i < c.size(); ++i) {
      const server::KvNode* n = kv_node_of(static_cast<const Cluster&>(c).logic(i));
      if (n == nullptr || n->store().revision() <= captured) continue;
      std::string all(1, '\0');
      for (auto& e : n->store().events_since(captured + 1, {all, all}, true)) {
        history.push_back(std::move(e));
      }
      captured = n->store().revision();
    }
  }

  void connect(WatchClient& w) {
    std::vector<int> up;
    for (int i = 0; i < c.size(); ++i) {
      if (node(i) != nullptr) up.push_back(i);
    }
    if (up.empty()) return;
    w.node = up[rng.uniform(0, up.size() - 1)];
    w.restarts = c.node(w.node).restarts;
    server::KvNode* n = node(w.node);
    w.stream = n->open_watch_stream();
    watch::WatchRequest r = w.request;
    r.start_revision = w.next;  // 0 the first time: from the next write
    w.id = n->watch(w.stream, r);
    w.cancelling = false;
    ++w.connections;
  }

  bool connected(const WatchClient& w) {
    return w.node >= 0 && node(w.node) != nullptr && c.node(w.node).restarts == w.restarts;
  }

  void disconnect(WatchClient& w) {
    if (connected(w)) node(w.node)->close_watch_stream(w.stream);
    w.node = -1;
  }

  void fail(const WatchClient& w, const std::string& why) {
    if (failure) return;
    failure = "watch client " + std::to_string(&w - clients.data()) + " (" +
              w.request.range.key + (w.request.range.single() ? "" : "...") + "): " + why;
  }

  void read(WatchClient& w) {
    if (!connected(w)) {
      w.node = -1;
      connect(w);
      return;
    }
    server::KvNode* n = node(w.node);
    size_t max = w.slow ? rng.uniform(0, 2) : 1000;
    for (const WatchResponse& r : n->take_watch_responses(w.stream, max)) {
      if (r.created) {
        if (r.canceled) fail(w, "its watch was refused: " + r.cancel_reason);
        if (w.next == 0) w.next = w.first = r.revision + 1;
        continue;
      }
      if (r.watch_id == watch::kNoWatchId || r.events.empty()) {  // progress
        if (r.canceled) {
          if (r.compact_revision == 0) {
            if (!w.cancelling) fail(w, "cancelled though it did not ask");
            disconnect(w);
            return;
          }
          // Compacted: the client reads again (not modelled) and watches from after it.
          if (r.compact_revision < w.next) fail(w, "cancelled for a compaction below its next revision");
          w.compacted_gaps.push_back({w.next, r.compact_revision});
          w.next = r.compact_revision + 1;
          disconnect(w);
          return;
        }
        w.progress.push_back({r.revision, w.received.size()});
        w.next = std::max(w.next, r.revision + 1);
        continue;
      }
      if (r.events.front().kv.mod_revision <= w.last_revision) {
        fail(w, "revision " + std::to_string(r.events.front().kv.mod_revision) +
                    " came again or out of order (atomic, ordered, unique)");
      }
      for (const auto& e : r.events) {
        if (e.kv.mod_revision > r.revision) fail(w, "an event newer than its response");
        w.received.push_back(e);
        w.last_revision = e.kv.mod_revision;
      }
      w.next = w.last_revision + 1;
    }
    if (rng.chance(0.02)) {
      n->request_watch_progress(w.stream);
    } else if (rng.chance(0.02) && !w.cancelling) {
      // Cancel, and (once the cancel is read) watch again from the next revision: resumable.
      n->cancel_watch(w.stream, w.id);
      w.cancelling = true;
    }
  }

  void write() {
    double f = rng.unit();
    std::string key = "k" + std::to_string(rng.uniform(0, 4));
    if (f < 0.55) {
      c.propose(put_request(key, "v" + std::to_string(++values)));
    } else if (f < 0.7) {
      c.propose(delete_request(key));
    } else if (f < 0.78) {
      int64_t lease = 500 + static_cast<int64_t>(rng.uniform(0, 3));
      c.propose(lease_grant_request(lease, 60));
      c.propose(put_request("k" + std::to_string(rng.uniform(5, 7)), "l" + std::to_string(++values), lease));
    } else if (f < 0.84) {
      c.propose(lease_revoke_request(500 + static_cast<int64_t>(rng.uniform(0, 3))));
    } else if (f < 0.87 && captured > 3) {
      // Compaction below what the history holds already (never past it: see capture()).
      server::CompactionRequest compaction;
      compaction.revision = static_cast<int64_t>(rng.uniform(std::max<int64_t>(1, captured - 20), captured));
      c.propose(server::encode_request(0, compaction));
    }
  }

  void go() {
    c.run_until([&] { return c.leader().has_value(); }, 10000);
    for (int k = 0; k < 4; ++k) {
      WatchClient w;
      switch (k) {
        case 0: w.request.range = {"k1", ""}; break;
        case 1: w.request.range = {"k", mvcc::prefix_end("k")}; break;
        case 2: w.request.range = {std::string(1, '\0'), std::string(1, '\0')}; break;
        default: w.request.range = {"k2", "k6"}; break;
      }
      w.request.prev_kv = rng.chance(0.6);
      w.request.no_put = k == 3 && rng.chance(0.3);
      w.request.no_delete = k != 3 && rng.chance(0.15);
      w.slow = rng.chance(0.4);
      clients.push_back(w);
    }
    for (auto& w : clients) connect(w);
    FaultSchedule faults(c, rng, 1);
    double end = c.now_ms() + 8000;
    double next_fault = c.now_ms() + 300;
    while (c.now_ms() < end && !failure) {
      for (int i = 0; i < 3; ++i) write();
      c.run_ms(static_cast<double>(rng.uniform(20, 250)));
      capture();
      for (auto& w : clients) read(w);
      if (c.now_ms() >= next_fault) {
        faults.next();
        next_fault = c.now_ms() + static_cast<double>(rng.uniform(300, 1500));
      }
    }
    if (failure) return;
    faults.end();
    if (!settle(c)) {
      failure = "the cluster did not settle after the faults ended:\n" + cluster_report(c);
      return;
    }
    capture();
    // Everyone reads fast now until caught up with the history.
    for (auto& w : clients) w.slow = false;
    for (int round = 0; round < 200 && !failure; ++round) {
      c.run_ms(100);
      capture();
      bool all = true;
      for (auto& w : clients) {
        read(w);
        if (w.next <= captured) all = false;
      }
      if (all) break;
    }
  }

  void check() {
    if (failure) return;
    int64_t compacted = 0;
    for (int i = 0; i < c.size(); ++i) {
      if (const server::KvNode* n = kv_node_of(static_cast<const Cluster&>(c).logic(i))) {
        compacted = std::max(compacted, n->store().compact_revision());
      }
    }
    for (const WatchClient& w : clients) {
      if (failure) return;
      // Its events, out of the history: its range, its filters, from its first start on,
      // except what compaction excused.
      size_t got = 0;
      for (const mvcc::Event& e : history) {
        if (!w.request.range.contains(e.kv.key)) continue;
        if (e.type == mvcc::Event::Type::kPut ? w.request.no_put : w.request.no_delete) continue;
        bool excused = false;
        for (const auto& [from, to] : w.compacted_gaps) {
          if (e.kv.mod_revision >= from && e.kv.mod_revision <= to) excused = true;
        }
        if (excused || w.first == 0 || e.kv.mod_revision < w.first) continue;
        if (got >= w.received.size()) {
          fail(w, "missing " + text(e) + " (reliable; received " +
                      std::to_string(w.received.size()) + " events, next " +
                      std::to_string(w.next) + ")");
          return;
        }
        mvcc::Event want = e;
        if (!w.request.prev_kv) want.prev_kv.reset();
        if (text(w.received[got]) != text(want)) {
          fail(w, "event " + std::to_string(got) + " is " + text(w.received[got]) + ", want " +
                      text(want));
          return;
        }
        ++got;
      }
      if (got != w.received.size()) {
        fail(w, "received " + std::to_string(w.received.size() - got) +
                    " events that are not in the history, first " + text(w.received[got]));
        return;
      }
      for (const auto& [from, to] : w.compacted_gaps) {
        if (to > compacted) fail(w, "cancelled at compact revision " + std::to_string(to) +
                                        " above the cluster's " + std::to_string(compacted));
      }
      // Bookmarkable: at a progress revision R, every event up to R had arrived.
      for (const auto& [revision, count] : w.progress) {
        size_t due = 0;
        for (const auto& e : w.received) {
          if (e.kv.mod_revision <= revision) ++due;
        }
        if (count < due) fail(w, "a progress at " + std::to_string(revision) + " came before "
                                 "events up to it");
      }
    }
  }

  Rng rng;
  Cluster c;
  std::vector<WatchClient> clients;
  std::vector<mvcc::Event> history;
  int64_t captured = 0;
  uint64_t values = 0;
  std::optional<std::string> failure;
};

TEST(KvWatchUnderFaults, EveryWatchClientGetsExactlyTheHistoryOfItsRange) {
  // What the seeds exercised, so that a run that checked nothing shows it.
  uint64_t events = 0, connections = 0, compaction_cancels = 0, progress = 0, revisions = 0;
  for_each_seed(seed_count(200, 10000), [&](uint64_t seed) {
    WatchRun run(seed);
    run.go();
    run.check();
    ASSERT_FALSE(run.failure) << *run.failure << "\n" << cluster_report(run.c);
    revisions += static_cast<uint64_t>(run.captured);
    for (const WatchClient& w : run.clients) {
      events += w.received.size();
      connections += static_cast<uint64_t>(w.connections);
      compaction_cancels += w.compacted_gaps.size();
      progress += w.progress.size();
    }
  });
  std::cout << "[tally] all seeds: " << revisions << " revisions, " << events
            << " events received, " << connections << " connections, " << compaction_cancels
            << " compaction cancels, " << progress << " progress responses\n";
  EXPECT_GT(compaction_cancels, 0u) << "no seed had a watcher cancelled by compaction";
}

}  // namespace
}  // namespace etcdlab::sim::testing
