#pragma once
// Helpers for the lab 2 scenario tests, which run whole clusters in the simulator
// (sim/include/etcdlab/sim/cluster.h): every Raft invariant is checked after every event, and a
// broken one fails the test with the invariant, the event and each node's last events. Any
// other failure (a count, a wait that timed out) prints the same report: each node's state, the
// recent role changes and each node's last events (lab2::Cluster below). Each scenario runs
// over a few seeds (other ones, unseen, when the grader runs it), and prints the seed and a
// replay command on failure; ETCDLAB_LOG=info prints the whole run's role changes, log lines
// and faults, ETCDLAB_LOG=debug every event.

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "etcdlab/random.h"
#include "etcdlab/sim/cluster.h"
#include "etcdlab/sim/invariants.h"
#include "etcdlab/testing/seeds.h"
#include "failure_report.h"
#include "failure_trace.h"

namespace etcdlab::lab2 {

using sim::ClusterOptions;
using sim::NetworkOptions;
using sim::Outcome;

// The simulator's cluster, reporting on every failing assertion while it lives (see above).
// It records the pictures of its last events (kTraceFrames); on its first failure it writes
// them to a trace file and prints how to watch it (failure_trace.h), also when an exception
// (a broken invariant) ends the test through it.
class Cluster : public sim::Cluster {
 public:
  explicit Cluster(const ClusterOptions& options);
  ~Cluster();

 private:
  const std::string& trace_line();  // writes the trace file once

  std::string replay_;  // made here: the listener may not ask gtest for the running test
  std::string test_;
  std::string trace_line_;
  int uncaught_ = 0;  // exceptions in flight when it was made
  FailureReport report_;
};

// Each node's state, the recent role changes, each node's last events and the replay line.
std::string cluster_report(const sim::Cluster& c, const std::string& replay);

inline ClusterOptions cluster_options(uint64_t seed, int nodes) {
  ClusterOptions o;
  o.seed = seed;
  o.nodes = nodes;
  return o;
}

// A network like labrpc's unreliable mode: delays up to 26 ms, 10% lost each way.
inline NetworkOptions unreliable() {
  return NetworkOptions{1, 26, 0.1, 0.02, 0.0, 0};
}

// The leader, once there is exactly one up leader in the highest term (waits up to timeout).
inline std::optional<int> wait_leader(Cluster& c, double timeout_ms = 10000) {
  c.run_until([&] { return c.leader().has_value(); }, timeout_ms);
  return c.leader();
}

// No node may call itself leader for `ms`.
inline bool stays_leaderless(Cluster& c, const std::set<int>& among, double ms) {
  bool ok = true;
  c.run_until(
      [&] {
        for (int i : among) {
          if (c.node(i).up && c.node(i).role == Role::kLeader) ok = false;
        }
        return !ok;
      },
      ms);
  return ok;
}

inline bool wait_done(Cluster& c, const std::vector<uint64_t>& ops, double timeout_ms) {
  return c.run_until(
      [&] {
        for (uint64_t id : ops) {
          if (!c.op(id).done()) return false;
        }
        return true;
      },
      timeout_ms);
}

// Like 6.5840's one(): proposes `data` and waits until at least `nodes` nodes have applied it.
// Returns the log index, or 0 on timeout.
inline uint64_t one(Cluster& c, const std::string& data, int nodes, double timeout_ms = 10000) {
  uint64_t id = c.propose(data);
  uint64_t index = 0;
  c.run_until(
      [&] {
        if (c.op(id).outcome != Outcome::kOk) return false;
        index = c.op(id).index;
        int have = 0;
        for (int i = 0; i < c.size(); ++i) have += c.node(i).up && c.node(i).applied >= index;
        return have >= nodes;
      },
      timeout_ms);
  if (c.op(id).outcome != Outcome::kOk) return 0;
  int have = 0;
  for (int i = 0; i < c.size(); ++i) have += c.node(i).up && c.node(i).applied >= index;
  return have >= nodes ? index : 0;
}

// Messages sent by every node so far.
inline uint64_t messages(const Cluster& c) {
  uint64_t n = 0;
  for (int i = 0; i < c.size(); ++i) n += c.node(i).messages_sent;
  return n;
}

inline uint64_t bytes(const Cluster& c) {
  uint64_t n = 0;
  for (int i = 0; i < c.size(); ++i) n += c.node(i).bytes_sent;
  return n;
}

// The data of every command in a node's persisted log.
std::vector<std::string> commands_in_log(const Cluster& c, int node);

}  // namespace etcdlab::lab2
