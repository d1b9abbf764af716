#pragma once
// Runs a load against etcd v3 JSON gateways over HTTP/1.1 keep-alive (Boost.Beast, C++20
// coroutines); the implementation is the only load file that includes Beast.
//
// The model, for readers of the figures:
// - Each of `conns` connections goes to endpoints[i % endpoints.size()] and belongs to one of
//   `threads` event loops (i % threads). No pipelining: a connection has one request in
//   flight at a time. The `clients` are spread over the connections (client k uses
//   connection k % conns) and take turns on it, so at most min(clients, conns) requests are
//   outstanding; with more clients than connections each client's latency includes the wait
//   for its connection. Connections that get no client are not opened.
// - Clients are closed-loop: a client's next request is due when its previous answer arrives.
//   With --rate, requests are also given slots start + n/rate (per event loop, rate/threads),
//   and a request is due at the later of the two. Latency is measured from when the request
//   was due, not from when it was written, so a server that falls behind the rate shows it in
//   the latency (no coordinated omission).
// - Requests due before the end of the warmup are sent but not counted. --total counts
//   measured requests; --duration stops sending requests due after the end.
// - Lease workloads (load_options.h): a churn operation is three requests in a row (grant, put
//   with the lease, revoke) and counts once, its latency the three together; keep-alive
//   leases are granted before the run and revoked after it, neither measured.
// - An answer counts as an error when its status is not 200 or a 200 body lacks "header"
//   (a grant: "ID"; a keep-alive: "TTL", which an expired lease's answer lacks);
//   the kind is "HTTP <status>: <message>". Connection failures count as errors of kind
//   "<phase>: <reason>" and the connection is reopened (after 100 ms when connecting failed).

#include "load_options.h"
#include "load_report.h"

namespace etcdlab::bench {

// Runs the load `options` describes and returns what was measured. Throws on bad options or
// an endpoint that does not resolve.
[[nodiscard]] LoadResult run_http_load(const LoadOptions& options);

}  // namespace etcdlab::bench
