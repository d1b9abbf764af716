// etcdlab-bench: benchmarks that print figures (never pass/fail). See `etcdlab-bench --help`.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <exception>

#include "bench_command.h"

int main(int argc, char** argv) {
  CLI::App app{"etcdlab-bench: etcdlab's benchmarks and load generator"};
  app.require_subcommand(1);
  spdlog::set_level(spdlog::level::warn);
  etcdlab::bench::add_wal_command(app);
  etcdlab::bench::add_mvcc_command(app);
  etcdlab::bench::add_watch_command(app);
  etcdlab::bench::add_sim_commands(app);
  etcdlab::bench::add_load_commands(app);
  etcdlab::bench::add_ceiling_command(app);
  etcdlab::bench::add_grpc_ceiling_command(app);
  try {
    CLI11_PARSE(app, argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "etcdlab-bench: {}\n", e.what());
    return 1;
  }
  return 0;
}
