#pragma once
// Runs a load against etcd's gRPC service etcdserverpb.KV (Put, Range, Txn) over HTTP/2 with
// gRPC C++'s asynchronous API; the implementation is the only load file that includes the
// generated gRPC code (etcdlab_proto), so this header stays light.
//
// The model, for readers of the figures (where it differs from http_load.h's, it says so):
// - `conns` channels, each its own HTTP/2 connection (a local subchannel pool: gRPC would
//   otherwise share one connection between channels to the same target); channel i goes to
//   endpoints[i % endpoints.size()] and is polled by completion queue i % threads, each
//   queue drained by one thread of this tool.
// - Client k uses channel k % conns. Unlike HTTP/1.1, HTTP/2 multiplexes: every client has
//   its own stream, so `clients` requests are outstanding at once whatever `conns` is (with
//   fewer connections than clients they share connections, not turns).
// - Closed loop, --rate slots, warmup, --total and --duration: as in http_load.h (latency
//   from when a request was due; slots per completion queue at rate/threads).
// - Channels use the minimal filter stack with deadline checks, and no retries (the cheapest
//   client gRPC C++ offers: the tool shares the cores with the servers it measures).
// - Each request has a deadline of --timeout. An answer counts as an error when its status is
//   not OK or it lacks a header; the kind is "gRPC <CODE>: <message>", e.g. "gRPC
//   UNAVAILABLE: etcdserver: no leader". After UNAVAILABLE (no connection, or no leader) the
//   client waits 100 ms before its next request, so a dead endpoint is not spun on.
// - Workloads: put, range (linearizable or serializable), mixed and txn, with the same keys,
//   values and txn shape as the HTTP mode (request_source.h). The lease workloads are HTTP only.

#include "load_options.h"
#include "load_report.h"

namespace etcdlab::bench {

// Runs the load `options` describes over gRPC and returns what was measured. Throws on bad
// options or a workload the gRPC mode does not have.
[[nodiscard]] LoadResult run_grpc_load(const LoadOptions& options);

}  // namespace etcdlab::bench
