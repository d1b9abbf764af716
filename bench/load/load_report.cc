#include "load_report.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include <algorithm>

namespace etcdlab::bench {
namespace {

const char* workload_name(Workload w) {
  switch (w) {
    case Workload::kPut:
      return "put";
    case Workload::kRange:
      return "range";
    case Workload::kMixed:
      return "mixed";
    case Workload::kLeaseChurn:
      return "lease-churn";
    case Workload::kLeaseKeepAlive:
      return "lease-keepalive";
    case Workload::kTxn:
      return "txn";
  }
  return "?";
}

// A JSON string literal (quoted and escaped by Boost.JSON).
std::string json_string(std::string_view s) {
  return boost::json::serialize(boost::json::string_view(s.data(), s.size()));
}

double ms(uint64_t nanos) {
  return double(nanos) / 1e6;
}

std::string duration_label(uint64_t nanos) {
  if (nanos < 1000) return fmt::format("{}ns", nanos);
  if (nanos < 1000000) return fmt::format("{:.1f}us", double(nanos) / 1e3);
  if (nanos < 1000000000) return fmt::format("{:.2f}ms", double(nanos) / 1e6);
  return fmt::format("{:.2f}s", double(nanos) / 1e9);
}

const std::pair<const char*, double> kQuantiles[] = {
    {"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p99.9", 0.999}};

}  // namespace

void LoadResult::record(const std::string& failure, uint64_t latency_nanos, uint64_t at_nanos,
                        bool keep_timeline) {
  if (failure.empty()) {
    ok++;
    latency.record(latency_nanos);
    if (keep_timeline) timeline.record_ok(at_nanos, latency_nanos);
  } else {
    errors[failure]++;
    if (keep_timeline) timeline.record_error(at_nanos);
  }
}

void LoadResult::merge(const LoadResult& other) {
  latency.merge(other.latency);
  ok += other.ok;
  for (const auto& [kind, n] : other.errors) errors[kind] += n;
  seconds = std::max(seconds, other.seconds);
  timeline.merge(other.timeline);
}

uint64_t LoadResult::error_count() const {
  uint64_t n = 0;
  for (const auto& [kind, c] : errors) n += c;
  return n;
}

void print_text(const LoadOptions& o, const LoadResult& r) {
  std::string what = workload_name(o.workload);
  bool reads = o.workload == Workload::kRange || o.workload == Workload::kMixed;
  if (reads) what += o.linearizable ? " (linearizable)" : " (serializable)";
  if (o.workload == Workload::kLeaseChurn || o.workload == Workload::kLeaseKeepAlive) {
    what += fmt::format(", TTL {} s", o.lease_ttl);
  }
  if (o.workload == Workload::kLeaseChurn) what += "; one request = grant + put + revoke";
  if (o.workload == Workload::kMixed) what += fmt::format(", read ratio {}", o.read_ratio);
  fmt::print(
      "{}{}: {} clients over {} connections, {} thread(s), keys {} B in a space of {}, "
      "values {} B\n",
      what, o.protocol == Protocol::kGrpc ? " over gRPC" : "", o.clients, o.conns, o.threads,
      o.key_size, o.key_space, o.val_size);
  fmt::print("\nSummary:\n");
  fmt::print("  Total:\t{:.4f} secs.\n", r.seconds);
  fmt::print("  Requests:\t{} ok, {} errors.\n", r.ok, r.error_count());
  fmt::print("  Slowest:\t{:.4f} ms.\n", ms(r.latency.max()));
  fmt::print("  Fastest:\t{:.4f} ms.\n", ms(r.latency.min()));
  fmt::print("  Average:\t{:.4f} ms.\n", r.latency.mean() / 1e6);
  fmt::print("  Requests/sec:\t{:.1f}\n", r.ops_per_second());

  auto rows = r.latency.octaves();
  uint64_t most = 0;
  for (const auto& row : rows) most = std::max(most, row.count);
  fmt::print("\nResponse time histogram (by powers of two):\n");
  for (const auto& row : rows) {
    size_t bar = most ? static_cast<size_t>(40 * row.count / most) : 0;
    fmt::print("  [{:>8}, {:>8}) {:>10} |{}\n", duration_label(row.lo), duration_label(row.hi),
               row.count, std::string(bar, '#'));
  }
  fmt::print("\nLatency distribution:\n");
  for (const auto& [name, q] : kQuantiles) {
    fmt::print("  {:>5} in {:.4f} ms.\n", name, ms(r.latency.quantile(q)));
  }
  fmt::print("  {:>5} in {:.4f} ms.\n", "max", ms(r.latency.max()));
  if (!r.errors.empty()) {
    fmt::print("\nErrors:\n");
    for (const auto& [kind, n] : r.errors) fmt::print("  {:>10}  {}\n", n, kind);
  }
}

void print_json(const LoadOptions& o, const LoadResult& r) {
  std::string endpoints;
  for (const auto& e : o.endpoints) endpoints += (endpoints.empty() ? "" : ",") + json_string(e);
  std::string quantiles;
  for (const auto& [name, q] : kQuantiles) {
    quantiles += fmt::format("\"{}\":{:.4f},", name, ms(r.latency.quantile(q)));
  }
  std::string errors;
  for (const auto& [kind, n] : r.errors) {
    errors += fmt::format("{}{}:{}", errors.empty() ? "" : ",", json_string(kind), n);
  }
  std::string histogram;
  for (const auto& row : r.latency.octaves()) {
    histogram += fmt::format("{}{{\"lo_ms\":{},\"hi_ms\":{},\"count\":{}}}",
                             histogram.empty() ? "" : ",", ms(row.lo), ms(row.hi), row.count);
  }
  // The histogram's own buckets (within ~3%), [lo_ns, hi_ns, count] each, for bench/plots.py's
  // latency curves; as arrays rather than objects, to keep a stored result small.
  std::string buckets;
  for (const auto& row : r.latency.buckets()) {
    buckets += fmt::format("{}[{},{},{}]", buckets.empty() ? "" : ",", row.lo, row.hi, row.count);
  }
  fmt::print(
      "{{\"workload\":\"{}\",\"protocol\":\"{}\",\"linearizable\":{},\"read_ratio\":{},"
      "\"endpoints\":[{}],"
      "\"conns\":{},\"clients\":{},\"threads\":{},\"key_size\":{},\"val_size\":{},"
      "\"key_space\":{},\"key_offset\":{},\"sequential_keys\":{},\"range_keys\":{},"
      "\"rate\":{},\"warmup_s\":{},"
      "\"seconds\":{:.4f},\"ok\":{},\"errors\":{},\"ops_per_s\":{:.1f},"
      "\"latency_ms\":{{\"min\":{:.4f},\"mean\":{:.4f},{}\"max\":{:.4f}}},"
      "\"errors_by_kind\":{{{}}},\"histogram\":[{}],\"latency_buckets_ns\":[{}]}}\n",
      workload_name(o.workload), o.protocol == Protocol::kGrpc ? "grpc" : "http", o.linearizable,
      o.read_ratio, endpoints, o.conns, o.clients, o.threads, o.key_size, o.val_size, o.key_space,
      o.key_offset, o.sequential_keys, o.range_keys, o.rate, o.warmup, r.seconds, r.ok,
      r.error_count(), r.ops_per_second(), ms(r.latency.min()), r.latency.mean() / 1e6, quantiles,
      ms(r.latency.max()), errors, histogram, buckets);
}

}  // namespace etcdlab::bench
