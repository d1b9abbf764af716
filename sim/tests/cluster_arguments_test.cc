// The simulator refuses bad arguments with an exception that names the valid range, before it
// changes anything: a wrong node index was an out-of-bounds write (isolate, cut) and a negative
// duration ran time backwards. Python maps these to IndexError and ValueError.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "etcdlab/sim/cluster.h"

namespace etcdlab::sim {
namespace {

ClusterOptions small() {
  ClusterOptions o;
  o.nodes = 3;
  return o;
}

template <typename F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(nothing thrown)";
}

TEST(ClusterArguments, NodeIndexesOutsideTheClusterAreOutOfRange) {
  Cluster c(small());
  for (int bad : {-1, 3, 9}) {
    EXPECT_THROW(c.isolate(bad), std::out_of_range) << bad;
    EXPECT_THROW(c.cut(0, bad), std::out_of_range) << bad;
    EXPECT_THROW(c.cut(bad, 0, true), std::out_of_range) << bad;
    EXPECT_THROW(c.crash(bad), std::out_of_range) << bad;
    EXPECT_THROW(c.restart(bad), std::out_of_range) << bad;
    EXPECT_THROW(c.node(bad), std::out_of_range) << bad;
    EXPECT_THROW(c.log(bad), std::out_of_range) << bad;
    EXPECT_THROW(c.partition({{0, bad}}), std::out_of_range) << bad;
    EXPECT_THROW(c.propose("x", bad), std::out_of_range) << bad;
    EXPECT_THROW(c.add_voter(bad), std::out_of_range) << bad;
    EXPECT_THROW(c.transfer_leader(bad), std::out_of_range) << bad;
  }
  EXPECT_EQ(message_of([&] { c.isolate(5); }), "no node 5: nodes are 0 .. 2");
  EXPECT_THROW(c.op(0), std::out_of_range);
  EXPECT_THROW(c.op(1), std::out_of_range);  // no operation yet
  EXPECT_EQ(message_of([&] { c.op(7); }), "no operation 7: operations are 1 .. 0");
}

TEST(ClusterArguments, RefusedCallsChangeNothing) {
  Cluster a(small()), b(small());
  EXPECT_THROW(a.isolate(3), std::out_of_range);
  EXPECT_THROW(a.partition({{0, 1}, {1, 2}}), std::invalid_argument);
  EXPECT_THROW(a.crash(0, static_cast<CrashMode>(9)), std::invalid_argument);
  a.run_ms(3000);
  b.run_ms(3000);
  EXPECT_EQ(a.trace_hash(), b.trace_hash());
  EXPECT_TRUE(a.node(0).up);
}

TEST(ClusterArguments, OverlappingPartitionGroupsAndSelfCutsAreInvalid) {
  Cluster c(small());
  EXPECT_EQ(message_of([&] { c.partition({{0, 1}, {1, 2}}); }),
            "node 1 is in two groups (0 and 1): partition groups must not overlap");
  EXPECT_THROW(c.cut(1, 1), std::invalid_argument);
  c.partition({{0}, {1, 2}});  // disjoint groups are fine, and so is leaving a node out
  c.partition({{0, 1}});
}

TEST(ClusterArguments, DurationsMustBeFiniteAndNotNegative) {
  Cluster c(small());
  EXPECT_THROW(c.run_ms(-5), std::invalid_argument);
  EXPECT_THROW(c.run_ms(NAN), std::invalid_argument);
  EXPECT_THROW(c.run_ms(INFINITY), std::invalid_argument);
  EXPECT_THROW(c.run_until([] { return false; }, -1), std::invalid_argument);
  EXPECT_EQ(c.now_ms(), 0);
  c.run_ms(0);
}

TEST(ClusterArguments, UnknownCrashModesAreInvalid) {
  Cluster c(small());
  EXPECT_THROW(c.crash(0, static_cast<CrashMode>(-1)), std::invalid_argument);
  EXPECT_NE(message_of([&] { c.crash(0, static_cast<CrashMode>(4)); }).find("torn_write"),
            std::string::npos);
  SimFileSystem disk;
  EXPECT_THROW(disk.crash(1, static_cast<CrashMode>(4)), std::invalid_argument);
}

TEST(ClusterArguments, BadOptionsAreInvalid) {
  auto refused = [](auto change) {
    ClusterOptions o = small();
    change(o);
    EXPECT_THROW(Cluster c(o), std::invalid_argument);
  };
  refused([](ClusterOptions& o) { o.nodes = 0; });
  refused([](ClusterOptions& o) { o.nodes = 65; });
  refused([](ClusterOptions& o) { o.initial_voters = -2; });
  refused([](ClusterOptions& o) { o.initial_voters = 4; });
  refused([](ClusterOptions& o) { o.heartbeat_ticks = 0; });
  refused([](ClusterOptions& o) { o.election_ticks = 1; });
  refused([](ClusterOptions& o) { o.max_inflight = 0; });
  refused([](ClusterOptions& o) { o.tick_ms = 0; });  // time would never pass
  refused([](ClusterOptions& o) { o.tick_ms = NAN; });
  refused([](ClusterOptions& o) { o.fsync_min_ms = -1; });
  refused([](ClusterOptions& o) { o.fsync_max_ms = 0.1; });  // below fsync_min_ms
  refused([](ClusterOptions& o) { o.client_retry_ms = 0; });
  refused([](ClusterOptions& o) { o.client_deadline_ms = -1; });
  refused([](ClusterOptions& o) { o.network.delay_min_ms = -1; });
  refused([](ClusterOptions& o) { o.network.delay_max_ms = 0.5; });  // below delay_min_ms
  refused([](ClusterOptions& o) { o.network.drop = 1.5; });
  refused([](ClusterOptions& o) { o.network.duplicate = -0.1; });
  refused([](ClusterOptions& o) { o.network.reorder = NAN; });
  refused([](ClusterOptions& o) { o.network.reorder_max_ms = -1; });
  Cluster c(small());
  NetworkOptions lossy;
  lossy.drop = 2;
  EXPECT_THROW(c.set_network(lossy), std::invalid_argument);
}

}  // namespace
}  // namespace etcdlab::sim
