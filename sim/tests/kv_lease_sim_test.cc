// Leases on the server's node (KvNode with the lessor of lab 4) in the simulator, under
// partitions, lost messages, crashes and leader changes. A "service" keeps a lease alive
// with keep-alives through any member (a follower forwards them to the leader); another stops
// keeping its lease alive at some point; a third is never kept alive. Every test runs 200
// seeds (10,000 with ETCDLAB_LONG=1); a failure prints its seed and a replay line.
//
//   no early expiry   a lease is on every member that applied its grant for as long as a
//                     keep-alive (or the grant) answered OK said it would live: TTL after the
//                     call, whatever the leaders did meanwhile (checked after every event)
//   one revision      a lease's keys go at one revision, all of them
//   no leaked keys    a lease that is gone left none of its keys; a lease nobody keeps alive
//                     is gone once the cluster is whole again
//   agreement         every member ends with the same leases
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "etcdlab/testing/seeds.h"
#include "kv_workload.h"

namespace etcdlab::sim::testing {
namespace {

using etcdlab::testing::for_each_seed;
using etcdlab::testing::seed_count;

constexpr int64_t kTtlSeconds = 3;

struct TrackedLease {
  int64_t id = 0;
  std::vector<std::string> keys;
  bool kept_alive = true;        // the service keeps it alive...
  double stop_keeping_at = 1e9;  // ...until then (ms)
  uint64_t grant_op = 0;
  std::vector<uint64_t> keep_alive_ops;
  double live_until_ms = -1;  // the latest (call + TTL) an OK answer promised
};

struct LeaseRun {
  explicit LeaseRun(uint64_t seed) : rng(seed * 104729 + 17), c(kv_cluster(seed, 3)) {}

  const server::KvNode* node(int i) const { return kv_node_of(c.logic(i)); }
  bool has(int i, int64_t lease) const {
    const server::KvNode* n = node(i);
    if (n == nullptr) return false;
    auto ids = n->leases();
    return std::binary_search(ids.begin(), ids.end(), lease);
  }

  // After every event: a lease that a member has seen, and that an OK answer promised would
  // live until later than now, is still on that member.
  void check_no_early_expiry() {
    double now = c.now_ms();
    for (TrackedLease& l : leases) {
      for (uint64_t op : l.keep_alive_ops) note_answer(l, op);
      note_answer(l, l.grant_op);
    }
    for (int i = 0; i < c.size(); ++i) {
      if (c.logic(i) == nullptr) {
        seen[i].clear();  // a crash: it learns them again from its log
        continue;
      }
      for (const TrackedLease& l : leases) {
        if (has(i, l.id)) {
          seen[i].insert(l.id);
        } else if (seen[i].count(l.id) && now < l.live_until_ms && !failure) {
          failure = "lease " + std::to_string(l.id) + " is gone from member " +
                    std::to_string(i) + " at " + std::to_string(now) + " ms, but an answer "
                    "promised it would live until " + std::to_string(l.live_until_ms) + " ms";
        }
      }
    }
  }

  void note_answer(TrackedLease& l, uint64_t op_id) {
    if (op_id == 0 || answered.count(op_id)) return;
    const Operation& op = c.op(op_id);
    if (!op.done()) return;
    answered.insert(op_id);
    if (op.outcome != Outcome::kOk) return;
    KvOutput out = decode_output(op.output);
    int64_t ttl = 0;
    if (const auto* k = std::get_if<server::LeaseKeepAliveResult>(&out.write.value)) ttl = k->ttl;
    if (const auto* g = std::get_if<server::LeaseGrantResult>(&out.write.value)) ttl = g->ttl;
    if (ttl <= 0) return;  // a keep-alive that found no lease promises nothing
    l.live_until_ms = std::max(l.live_until_ms, op.call_us / 1000.0 + ttl * 1000.0);
  }

  // Runs `ms`, checking after every event.
  void run(double ms) {
    c.run_until(
        [&] {
          check_no_early_expiry();
          return failure.has_value();
        },
        ms);
  }

  void go() {
    c.run_until([&] { return c.leader().has_value(); }, 10000);
    // Three leases: kept alive throughout, kept alive for a while, never kept alive.
    for (int k = 0; k < 3; ++k) {
      TrackedLease l;
      l.id = 1000 + k;
      l.kept_alive = k < 2;
      if (k == 1) l.stop_keeping_at = c.now_ms() + static_cast<double>(rng.uniform(2000, 8000));
      l.grant_op = c.propose(lease_grant_request(l.id, kTtlSeconds));
      leases.push_back(l);
    }
    c.run_until([&] { return c.op(leases[0].grant_op).done() && c.op(leases[2].grant_op).done(); },
                10000);
    for (TrackedLease& l : leases) {
      for (int j = 0; j < 2; ++j) {
        l.keys.push_back("svc/" + std::to_string(l.id) + "/" + std::to_string(j));
        c.propose(put_request(l.keys.back(), "up", l.id));
      }
    }
    FaultSchedule faults(c, rng, 1);
    double end = c.now_ms() + 12000;
    double next_fault = c.now_ms() + 300;
    while (c.now_ms() < end && !failure) {
      for (TrackedLease& l : leases) {
        if (l.kept_alive && c.now_ms() < l.stop_keeping_at) {
          std::optional<int> via;
          if (rng.chance(0.7)) via = static_cast<int>(rng.uniform(0, c.size() - 1));
          l.keep_alive_ops.push_back(c.read(keep_alive_query(l.id), via));
        }
      }
      if (c.now_ms() >= next_fault) {
        faults.next();
        next_fault = c.now_ms() + static_cast<double>(rng.uniform(200, 1200));
      }
      run(700);  // keep-alives every TTL/4 or so
    }
    if (failure) return;
    // The service that stopped, and the one never kept alive: their leases must go once the
    // cluster is whole. The first keeps being kept alive until the end.
    faults.end();
    for (int round = 0; round < 20 && !failure; ++round) {
      leases[0].keep_alive_ops.push_back(c.read(keep_alive_query(leases[0].id)));
      run(700);
    }
  }

  Rng rng;
  Cluster c;
  std::vector<TrackedLease> leases;
  std::map<int, std::set<int64_t>> seen;  // member -> leases it has held since it started
  std::set<uint64_t> answered;
  std::optional<std::string> failure;
};

TEST(KvLeasesUnderFaults, NoLeaseExpiresBeforeItsKeepAlivesSaid) {
  for_each_seed(seed_count(200, 10000), [](uint64_t seed) {
    LeaseRun run(seed);
    run.go();
    ASSERT_FALSE(run.failure) << *run.failure << "\n" << cluster_report(run.c);
    ASSERT_GT(run.leases[0].live_until_ms, 0) << "premise: some keep-alive was answered";
  });
}

TEST(KvLeasesUnderFaults, ALeaseThatIsGoneTookAllItsKeysAtOneRevision) {
  for_each_seed(seed_count(200, 10000), [](uint64_t seed) {
    LeaseRun run(seed);
    run.go();
    ASSERT_FALSE(run.failure) << *run.failure;
    ASSERT_TRUE(settle(run.c)) << cluster_report(run.c);
    for (int i = 0; i < run.c.size(); ++i) {
      SCOPED_TRACE("member " + std::to_string(i));
      const mvcc::KvStore& store = store_of(run.c, i);
      auto history = history_of(store);
      for (const TrackedLease& l : run.leases) {
        bool kept_to_the_end = l.kept_alive && l.stop_keeping_at > 1e8;
        if (run.has(i, l.id)) {
          // (One kept alive to the end may still be gone: keep-alives failed for a TTL while
          // the cluster was cut. The no-early-expiry test checks that no answer lied.)
          EXPECT_TRUE(kept_to_the_end) << "lease " << l.id << " was left to expire";
          continue;
        }
        std::set<int64_t> deleted_at;
        for (const std::string& key : l.keys) {
          EXPECT_TRUE(store.range({key, ""}).kvs.empty()) << key << " leaked";
          for (const auto& [revision, events] : history) {
            for (const auto& e : events) {
              if (e.kv.key == key && e.type == mvcc::Event::Type::kDelete) {
                deleted_at.insert(revision);
              }
            }
          }
        }
        EXPECT_LE(deleted_at.size(), 1u) << "lease " << l.id << "'s keys went at "
                                         << deleted_at.size() << " revisions";
      }
    }
  });
}

TEST(KvLeasesUnderFaults, MembersEndWithTheSameLeases) {
  for_each_seed(seed_count(200, 10000), [](uint64_t seed) {
    LeaseRun run(seed);
    run.go();
    ASSERT_FALSE(run.failure) << *run.failure;
    ASSERT_TRUE(settle(run.c)) << cluster_report(run.c);
    auto first = run.node(0)->leases();
    for (int i = 1; i < run.c.size(); ++i) {
      EXPECT_EQ(run.node(i)->leases(), first) << "member " << i;
    }
  });
}

}  // namespace
}  // namespace etcdlab::sim::testing
