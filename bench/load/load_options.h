#pragma once
// What `etcdlab-bench put|range|mixed|txn|lease-churn|lease-keepalive` is asked to do (filled from
// the command line).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace etcdlab::bench {

// kLeaseChurn: one operation is a grant (the server picks the id), a put attached to it and
// its revoke, each waiting for the answer before the next. kLeaseKeepAlive: each client grants
// one lease before the run (not measured) and keeps it alive, one keep-alive per request; the
// leases are revoked after the run.
// kTxn: each request is a compare-and-swap-shaped txn on one key: compare its mod_revision
// (< 2^62: it always holds), then put it, else range it; one Raft round, like a put, plus the
// txn's validation, compare and response.
enum class Workload { kPut, kRange, kMixed, kLeaseChurn, kLeaseKeepAlive, kTxn };

// The door the requests go through: etcd's v3 JSON gateway over HTTP/1.1 (http_load.h) or
// etcd's gRPC service etcdserverpb.KV over HTTP/2 (grpc_load.h; put, range, mixed and txn).
enum class Protocol { kHttp, kGrpc };

struct LoadOptions {
  Workload workload = Workload::kPut;
  Protocol protocol = Protocol::kHttp;
  std::vector<std::string> endpoints = {"127.0.0.1:2379"};  // host:port; connection i uses
                                                            // endpoint i % size
  uint32_t conns = 0;                                       // TCP connections (0: one per client)
  uint32_t clients = 1;  // requests outstanding at once, spread over the connections
  uint32_t threads = 1;  // event-loop threads (gRPC: completion queues, one thread each);
                         // connections are spread over them
  uint64_t total = 0;    // measured requests to send (0: run for `duration`)
  double duration = 0;   // seconds to measure (used when total == 0; 10 if both are 0)
  double warmup = 0;     // seconds of load before measuring starts
  double rate = 0;       // requests per second over all clients (0: as fast as answered)
  uint32_t key_size = 8;
  uint32_t val_size = 8;
  uint64_t key_space = 1;   // keys are key_offset + k for k in [0, key_space), each written
                            // as key_size bytes
  uint64_t key_offset = 0;  // so that a second run writes keys the first did not (bench/scale.py
                            // loads in two parts and measures the last one alone)
  bool sequential_keys = false;
  uint32_t range_keys = 1;   // range reads: each reads this many consecutive keys, all within
                             // the key space (1: a single-key range)
  bool linearizable = true;  // range reads: linearizable, else serializable
  double read_ratio = 0.5;   // mixed: share of requests that are ranges
  int64_t lease_ttl = 60;    // lease workloads: the TTL granted, in seconds
  double timeout = 10;       // seconds a request may take before it counts as an error
  uint64_t seed = 1;
  bool json = false;
  std::string timeline;  // --timeline FILE: write the run second by second there (timeline.h)
  // gRPC over TLS (etcdctl's --cacert, --cert, --key): set cacert to dial with TLS.
  std::string cacert;
  std::string cert;
  std::string key;
  // --user name:password: each connection (gRPC: each channel) signs in once through
  // /v3/auth/authenticate (gRPC: etcdserverpb.Auth) and sends the token with every request
  // (the Authorization header; gRPC: "token" metadata), signing in again after the failures
  // needs_new_token names. Empty user: no auth.
  std::string user;
  std::string password;
};

// True for the failures after which a --user client signs in again, as etcd's clientv3 does
// (shouldRefreshToken): the token is unknown or expired, or was issued before the auth
// store's revision moved on.
inline bool needs_new_token(std::string_view failure) {
  return failure.find("invalid auth token") != std::string_view::npos ||
         failure.find("revision of auth store is old") != std::string_view::npos;
}

// Splits --user's "name:password" at the first ':' into options.user and options.password;
// throws std::invalid_argument when there is no ':' or no name.
void set_user(LoadOptions& options, const std::string& name_colon_password);

}  // namespace etcdlab::bench
