// `etcdlab-bench put|range|mixed|txn|lease-churn|lease-keepalive`: the load generator's command
// line (see http_load.h and, for --protocol grpc, grpc_load.h for what a run does and how it
// counts).
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "../bench_command.h"
#include "grpc_load.h"
#include "http_load.h"
#include "load_options.h"
#include "load_report.h"

namespace etcdlab::bench {
namespace {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, ',');) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

void add_common_options(CLI::App* cmd, LoadOptions& o, std::string& endpoints) {
  cmd->add_option("--endpoints", endpoints,
                  "comma-separated host:port (connections spread over them)")
      ->capture_default_str();
  cmd->add_option("--conns", o.conns, "TCP connections (default: one per client)");
  cmd->add_option("--clients", o.clients,
                  "requests outstanding at once (HTTP: taking turns on a connection; "
                  "gRPC: each its own stream)")
      ->capture_default_str();
  cmd->add_option("--threads", o.threads, "event-loop threads of this tool")->capture_default_str();
  auto* total = cmd->add_option("--total", o.total, "measured requests to send");
  cmd->add_option("--duration", o.duration, "seconds to measure (default 10)")->excludes(total);
  cmd->add_option("--warmup", o.warmup, "seconds of load before measuring")->capture_default_str();
  cmd->add_option("--rate", o.rate, "requests/s over all clients (0: unlimited)")
      ->capture_default_str();
  cmd->add_option("--key-size", o.key_size, "key bytes")->capture_default_str();
  cmd->add_option("--key-space", o.key_space, "distinct keys")->capture_default_str();
  cmd->add_flag("--sequential-keys", o.sequential_keys, "keys in order (default: uniform random)");
  cmd->add_option("--key-offset", o.key_offset,
                  "keys are key-offset + k, k in [0, key-space) (a second run's fresh keys)")
      ->capture_default_str();
  cmd->add_option("--timeout", o.timeout, "seconds before a request counts as failed")
      ->capture_default_str();
  cmd->add_option("--seed", o.seed, "seed of the random key choice")->capture_default_str();
  cmd->add_flag("--json", o.json, "print one JSON object");
  cmd->add_option("--timeline", o.timeline,
                  "write FILE: one JSON line per second of the run (answers, errors, latency "
                  "quantiles of that second; see load/timeline.h)");
  cmd->add_option("--cacert", o.cacert, "gRPC over TLS: the server's CA (PEM)");
  cmd->add_option("--cert", o.cert, "gRPC over TLS: the client certificate (PEM)");
  cmd->add_option("--key", o.key, "gRPC over TLS: the client key (PEM)");
}

void add_user_option(CLI::App* cmd, std::string& user) {
  cmd->add_option("--user", user,
                  "name:password: sign in once per connection (gRPC: per channel) and send the "
                  "token with each request; sign in again after \"invalid auth token\"");
}

void add_consistency_option(CLI::App* cmd, std::shared_ptr<std::string> consistency) {
  cmd->add_option("--consistency", *consistency,
                  "range reads: l (linearizable) or s (serializable)")
      ->check(CLI::IsMember({"l", "s"}))
      ->capture_default_str();
}

// put, range, mixed and txn go through either door; the lease workloads are HTTP only.
void add_protocol_option(CLI::App* cmd, std::string& protocol) {
  cmd->add_option("--protocol", protocol,
                  "http: the v3 JSON gateway over HTTP/1.1; grpc: etcdserverpb.KV over HTTP/2 "
                  "(clients multiplexed on --conns connections)")
      ->check(CLI::IsMember({"http", "grpc"}))
      ->capture_default_str();
}

void add_val_size_option(CLI::App* cmd, LoadOptions& o) {
  cmd->add_option("--val-size", o.val_size, "value bytes")->capture_default_str();
}

struct Command {
  LoadOptions options;
  std::string endpoints = "127.0.0.1:2379";
  std::shared_ptr<std::string> consistency = std::make_shared<std::string>("l");
  std::string protocol = "http";
  std::string user;  // --user name:password
};

void run(Command& c) {
  LoadOptions& o = c.options;
  o.endpoints = split_commas(c.endpoints);
  o.linearizable = *c.consistency == "l";
  o.protocol = c.protocol == "grpc" ? Protocol::kGrpc : Protocol::kHttp;
  if (!c.user.empty()) {
    try {
      set_user(o, c.user);
    } catch (const std::invalid_argument& e) {
      throw CLI::ValidationError("--user", e.what());
    }
  }
  // A connection beyond the number of clients would carry nothing.
  if (o.conns == 0 || o.conns > o.clients) o.conns = o.clients;
  if (!o.cacert.empty() && o.protocol != Protocol::kGrpc) {
    throw CLI::ValidationError("--cacert", "TLS is implemented for --protocol grpc only");
  }
  // Opened before the run, so that a path that cannot be written fails before minutes of load.
  std::ofstream timeline;
  if (!o.timeline.empty()) {
    timeline.open(o.timeline, std::ios::trunc);
    if (!timeline) throw CLI::ValidationError("--timeline", "cannot write " + o.timeline);
  }
  LoadResult result = o.protocol == Protocol::kGrpc ? run_grpc_load(o) : run_http_load(o);
  if (timeline.is_open()) {
    // The window: the duration asked for, or with --total the time the requests took.
    double window = o.total > 0 ? result.seconds : (o.duration > 0 ? o.duration : 10);
    timeline << result.timeline.json_lines(window);
    timeline.close();
    if (!timeline) throw std::runtime_error("writing " + o.timeline + " failed");
  }
  if (o.json) {
    print_json(o, result);
  } else {
    print_text(o, result);
  }
}

CLI::App* add_load(CLI::App& app, const char* name, const char* help, Workload w,
                   std::shared_ptr<Command> c) {
  c->options.workload = w;
  CLI::App* cmd = app.add_subcommand(name, help);
  add_common_options(cmd, c->options, c->endpoints);
  add_user_option(cmd, c->user);
  cmd->callback([c] { run(*c); });
  return cmd;
}

}  // namespace

void set_user(LoadOptions& options, const std::string& name_colon_password) {
  auto colon = name_colon_password.find(':');
  if (colon == std::string::npos || colon == 0) {
    throw std::invalid_argument("--user takes name:password (got \"" + name_colon_password + "\")");
  }
  options.user = name_colon_password.substr(0, colon);
  options.password = name_colon_password.substr(colon + 1);
}

void add_load_commands(CLI::App& app) {
  auto put = std::make_shared<Command>();
  CLI::App* cmd = add_load(app, "put", "load: puts (JSON gateway, or gRPC with --protocol grpc)",
                           Workload::kPut, put);
  add_val_size_option(cmd, put->options);
  add_protocol_option(cmd, put->protocol);

  auto range = std::make_shared<Command>();
  cmd = add_load(app, "range", "load: ranges of --range-keys keys (JSON gateway or gRPC)",
                 Workload::kRange, range);
  add_consistency_option(cmd, range->consistency);
  cmd->add_option("--range-keys", range->options.range_keys,
                  "consecutive keys each range reads (1: a single-key range)")
      ->capture_default_str();
  add_protocol_option(cmd, range->protocol);

  auto mixed = std::make_shared<Command>();
  cmd = add_load(app, "mixed", "load: ranges and puts, --read-ratio of them ranges",
                 Workload::kMixed, mixed);
  add_val_size_option(cmd, mixed->options);
  add_protocol_option(cmd, mixed->protocol);
  add_consistency_option(cmd, mixed->consistency);
  cmd->add_option("--read-ratio", mixed->options.read_ratio, "share of requests that are ranges")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();

  auto cas = std::make_shared<Command>();
  cmd = add_load(app, "txn", "load: compare-and-swap-shaped txns (compare mod_revision, put)",
                 Workload::kTxn, cas);
  add_val_size_option(cmd, cas->options);
  add_protocol_option(cmd, cas->protocol);

  auto churn = std::make_shared<Command>();
  cmd = add_load(app, "lease-churn",
                 "load: grant a lease, put a key attached to it, revoke it (one operation)",
                 Workload::kLeaseChurn, churn);
  add_val_size_option(cmd, churn->options);
  cmd->add_option("--ttl", churn->options.lease_ttl, "seconds each lease is granted for")
      ->check(CLI::Range(int64_t{1}, int64_t{9000000000}))
      ->capture_default_str();

  auto keepalive = std::make_shared<Command>();
  cmd = add_load(app, "lease-keepalive",
                 "load: keep-alives of one lease per client (granted before, revoked after)",
                 Workload::kLeaseKeepAlive, keepalive);
  cmd->add_option("--ttl", keepalive->options.lease_ttl, "seconds each lease is granted for")
      ->check(CLI::Range(int64_t{1}, int64_t{9000000000}))
      ->capture_default_str();
}

}  // namespace etcdlab::bench
