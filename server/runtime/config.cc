#include "config.h"

#include <cmath>
#include <stdexcept>

namespace etcdlab::runtime {

namespace {

// etcd's start errors for a TLS URL without its files (its texts).
void check_tls_urls(const ServerConfig& c) {
  for (const auto* list : {&c.listen_client_urls, &c.advertise_client_urls}) {
    for (const auto& u : *list) {
      if (u.starts_with("https://") && c.client_tls.empty()) {
        throw std::invalid_argument(
            "TLS key/cert (--cert-file, --key-file) must be provided for "
            "client url " +
            u + " with HTTPS scheme");
      }
    }
  }
  for (const auto& u : c.listen_peer_urls) {
    if (u.starts_with("https://") && c.peer_tls.empty()) {
      throw std::invalid_argument("cannot listen on TLS for " + u.substr(8) +
                                  ": KeyFile and CertFile are not presented");
    }
  }
  if (c.client_tls.client_cert_auth && c.client_tls.trusted_ca_file.empty()) {
    throw std::invalid_argument("--client-cert-auth needs --trusted-ca-file");
  }
  if (c.peer_tls.client_cert_auth && c.peer_tls.trusted_ca_file.empty()) {
    throw std::invalid_argument("--peer-client-cert-auth needs --peer-trusted-ca-file");
  }
  // A CN is only worth checking on a certificate verified against the cluster's CA, on peer
  // connections that are TLS.
  if (!c.peer_tls.allowed_cn.empty()) {
    if (c.peer_tls.trusted_ca_file.empty() || c.peer_tls.empty()) {
      throw std::invalid_argument(
          "--peer-cert-allowed-cn needs --peer-trusted-ca-file, --peer-cert-file and "
          "--peer-key-file");
    }
    for (const auto& u : c.listen_peer_urls) {
      if (!u.starts_with("https://")) {
        throw std::invalid_argument("--peer-cert-allowed-cn needs https:// peer URLs, not " + u);
      }
    }
  }
}

}  // namespace

void ServerConfig::resolve() {
  if (data_dir.empty()) data_dir = name + ".etcdlab";
  if (advertise_client_urls.empty()) advertise_client_urls = listen_client_urls;
  if (initial_advertise_peer_urls.empty()) initial_advertise_peer_urls = listen_peer_urls;
  if (initial_cluster.empty()) {
    for (const auto& u : initial_advertise_peer_urls) {
      initial_cluster += (initial_cluster.empty() ? "" : ",") + name + "=" + u;
    }
  }
  if (request_timeout_ms <= 0) request_timeout_ms = 5000 + 2 * election_ms;
  check_tls_urls(*this);
  if (heartbeat_ms <= 0 || election_ms < 5 * heartbeat_ms) {
    throw std::invalid_argument("--election-timeout must be at least 5 x --heartbeat-interval");
  }
  if (auth_token != "simple") {
    throw std::invalid_argument("--auth-token \"" + auth_token +
                                "\" is not supported: etcdlab makes only etcd's \"simple\" "
                                "tokens (jwt is not built)");
  }
  if (auth_token_ttl_s <= 0) throw std::invalid_argument("--auth-token-ttl must be positive");
  if (bcrypt_cost < 4 || bcrypt_cost > 31) {
    throw std::invalid_argument("--bcrypt-cost must be in [4, 31]");
  }
  if (view_max_streams < 1 || view_max_streams > 4096) {
    throw std::invalid_argument("--view-max-streams must be in [1, 4096]");
  }
}

uint64_t ServerConfig::quota_bytes() const {
  if (quota_backend_bytes < 0) return 0;
  return quota_backend_bytes == 0 ? 2ULL << 30 : static_cast<uint64_t>(quota_backend_bytes);
}

namespace {

// Go's time.ParseDuration for what etcd's flag takes: one or more <number><unit> with units
// h, m, s, ms (e.g. "1h30m", "10m", "2.5h").
int64_t parse_duration_ms(const std::string& text) {
  size_t at = 0;
  double total = 0;
  if (text.empty()) throw std::invalid_argument("empty duration");
  while (at < text.size()) {
    size_t used = 0;
    double number = std::stod(text.substr(at), &used);
    at += used;
    size_t unit_end = at;
    while (unit_end < text.size() && std::isalpha(static_cast<unsigned char>(text[unit_end]))) {
      ++unit_end;
    }
    std::string unit = text.substr(at, unit_end - at);
    at = unit_end;
    if (unit == "h") total += number * 3600e3;
    else if (unit == "m") total += number * 60e3;
    else if (unit == "s") total += number * 1e3;
    else if (unit == "ms") total += number;
    else throw std::invalid_argument("unknown unit \"" + unit + "\"");
  }
  return static_cast<int64_t>(std::llround(total));
}

}  // namespace

int64_t parse_duration_flag(const std::string& flag, const std::string& text) {
  try {
    return parse_duration_ms(text);
  } catch (const std::exception& e) {
    throw std::invalid_argument(flag + " \"" + text + "\" is not a duration: " + e.what());
  }
}

server::AutoCompaction parse_auto_compaction(const std::string& mode,
                                             const std::string& retention) {
  server::AutoCompaction out;
  if (retention.empty() || retention == "0") return out;  // etcd: 0 turns it off
  try {
    if (mode == "periodic") {
      out.mode = server::AutoCompaction::Mode::kPeriodic;
      // As etcd: a bare number is hours.
      bool bare = retention.find_first_not_of("0123456789") == std::string::npos;
      out.retention_ms = bare ? std::stoll(retention) * 3600 * 1000 : parse_duration_ms(retention);
    } else if (mode == "revision") {
      out.mode = server::AutoCompaction::Mode::kRevision;
      size_t used = 0;
      out.retention_revisions = std::stoll(retention, &used);
      if (used != retention.size()) throw std::invalid_argument("not a number");
    } else {
      throw std::invalid_argument("--auto-compaction-mode must be periodic or revision, not \"" +
                                  mode + "\"");
    }
  } catch (const std::invalid_argument& e) {
    if (std::string(e.what()).starts_with("--")) throw;
    throw std::invalid_argument("--auto-compaction-retention \"" + retention +
                                "\" is not valid for mode " + mode + ": " + e.what());
  } catch (const std::out_of_range&) {
    throw std::invalid_argument("--auto-compaction-retention \"" + retention + "\" is too large");
  }
  if (out.retention_ms < 0 || out.retention_revisions < 0) {
    throw std::invalid_argument("--auto-compaction-retention must not be negative");
  }
  return out;
}

}  // namespace etcdlab::runtime
