#include "sim_scenario.h"

#include <fmt/format.h>

#include <cstdio>

#include "etcdlab/sim/app.h"

namespace etcdlab::lab2 {
namespace {

ClusterOptions recording_if_verbose(ClusterOptions o) {
  if (verbose_log()) o.record_trace = true;  // keeps events; the run itself is the same
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
    : sim::Cluster(recording_if_verbose(options)),
      replay_(testing::replay_command(options.seed, ETCDLAB_LAB_NUMBER)),
      report_([this] { return cluster_report(*this, replay_); }, "last events of node") {}

Cluster::~Cluster() {
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
