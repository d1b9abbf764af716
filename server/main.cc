// etcdlab: one member of an etcd-compatible cluster. Flags follow etcd's (see --help).
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "runtime/server.h"

namespace {

std::vector<std::string> urls(const std::string& comma_separated) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= comma_separated.size()) {
    size_t end = comma_separated.find(',', start);
    if (end == std::string::npos) end = comma_separated.size();
    if (end > start) out.push_back(comma_separated.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  etcdlab::runtime::ServerConfig c;
  std::string listen_client = "http://127.0.0.1:2379", advertise_client, listen_peer =
                                                                             "http://127.0.0.1:2380",
                                                                         advertise_peer;
  std::string log_level = "info";
  std::string compaction_mode = "periodic", compaction_retention = "0";
  std::string progress_interval = "10m";
  CLI::App app{"etcdlab: a member of an etcd-compatible, Raft-replicated key-value store"};
  // As Go's flag package (etcd): a flag given twice takes its last value.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--name", c.name, "human-readable name of this member")->capture_default_str();
  app.add_option("--data-dir", c.data_dir, "path to the data directory (default: <name>.etcdlab)");
  app.add_option("--listen-client-urls", listen_client, "URLs to listen on for client traffic")
      ->capture_default_str();
  app.add_option("--advertise-client-urls", advertise_client,
                 "client URLs advertised to the cluster (default: the listen URLs)");
  app.add_option("--listen-peer-urls", listen_peer, "URLs to listen on for peer traffic")
      ->capture_default_str();
  app.add_option("--initial-advertise-peer-urls", advertise_peer,
                 "peer URLs advertised to the cluster (default: the listen URLs)");
  app.add_option("--initial-cluster", c.initial_cluster,
                 "initial cluster: name=peer-url,... (default: this member alone)");
  app.add_option("--initial-cluster-state", c.initial_cluster_state, "new or existing")
      ->check(CLI::IsMember({"new", "existing"}))
      ->capture_default_str();
  app.add_option("--initial-cluster-token", c.initial_cluster_token,
                 "initial cluster token: keeps clusters apart")
      ->capture_default_str();
  app.add_option("--heartbeat-interval", c.heartbeat_ms, "time of a heartbeat interval (ms)")
      ->capture_default_str();
  app.add_option("--election-timeout", c.election_ms, "time for an election to time out (ms)")
      ->capture_default_str();
  app.add_option("--snapshot-count", c.snapshot_count,
                 "committed transactions between snapshots")
      ->capture_default_str();
  app.add_option("--max-request-bytes", c.max_request_bytes, "largest client request (bytes)")
      ->capture_default_str();
  app.add_option("--max-txn-ops", c.max_txn_ops,
                 "most operations in one list of a txn (compares, success or failure)")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20));
  app.add_option("--quota-backend-bytes", c.quota_backend_bytes,
                 "backend size that raises the NOSPACE alarm (0: 2 GiB; negative: none)")
      ->capture_default_str();
  app.add_option("--auto-compaction-mode", compaction_mode,
                 "interpret --auto-compaction-retention as a duration (periodic) or a number of "
                 "revisions (revision)")
      ->check(CLI::IsMember({"periodic", "revision"}))
      ->capture_default_str();
  app.add_option("--auto-compaction-retention", compaction_retention,
                 "history to keep: a duration such as 1h or 30m (a bare number is hours) in "
                 "periodic mode, revisions in revision mode; 0 turns auto-compaction off")
      ->capture_default_str();
  app.add_option("--max-client-connections", c.max_client_connections,
                 "client connections open at once; more are closed at once (0: unlimited, as "
                 "etcd)")
      ->capture_default_str();
  app.add_option("--client-read-timeout", c.client_read_timeout_ms,
                 "ms a client may take to send a request before its connection is closed")
      ->capture_default_str();
  app.add_option("--experimental-watch-progress-notify-interval", progress_interval,
                 "how often an idle watcher that asked for progress notifications gets one")
      ->capture_default_str();
  app.add_flag("--enable-failpoints", c.enable_failpoints,
               "serve /etcdlab/failpoints, which drops or delays peer traffic, and "
               "/etcdlab/failpoints/disk, which slows the disk's syncs (tests only)");
  app.add_flag("--enable-view", c.enable_view,
               "serve the live cluster view on the client port: /etcdlab/state, "
               "/etcdlab/events (Server-Sent Events) and the page at /etcdlab/view/ (with "
               "auth on, state and events need a root user's token)");
  app.add_option("--view-max-streams", c.view_max_streams,
                 "most /etcdlab/events streams open at once (--enable-view); more are "
                 "answered 429")
      ->check(CLI::Range(uint64_t{1}, uint64_t{4096}))
      ->capture_default_str();
  app.add_option("--experimental-wal-segment-bytes", c.wal_segment_bytes,
                 "size of each preallocated WAL segment (etcd's is fixed at 64 MiB; tests of "
                 "small disks use less)")
      ->check(CLI::Range(uint64_t{64} << 10, uint64_t{1} << 30))
      ->capture_default_str();
  app.add_option("--auth-token", c.auth_token,
                 "kind of auth token: only \"simple\" (etcd's default; jwt is not built)")
      ->capture_default_str();
  app.add_option("--auth-token-ttl", c.auth_token_ttl_s,
                 "seconds an auth token lives after its last use")
      ->capture_default_str();
  app.add_option("--bcrypt-cost", c.bcrypt_cost, "cost of the bcrypt hash of users' passwords")
      ->check(CLI::Range(4, 31))
      ->capture_default_str();
  // TLS, as etcd's flags (runtime/tls_context.h).
  app.add_option("--cert-file", c.client_tls.cert_file, "path to the client server TLS cert file");
  app.add_option("--key-file", c.client_tls.key_file, "path to the client server TLS key file");
  app.add_option("--trusted-ca-file", c.client_tls.trusted_ca_file,
                 "path to the client server TLS trusted CA cert file");
  app.add_flag("--client-cert-auth", c.client_tls.client_cert_auth,
               "enable client cert authentication (its CN is the user of gRPC calls)");
  app.add_option("--peer-cert-file", c.peer_tls.cert_file, "path to the peer server TLS cert file");
  app.add_option("--peer-key-file", c.peer_tls.key_file, "path to the peer server TLS key file");
  app.add_option("--peer-trusted-ca-file", c.peer_tls.trusted_ca_file,
                 "path to the peer server TLS trusted CA file");
  app.add_flag("--peer-client-cert-auth", c.peer_tls.client_cert_auth,
               "enable peer client cert authentication");
  app.add_option("--peer-cert-allowed-cn", c.peer_tls.allowed_cn,
                 "required CN for peer certs, both ways: of peers dialling in and of peers "
                 "dialled (needs --peer-trusted-ca-file)");
  app.add_option("--log-level", log_level, "debug, info, warn or error")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  spdlog::set_level(spdlog::level::from_str(log_level));
  c.listen_client_urls = urls(listen_client);
  c.advertise_client_urls = urls(advertise_client);
  c.listen_peer_urls = urls(listen_peer);
  c.initial_advertise_peer_urls = urls(advertise_peer);
  try {
    c.auto_compaction = etcdlab::runtime::parse_auto_compaction(compaction_mode,
                                                                compaction_retention);
    c.watch_progress_notify_ms = etcdlab::runtime::parse_duration_flag(
        "--experimental-watch-progress-notify-interval", progress_interval);
    etcdlab::runtime::Server server(c);
    server.run();
  } catch (const std::exception& e) {
    spdlog::critical("etcdlab {}: {}", c.name, e.what());
    return 1;
  }
  return 0;
}
