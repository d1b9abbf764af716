// The simulator's arguments from outside (tests, Python): checked before anything changes, so
// a bad one is an exception that names the valid range, never a wild index or an endless loop.
#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "cluster_impl.h"

namespace etcdlab::sim {

void check_ms(double ms, double min, const char* what) {
  if (!std::isfinite(ms) || ms < min) {
    throw std::invalid_argument(fmt::format("{} must be a finite number of ms >= {}, not {}",
                                            what, min, ms));
  }
}

void check_probability(double p, const char* what) {
  if (!(p >= 0 && p <= 1)) {
    throw std::invalid_argument(fmt::format("{} is a probability in [0, 1], not {}", what, p));
  }
}

void check_network(const NetworkOptions& n) {
  check_ms(n.delay_min_ms, 0, "delay_min_ms");
  check_ms(n.delay_max_ms, n.delay_min_ms, "delay_max_ms (at least delay_min_ms)");
  check_probability(n.drop, "drop");
  check_probability(n.duplicate, "duplicate");
  check_probability(n.reorder, "reorder");
  check_ms(n.reorder_max_ms, 0, "reorder_max_ms");
}

void check_options(const ClusterOptions& o) {
  if (o.nodes < 1 || o.nodes > 64) {
    throw std::invalid_argument(fmt::format("a cluster has 1 to 64 nodes, not {}", o.nodes));
  }
  if (o.initial_voters == 0 || o.initial_voters < -1 || o.initial_voters > o.nodes) {
    throw std::invalid_argument(fmt::format(
        "initial_voters must be in [1, nodes={}] (or -1 for all), not {}", o.nodes,
        o.initial_voters));
  }
  if (o.heartbeat_ticks < 1 || o.election_ticks <= o.heartbeat_ticks) {
    throw std::invalid_argument(
        fmt::format("need 1 <= heartbeat_ticks < election_ticks, not heartbeat_ticks={} and "
                    "election_ticks={}",
                    o.heartbeat_ticks, o.election_ticks));
  }
  if (o.max_inflight < 1) throw std::invalid_argument("max_inflight must be at least 1");
  check_ms(o.tick_ms, 0.001, "tick_ms");  // a tick every 0 us would never let time pass
  check_ms(o.fsync_min_ms, 0, "fsync_min_ms");
  check_ms(o.fsync_max_ms, o.fsync_min_ms, "fsync_max_ms (at least fsync_min_ms)");
  check_ms(o.client_retry_ms, 0.001, "client_retry_ms");
  check_ms(o.client_deadline_ms, 0, "client_deadline_ms");
  check_network(o.network);
}

void check_crash_mode(CrashMode mode) {
  switch (mode) {
    case CrashMode::kDropUnsynced:
    case CrashMode::kRandomPrefix:
    case CrashMode::kTornWrite:
    case CrashMode::kAny:
      return;
  }
  throw std::invalid_argument(
      fmt::format("crash mode {} is none of drop_unsynced, random_prefix, torn_write, any",
                  static_cast<int>(mode)));
}

}  // namespace etcdlab::sim
