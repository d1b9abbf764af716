// The server's node (KvNode) in the simulator, the way the gateway drives it, under
// partitions, lost, duplicated and reordered messages, crashes and leader changes: what a
// client is told must be what happened, on every member. Every test runs 200 seeds (10,000
// with ETCDLAB_LONG=1); a failure prints its seed and the line that replays it. The Raft
// invariants (one leader per term, log matching, ...) are checked after every event.
//
// Linearizability of the same histories is checked in Python, by the checkers
// (python/tests/test_kv_node_sim.py).
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include "etcdlab/testing/seeds.h"
#include "kv_workload.h"

namespace etcdlab::server {
// For gtest's messages: a member as "id(name learner?)".
inline void PrintTo(const Member& m, std::ostream* os) {
  *os << m.id << "(" << m.name << (m.learner ? " learner" : "") << ")";
}
}  // namespace etcdlab::server

namespace etcdlab::sim::testing {
namespace {

using etcdlab::testing::for_each_seed;
using etcdlab::testing::seed_count;

const std::vector<std::string> kKeys = {"a", "b", "c"};

// Puts (unique values), deletes and linearizable gets through random nodes, 3 nodes, while
// the schedule faults the cluster; ends healed, with every operation done.
struct Workload {
  explicit Workload(uint64_t seed) : rng(seed * 7919 + 1), c(kv_cluster(seed, 3)) {}

  void go(int rounds = 25) {
    FaultSchedule faults(c, rng, 1);
    c.run_until([&] { return c.leader().has_value(); }, 10000);
    for (int r = 0; r < rounds; ++r) {
      for (uint64_t k = rng.uniform(1, 3); k > 0; --k) submit();
      faults.next();
      c.run_ms(static_cast<double>(rng.uniform(5, 300)));
    }
    faults.end();
    ASSERT_TRUE(settle(c)) << "the cluster did not settle after the faults\n"
                           << cluster_report(c);
  }

  void submit() {
    std::optional<int> via;
    if (rng.chance(0.5)) via = static_cast<int>(rng.uniform(0, c.size() - 1));
    ClientOp op;
    op.key = kKeys[rng.uniform(0, kKeys.size() - 1)];
    double what = static_cast<double>(rng.uniform(0, 99)) / 100.0;
    if (what < 0.5) {
      op.kind = ClientOp::Kind::kPut;
      op.value = "v" + std::to_string(c.history().size() + 1);
      op.op = c.propose(put_request(op.key, op.value), via);
    } else if (what < 0.65) {
      op.kind = ClientOp::Kind::kDelete;
      op.op = c.propose(delete_request(op.key), via);
    } else {
      op.kind = ClientOp::Kind::kGet;
      op.op = c.read(get_query(op.key), via);
    }
    ops.push_back(op);
  }

  Rng rng;
  Cluster c;
  std::vector<ClientOp> ops;
};

// Where each value was put, in one member's history: value -> revisions.
std::map<std::string, std::vector<int64_t>> puts_by_value(
    const std::map<int64_t, std::vector<mvcc::Event>>& history) {
  std::map<std::string, std::vector<int64_t>> out;
  for (const auto& [revision, events] : history) {
    for (const auto& e : events) {
      if (e.type == mvcc::Event::Type::kPut) out[e.kv.value].push_back(revision);
    }
  }
  return out;
}

// What the runs did, so a reader can see the suites are not vacuous (printed once per test).
struct Tally {
  std::map<std::string, uint64_t> n;
  void count(const Workload& run) {
    for (const ClientOp& o : run.ops) {
      const char* kind = o.kind == ClientOp::Kind::kPut      ? "put"
                         : o.kind == ClientOp::Kind::kDelete ? "delete"
                                                             : "get";
      ++n[std::string(kind) + " " + to_string(run.c.op(o.op).outcome)];
    }
    for (const auto& rc : run.c.role_changes()) n["became leader"] += rc.role == Role::kLeader;
    for (int i = 0; i < run.c.size(); ++i) n["restarts"] += run.c.node(i).restarts;
  }
  void print(const char* what) const {
    std::string line;
    for (const auto& [k, v] : n) line += (line.empty() ? "" : ", ") + std::to_string(v) + " " + k;
    std::printf("[tally] %s: %s\n", what, line.c_str());
  }
};

TEST(KvNodeUnderFaults, EveryAnswerIsItsOwnRequestsAndIsOnEveryMember) {
  Tally tally;
  for_each_seed(seed_count(200, 10000), [&](uint64_t seed) {
    Workload run(seed);
    run.go();
    if (::testing::Test::HasFatalFailure()) return;
    tally.count(run);
    for (int i = 0; i < run.c.size(); ++i) {
      SCOPED_TRACE("member " + std::to_string(i));
      auto history = history_of(store_of(run.c, i));
      for (const ClientOp& o : run.ops) {
        const Operation& op = run.c.op(o.op);
        if (op.outcome != Outcome::kOk || o.kind == ClientOp::Kind::kGet) continue;
        KvOutput out = decode_output(op.output);
        ASSERT_EQ(out.kind, KvOutput::Kind::kWrite) << describe(op) << ": " << out.error;
        int64_t revision = out.write.revision;
        auto at = history.find(revision);
        if (o.kind == ClientOp::Kind::kPut) {
          // The answer's revision is the revision at which this very put was applied.
          ASSERT_NE(at, history.end())
              << describe(op) << " was told revision " << revision << ", which holds nothing";
          ASSERT_EQ(at->second.size(), 1u) << describe(op);
          const mvcc::Event& e = at->second[0];
          EXPECT_EQ(e.type, mvcc::Event::Type::kPut) << describe(op);
          EXPECT_EQ(e.kv.key, o.key) << describe(op) << " got another request's answer";
          EXPECT_EQ(e.kv.value, o.value) << describe(op) << " got another request's answer";
        } else if (const auto* del = std::get_if<mvcc::DeleteResult>(&out.write.value);
                   del && del->deleted > 0) {
          ASSERT_NE(at, history.end()) << describe(op) << " deleted at " << revision;
          EXPECT_EQ(at->second[0].type, mvcc::Event::Type::kDelete) << describe(op);
          EXPECT_EQ(at->second[0].kv.key, o.key) << describe(op);
        }
      }
    }
  });
  tally.print("all seeds");
}

TEST(KvNodeUnderFaults, AWriteIsAppliedAtMostOnceAndARefusedOneNever) {
  for_each_seed(seed_count(200, 10000), [](uint64_t seed) {
    Workload run(seed);
    run.go();
    if (::testing::Test::HasFatalFailure()) return;
    auto values = puts_by_value(history_of(store_of(run.c, 0)));
    for (const ClientOp& o : run.ops) {
      if (o.kind != ClientOp::Kind::kPut) continue;
      const Operation& op = run.c.op(o.op);
      auto it = values.find(o.value);
      size_t applied = it == values.end() ? 0 : it->second.size();
      EXPECT_LE(applied, 1u) << describe(op) << " (" << o.value << ") applied " << applied
                             << " times";
      if (op.outcome == Outcome::kOk) {
        EXPECT_EQ(applied, 1u) << describe(op) << " was acked";
      }
      if (op.outcome == Outcome::kFailed) {
        EXPECT_EQ(applied, 0u) << describe(op) << " failed";
      }
    }
  });
}

TEST(KvNodeUnderFaults, MembersEndInTheSameState) {
  for_each_seed(seed_count(200, 10000), [](uint64_t seed) {
    Workload run(seed);
    run.go(15);
    if (::testing::Test::HasFatalFailure()) return;
    run.c.check_invariants();
    const auto& first = store_of(run.c, 0);
    for (int i = 1; i < run.c.size(); ++i) {
      const auto& other = store_of(run.c, i);
      EXPECT_EQ(other.revision(), first.revision()) << "member " << i;
      EXPECT_EQ(other.hash_kv(0), first.hash_kv(0)) << "member " << i;
    }
  });
}

// Membership changes through KvNode's rules (etcd's), while the network and the nodes fail:
// one leader per term (checked after every event), and at the end every member agrees on the
// data and on the member list.
TEST(KvNodeUnderFaults, MembershipChangesKeepMembersInAgreement) {
  for_each_seed(seed_count(200, 10000), [](uint64_t seed) {
    Rng rng(seed * 31 + 7);
    ClusterOptions o = kv_cluster(seed, 5);
    o.initial_voters = 3;
    Cluster c(o);
    FaultSchedule faults(c, rng, 1);
    c.run_until([&] { return c.leader().has_value(); }, 10000);
    std::vector<uint64_t> changes;
    for (int r = 0; r < 20; ++r) {
      if (rng.chance(0.3)) {
        int node = static_cast<int>(rng.uniform(0, 4));
        double what = static_cast<double>(rng.uniform(0, 99)) / 100.0;
        changes.push_back(what < 0.4   ? c.add_voter(node)
                          : what < 0.6 ? c.add_learner(node)
                                       : c.remove_node(node));
      }
      c.propose(put_request(kKeys[rng.uniform(0, 2)], "m" + std::to_string(r)));
      faults.next();
      c.run_ms(static_cast<double>(rng.uniform(5, 300)));
    }
    faults.end();
    ASSERT_TRUE(settle(c)) << cluster_report(c);
    std::optional<std::vector<server::Member>> members;
    std::optional<uint32_t> hash;
    for (int i = 0; i < c.size(); ++i) {
      const server::KvNode* node = kv_node_of(c.logic(i));
      if (node == nullptr || !in_leaders_conf(c, i)) continue;
      SCOPED_TRACE("member " + std::to_string(i));
      if (!members) {
        members = node->members();
        hash = node->store().hash_kv(0);
        continue;
      }
      EXPECT_EQ(node->members(), *members) << cluster_report(c);
      EXPECT_EQ(node->store().hash_kv(0), *hash);
    }
  });
}

// A member whose database passes the quota raises NOSPACE through the log: every member then
// holds the alarm, and refuses puts.
TEST(KvNodeUnderFaults, NoSpaceRaisedOnOneMemberIsRaisedOnAll) {
  for_each_seed(seed_count(200, 10000), [](uint64_t seed) {
    Rng rng(seed * 131 + 3);
    KvSimOptions kv;
    kv.quota_bytes = 96 << 10;  // a few dozen puts of 2 KiB past an empty store's pages
    Cluster c(kv_cluster(seed, 3, kv));
    FaultSchedule faults(c, rng, 1);
    c.run_until([&] { return c.leader().has_value(); }, 10000);
    std::string big(2048, 'x');
    auto raised_somewhere = [&] {
      for (int i = 0; i < c.size(); ++i) {
        const server::KvNode* node = kv_node_of(c.logic(i));
        if (node != nullptr && !node->alarms().empty()) return true;
      }
      return false;
    };
    // Puts through any member, under faults, until some member raised the alarm (and a few
    // rounds more: the alarm must reach members that were cut off when it was raised).
    int after = 0;
    for (int r = 0; r < 300 && after < 8; ++r) {
      for (int k = 0; k < 3; ++k) {
        std::optional<int> via;
        if (rng.chance(0.5)) via = static_cast<int>(rng.uniform(0, 2));
        c.propose(put_request("k" + std::to_string(r * 3 + k), big), via);
      }
      if (r % 4 == 0) faults.next();
      c.run_ms(static_cast<double>(rng.uniform(20, 150)));
      if (after > 0 || raised_somewhere()) ++after;
    }
    faults.end();
    ASSERT_TRUE(settle(c)) << cluster_report(c);
    ASSERT_TRUE(raised_somewhere()) << "premise: the puts passed the quota";
    for (int i = 0; i < c.size(); ++i) {
      auto alarms = kv_node_of(c.logic(i))->alarms();
      bool nospace = std::any_of(alarms.begin(), alarms.end(), [](const server::Alarm& a) {
        return a.type == server::AlarmType::kNoSpace;
      });
      EXPECT_TRUE(nospace) << "member " << i << " does not hold the NOSPACE alarm";
    }
    // And a put now is refused wherever it goes.
    uint64_t late = c.propose(put_request("late", "x"));
    c.run_until([&] { return c.op(late).done(); }, 10000);
    const Operation& op = c.op(late);
    ASSERT_TRUE(op.done());
    if (op.outcome == Outcome::kOk) {
      KvOutput out = decode_output(op.output);
      EXPECT_EQ(out.write.error, server::RequestError::kNoSpace) << "a put was applied";
    } else {
      EXPECT_NE(op.outcome, Outcome::kUnknown);
      EXPECT_EQ(decode_output(op.output).error, server::rpctypes::kNoSpace);
    }
  });
}

}  // namespace
}  // namespace etcdlab::sim::testing
