// `etcdlab-bench sim`: how fast the simulator runs a 5-node cluster under client load, with
// the invariant checks off and on (events per second of wall time). And `etcdlab-bench
// sim-faults`: many random fault schedules of 10 virtual seconds each, invariants checked.
#include <fmt/format.h>

#include <chrono>

#include "bench_command.h"
#include "etcdlab/random.h"
#include "etcdlab/sim/cluster.h"

namespace etcdlab::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct LoadResult {
  uint64_t events = 0;
  double seconds = 0;
  uint64_t committed = 0;
};

// Keeps `outstanding` proposals in flight for `virtual_seconds` of simulated time.
LoadResult run_load(bool invariants, int nodes, int outstanding, double virtual_seconds,
                    uint64_t seed) {
  sim::ClusterOptions o;
  o.nodes = nodes;
  o.seed = seed;
  o.check_invariants = invariants;
  sim::Cluster c(o);
  c.run_until([&] { return c.leader().has_value(); }, 10000);
  std::vector<uint64_t> pending;
  uint64_t done = 0, start_events = c.events();
  auto start = Clock::now();
  double end_ms = c.now_ms() + virtual_seconds * 1000;
  int next = 0;
  while (c.now_ms() < end_ms) {
    while (static_cast<int>(pending.size()) < outstanding) {
      pending.push_back(c.propose("load-" + std::to_string(next++)));
    }
    c.run_ms(5);
    std::erase_if(pending, [&](uint64_t id) {
      bool finished = c.op(id).done();
      done += finished && c.op(id).outcome == sim::Outcome::kOk;
      return finished;
    });
  }
  LoadResult r;
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  r.events = c.events() - start_events;
  r.committed = done;
  return r;
}

void load_command(double virtual_seconds, int outstanding) {
  fmt::print("simulator: 5 nodes, {} proposals in flight, {:.0f} virtual seconds\n", outstanding,
             virtual_seconds);
  fmt::print("{:>12} {:>12} {:>10} {:>14} {:>12}\n", "invariants", "events", "wall s", "events/s",
             "commits");
  for (bool inv : {false, true}) {
    LoadResult r = run_load(inv, 5, outstanding, virtual_seconds, 1);
    fmt::print("{:>12} {:>12} {:>10.2f} {:>14.0f} {:>12}\n", inv ? "on" : "off", r.events,
               r.seconds, r.events / r.seconds, r.committed);
  }
}

void faults_command(int schedules, double virtual_seconds) {
  auto start = Clock::now();
  uint64_t events = 0;
  for (int s = 0; s < schedules; ++s) {
    sim::ClusterOptions o;
    o.seed = static_cast<uint64_t>(s + 1);
    sim::Cluster c(o);
    Rng rng(o.seed);
    double end_ms = virtual_seconds * 1000;
    while (c.now_ms() < end_ms) {
      int n = static_cast<int>(rng.uniform(0, 4));
      switch (rng.uniform(0, 6)) {
        case 0:
          c.crash(n);
          break;
        case 1:
          c.restart(n);
          break;
        case 2:
          c.isolate(n);
          break;
        case 3:
          c.heal();
          break;
        default:
          break;
      }
      for (int k = 0; k < 3; ++k) c.propose("f");
      c.run_ms(static_cast<double>(rng.uniform(100, 1000)));
    }
    events += c.events();
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  fmt::print(
      "{} random fault schedules x {:.0f} virtual s (5 nodes, invariants on): {:.2f} s "
      "wall, {:.0f} events/s\n",
      schedules, virtual_seconds, secs, events / secs);
}

}  // namespace

void add_sim_commands(CLI::App& app) {
  auto seconds = std::make_shared<double>(60);
  auto outstanding = std::make_shared<int>(64);
  CLI::App* load =
      app.add_subcommand("sim", "simulator events/s under load, invariants off and on");
  load->add_option("--seconds", *seconds, "virtual seconds");
  load->add_option("--outstanding", *outstanding, "proposals in flight");
  load->callback([seconds, outstanding] { load_command(*seconds, *outstanding); });

  auto schedules = std::make_shared<int>(1000);
  auto each = std::make_shared<double>(10);
  CLI::App* faults = app.add_subcommand("sim-faults", "random fault schedules, invariants on");
  faults->add_option("--schedules", *schedules, "how many schedules");
  faults->add_option("--seconds", *each, "virtual seconds each");
  faults->callback([schedules, each] { faults_command(*schedules, *each); });
}

}  // namespace etcdlab::bench
