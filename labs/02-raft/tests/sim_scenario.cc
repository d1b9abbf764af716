#include "sim_scenario.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <exception>

#include "etcdlab/sim/app.h"

namespace etcdlab::lab2 {
namespace {

ClusterOptions recording(ClusterOptions o) {
  if (verbose_log()) o.record_trace = true;  // keeps events; the run itself is the same
  o.view_frames = std::max(o.view_frames, kTraceFrames);  // the trace file of a failure
  return o;
}

std::string node_name(std::optional<int> node) {
  return node ? "n" + std::to_string(*node + 1) : std::string("none");
}

bool shown(const sim::TraceEvent& e) {
  using K = sim::TraceEvent::Kind;
  if (debug_log()) return e.kind != K::kTick;
  return e.kind == K::kLog || e.kind == K::kCrash || e.kind == K::kRestart || e.kind == K::kFault ||
         e.kind == K::kSnapshot || e.kind == K::kClientDone;
}

}  // namespace

Cluster::Cluster(const ClusterOptions& options)
    : sim::Cluster(recording(options)),
      replay_(testing::replay_command(options.seed, ETCDLAB_LAB_NUMBER)),
      test_(running_test_name()),
      uncaught_(std::uncaught_exceptions()),
      report_([this] { return cluster_report(*this, replay_); }, "last events of node",
              [this] { return trace_line(); }) {}

const std::string& Cluster::trace_line() {
  if (trace_line_.empty()) trace_line_ = write_failure_trace(*this, test_, replay_);
  return trace_line_;
}

Cluster::~Cluster() {
  if (std::uncaught_exceptions() > uncaught_ && trace_line_.empty()) {
    // An exception ends the test through this cluster (an invariant broke; its message holds
    // the report, printed once gtest catches it): the trace is written now or never.
    try {
      std::printf("%s\n", trace_line().c_str());
      std::fflush(stdout);
    } catch (...) {  // never throw while unwinding
    }
  }
  if (!verbose_log()) return;
  std::printf("-- the whole run of seed %llu (ETCDLAB_LOG=%s), %zu events:\n",
              static_cast<unsigned long long>(options().seed), debug_log() ? "debug" : "info",
              trace().all().size());
  for (const auto& e : trace().all()) {
    if (shown(e)) std::printf("    %s\n", e.to_string().c_str());
  }
  std::fflush(stdout);
}

std::string cluster_report(const sim::Cluster& c, const std::string& replay) {
  std::string out = fmt::format(
      "-- the cluster when the assertion failed: seed {}, t={:.3f} ms, event #{}\n"
      "   (simulator node i is Raft id i + 1, written n<i + 1> in the lines below)\n",
      c.options().seed, c.now_ms(), c.events());
  for (int i = 0; i < c.size(); ++i) {
    sim::NodeView v = c.node(i);
    std::string voters;
    for (NodeId id : v.conf.voters) voters += (voters.empty() ? "" : " ") + std::to_string(id);
    out += fmt::format(
        "  node {} (n{}): {}, {} at term {}, leader {}, commit {}, applied {}, log {}..{}, "
        "snapshot {}, {} restart(s), voters [{}]\n",
        i, i + 1, v.up ? "up" : "DOWN", to_string(v.role), v.term, node_name(v.leader), v.commit,
        v.applied, v.first_index, v.last_index, v.snapshot_index, v.restarts, voters);
  }
  const auto& changes = c.role_changes();
  size_t from = changes.size() > 16 ? changes.size() - 16 : 0;
  out += fmt::format("-- the last {} of {} role changes:\n", changes.size() - from, changes.size());
  for (size_t k = from; k < changes.size(); ++k) {
    const sim::RoleChange& r = changes[k];
    out +=
        fmt::format("  {:>10.3f}ms node {} (n{}): {} at term {}, leader {}\n", r.time_us / 1000.0,
                    r.node, r.node + 1, to_string(r.role), r.term, node_name(r.leader));
  }
  out += c.trace().recent();
  out += "replay: " + replay +
         "  (with ETCDLAB_LOG=info it prints the whole run's role changes and log lines)";
  return out;
}

std::vector<std::string> commands_in_log(const Cluster& c, int node) {
  std::vector<std::string> out;
  for (const Entry& e : c.log(node)) {
    auto [op, data] = sim::decode_command(e.data);
    if (op != 0 && e.type == EntryType::kNormal) out.emplace_back(data);
  }
  return out;
}

}  // namespace etcdlab::lab2
