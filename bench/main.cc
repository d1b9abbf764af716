// etcdlab-bench: benchmarks that print figures (never pass/fail). See `etcdlab-bench --help`.
#include <spdlog/spdlog.h>

#include "bench_command.h"

int main(int argc, char** argv) {
  CLI::App app{"etcdlab-bench: etcdlab's benchmarks and load generator"};
  app.require_subcommand(1);
  spdlog::set_level(spdlog::level::warn);
  etcdlab::bench::add_wal_command(app);
  etcdlab::bench::add_mvcc_command(app);
  etcdlab::bench::add_sim_commands(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
