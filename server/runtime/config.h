#pragma once
// A member's configuration: etcd's flags (main.cc parses them), with etcd's defaults.

#include <cstdint>
#include <string>
#include <vector>

#include "../node/auto_compactor.h"
#include "tls_files.h"

namespace etcdlab::runtime {

struct ServerConfig {
  std::string name = "default";
  std::string data_dir;
  std::vector<std::string> listen_client_urls = {"http://127.0.0.1:2379"};
  std::vector<std::string> advertise_client_urls;  // default: the listen URLs
  std::vector<std::string> listen_peer_urls = {"http://127.0.0.1:2380"};
  std::vector<std::string> initial_advertise_peer_urls;  // default: the listen URLs
  std::string initial_cluster;  // "name=http://host:port,..." (default: this member alone)
  std::string initial_cluster_state = "new";  // "new" or "existing"
  std::string initial_cluster_token = "etcd-cluster";
  int heartbeat_ms = 100;
  int election_ms = 1000;
  uint64_t snapshot_count = 100000;
  uint64_t max_request_bytes = 1572864;
  uint64_t max_txn_ops = 128;
  int64_t quota_backend_bytes = 0;   // 0: 2 GiB (etcd's default); negative: no quota
  server::AutoCompaction auto_compaction;  // --auto-compaction-mode and -retention
  bool enable_failpoints = false;    // serve /etcdlab/failpoints (tests drop peer traffic)
  // The live cluster view (docs/api.md): /etcdlab/state, /etcdlab/events (at most
  // view_max_streams open at once) and the page at /etcdlab/view/, on the client port.
  bool enable_view = false;
  uint64_t view_max_streams = 32;
  uint64_t wal_segment_bytes = 64ULL << 20;  // each WAL segment, preallocated (etcd: 64 MiB)
  int client_read_timeout_ms = 30000;
  uint64_t max_client_connections = 0;  // 0: unlimited (etcd has no limit)
  int request_timeout_ms = 0;  // 0: etcd's, 5 s plus two election timeouts
  // --experimental-watch-progress-notify-interval: how often an idle watcher that asked for
  // progress notifications gets one.
  int64_t watch_progress_notify_ms = 600000;
  // Auth (etcd's flags): the token kind (only etcd's default, "simple"; "jwt" is not built),
  // how long a token lives after its last use, and the bcrypt cost of stored passwords.
  std::string auth_token = "simple";
  int64_t auth_token_ttl_s = 300;
  int bcrypt_cost = 10;
  TlsFiles client_tls;  // for https:// client URLs (--cert-file, --key-file, ...)
  TlsFiles peer_tls;    // for https:// peer URLs, served and dialled (--peer-cert-file, ...)

  // Fills in the defaults that depend on other flags (data dir, advertised URLs, the initial
  // cluster, the request timeout); throws std::invalid_argument for inconsistent flags (an
  // https:// URL without its cert and key files, as etcd).
  void resolve();
  uint64_t quota_bytes() const;  // 0: none
};

// Go's time.ParseDuration of a flag's value, in milliseconds ("10m", "500ms", "1h30m"). Throws
// std::invalid_argument naming the flag.
int64_t parse_duration_flag(const std::string& flag, const std::string& text);

// etcd's --auto-compaction-retention for `mode` ("periodic": a duration such as "1h", "30m",
// "90s" or a bare number of hours; "revision": a number of revisions). Throws
// std::invalid_argument naming the flag.
server::AutoCompaction parse_auto_compaction(const std::string& mode, const std::string& retention);

}  // namespace etcdlab::runtime
