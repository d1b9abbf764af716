#pragma once
// A seeded client workload on a simulated cluster of the server's node (KvNode, through
// sim/kv/kv_node_logic.h), under a seeded schedule of faults: what the simulated suites of
// the node share. Each put writes a value no other put writes ("v<op>"), so the history of
// the store tells which put made each revision.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "etcdlab/codec.h"
#include "etcdlab/random.h"
#include "etcdlab/sim/cluster.h"
#include "etcdlab/testing/seeds.h"
#include "kv_node_logic.h"
#include "kv_outputs.h"

namespace etcdlab::sim::testing {

struct ClientOp {
  enum class Kind { kPut, kDelete, kGet };
  Kind kind = Kind::kPut;
  uint64_t op = 0;
  std::string key;
  std::string value;  // kPut
};

inline std::string put_request(const std::string& key, const std::string& value) {
  return server::encode_request(0, server::PutRequest{key, value, 0, {}});
}

inline std::string delete_request(const std::string& key) {
  server::DeleteRangeRequest d;
  d.range.key = key;
  return server::encode_request(0, d);
}

inline std::string put_request(const std::string& key, const std::string& value, int64_t lease) {
  return server::encode_request(0, server::PutRequest{key, value, lease, {}});
}

inline std::string lease_grant_request(int64_t id, int64_t ttl) {
  return server::encode_request(0, server::LeaseGrantRequest{id, ttl});
}

inline std::string lease_revoke_request(int64_t id) {
  return server::encode_request(0, server::LeaseRevokeRequest{id});
}

inline std::string keep_alive_query(int64_t lease) {
  KvQuery q;
  q.kind = KvQuery::Kind::kKeepAlive;
  q.lease = lease;
  return encode_query(q);
}

inline std::string get_query(const std::string& key) {
  KvQuery q;
  q.range.key = key;
  return encode_query(q);
}

inline ClusterOptions kv_cluster(uint64_t seed, int nodes, KvSimOptions kv = {}) {
  ClusterOptions o;
  o.seed = seed;
  o.nodes = nodes;
  if (kv.request_timeout_ms == 0) kv.request_timeout_ms = 1500;
  o.node_logic = kv_node_logic(kv);
  o.client_deadline_ms = 2500;
  // A replay (ETCDLAB_SEED) keeps every event: a failure then prints the whole run.
  o.record_trace = etcdlab::testing::replaying();
  return o;
}

// Faults chosen by `rng`: isolations, partitions, crashes and restarts (at most `max_down`
// nodes down), lossy, duplicating and reordering networks, heals.
class FaultSchedule {
 public:
  FaultSchedule(Cluster& c, Rng& rng, int max_down) : c_(c), rng_(rng), max_down_(max_down) {}

  void next() {
    int n = c_.size();
    double f = static_cast<double>(rng_.uniform(0, 999)) / 1000.0;
    if (f < 0.08) {
      c_.isolate(static_cast<int>(rng_.uniform(0, n - 1)));
    } else if (f < 0.16) {
      std::vector<int> a, b;
      for (int i = 0; i < n; ++i) (rng_.chance(0.5) ? a : b).push_back(i);
      if (!a.empty() && !b.empty()) c_.partition({a, b});
    } else if (f < 0.26) {
      c_.heal();
    } else if (f < 0.33 && static_cast<int>(down_.size()) < max_down_) {
      int x = static_cast<int>(rng_.uniform(0, n - 1));
      if (!down_.count(x)) {
        c_.crash(x);
        down_.insert(x);
      }
    } else if (f < 0.43 && !down_.empty()) {
      int x = *down_.begin();
      down_.erase(down_.begin());
      c_.restart(x);
    } else if (f < 0.48) {
      c_.set_network(NetworkOptions{1, 20, 0.1, 0.05, 0.05, 300});
    } else if (f < 0.53) {
      c_.set_network(NetworkOptions{});
    }
  }

  // Everything healed and up again.
  void end() {
    c_.heal();
    c_.set_network(NetworkOptions{});
    for (int x : down_) c_.restart(x);
    down_.clear();
  }

 private:
  Cluster& c_;
  Rng& rng_;
  int max_down_;
  std::set<int> down_;
};

// What a failure should show: every node's state, the operations not done, the last events.
inline std::string cluster_report(const Cluster& c) {
  std::string out = "nodes:\n";
  for (int i = 0; i < c.size(); ++i) {
    NodeView v = c.node(i);
    out += "  node " + std::to_string(i) + (v.up ? " up" : " DOWN") +
           (v.member ? "" : " (not a member)") + " " + to_string(v.role) + " term " +
           std::to_string(v.term) + " commit " + std::to_string(v.commit) + " applied " +
           std::to_string(v.applied) + "\n";
  }
  out += "operations not done:";
  for (const auto& op : c.history()) {
    if (!op.done()) out += " " + std::to_string(op.id);
  }
  if (!c.trace().all().empty()) {
    out += "\nthe whole run (a replay):\n";
    for (const auto& e : c.trace().all()) out += "  " + e.to_string() + "\n";
    return out;
  }
  return out + "\nlast events (replay the seed for the whole run):\n" + c.trace().recent();
}

// Whether node `i` is in the leader's configuration (a member removed while it was cut off
// may still believe it is one: nobody tells it in the simulator).
inline bool in_leaders_conf(const Cluster& c, int i) {
  if (!c.leader()) return false;
  ConfState conf = c.node(*c.leader()).conf;
  auto id = static_cast<NodeId>(i + 1);
  return std::count(conf.voters.begin(), conf.voters.end(), id) > 0 ||
         std::count(conf.learners.begin(), conf.learners.end(), id) > 0;
}

// Runs until every operation is done and every member (of the leader's configuration) has
// applied what the leader committed. Returns whether it got there. `last_write` is the write
// it makes through the leader (with auth on, one with credentials).
inline bool settle(Cluster& c, double timeout_ms = 30000,
                   const std::string& last_write = delete_request("settled")) {
  auto all_done = [&] {
    for (const auto& op : c.history()) {
      if (!op.done()) return false;
    }
    return true;
  };
  if (!c.run_until(all_done, timeout_ms)) return false;
  // A last write through the leader (a delete: it changes nothing): once it is acked, the leader has committed an entry of
  // its term, so its commit index is the cluster's.
  for (int attempt = 0;; ++attempt) {
    if (attempt == 5) return false;
    uint64_t last = c.propose(last_write);  // (a delete: allowed under NOSPACE too)
    c.run_until([&] { return c.op(last).done(); }, timeout_ms);
    if (c.op(last).outcome == Outcome::kOk) break;
  }
  return c.run_until(
      [&] {
        if (!c.leader()) return false;
        uint64_t commit = c.node(*c.leader()).commit;
        for (int i = 0; i < c.size(); ++i) {
          if (in_leaders_conf(c, i) && c.node(i).applied < commit) return false;
          if (c.node(i).up && c.node(i).applied > commit) return false;  // the leader lags
        }
        return true;
      },
      timeout_ms);
}

// The store of node `i` (it must be up and run KvNode).
inline const mvcc::KvStore& store_of(const Cluster& c, int i) {
  const server::KvNode* node = kv_node_of(c.logic(i));
  if (node == nullptr) throw std::logic_error("node " + std::to_string(i) + " runs no KvNode");
  return node->store();
}

// Every event the store holds (none compacted), by revision.
inline std::map<int64_t, std::vector<mvcc::Event>> history_of(const mvcc::KvStore& store) {
  std::map<int64_t, std::vector<mvcc::Event>> out;
  std::string all(1, '\0');
  for (auto& e : store.events_since(1, {all, all}, false)) {
    out[e.kv.mod_revision].push_back(std::move(e));
  }
  return out;
}

inline std::string describe(const Operation& op) {
  return "op " + std::to_string(op.id) + " (" + to_string(op.outcome) + ", attempts " +
         std::to_string(op.attempts) + ")";
}

}  // namespace etcdlab::sim::testing
