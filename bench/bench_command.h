#pragma once
// Each benchmark registers one subcommand of etcdlab-bench.
#include <CLI/CLI.hpp>

namespace etcdlab::bench {

// `etcdlab-bench wal`: WAL append+sync throughput against the disk's raw fdatasync rate.
void add_wal_command(CLI::App& app);

// `etcdlab-bench mvcc`: the MVCC store's puts, reads, ranges, compaction and memory per key.
void add_mvcc_command(CLI::App& app);

// `etcdlab-bench watch-catch-up`: watchers far behind catching up from the store's history.
void add_watch_command(CLI::App& app);

// `etcdlab-bench sim` and `sim-faults`: the simulator's speed.
void add_sim_commands(CLI::App& app);

// `etcdlab-bench put`, `range`, `mixed`, `txn` and the lease loads: load through the etcd v3
// JSON gateway over HTTP/1.1 or (--protocol grpc) etcd's gRPC KV service, for etcdlab and etcd
// alike (bench/load/).
void add_load_commands(CLI::App& app);

// `etcdlab-bench ceiling-server`: a trivial one-thread HTTP server, the ceiling of the HTTP path.
void add_ceiling_command(CLI::App& app);

// `etcdlab-bench grpc-ceiling-server`: etcdserverpb.KV with fixed answers, the ceiling of gRPC.
void add_grpc_ceiling_command(CLI::App& app);

}  // namespace etcdlab::bench
