#pragma once
// A small Prometheus client: counters, gauges and histograms in a Registry, exposed in the text
// format 0.0.4 byte for byte as Go's client_golang writes it (etcd's /metrics), so dashboards and
// scrapers built for etcd read ours unchanged.
//
// Single-threaded: the server touches metrics only from its one io thread (the driver loop, the
// sessions and the scrape handler all run there), so values are plain fields, not atomics.
// Computed metrics (gauge_func, counter_func) run their function on that thread at scrape time.
//
// What the exposition looks like (and what Go does, which we copy):
//   # HELP name help          help escapes \ and newline
//   # TYPE name counter|gauge|histogram
//   name{a="x",b="y"} 1       labels sorted by name; values escape \ " and newline
//   name_bucket{a="x",le="0.001"} 3    cumulative, then le="+Inf"; then name_sum, name_count
// Families are sorted by name (bytewise); the series of a family by their label values. A labeled
// family with no series yet is not exposed at all (etcd's peer metrics before a peer exists).
// Every number, counts included, prints as Go's strconv.FormatFloat(v, 'g', -1, 64): shortest
// round-trip digits, exponent form when the exponent is < -4 or >= 6 ("1", "0.001", "20480",
// "2.147483648e+09", "1e+06"), with "+Inf", "-Inf", "NaN".
//
// Registration errors (a duplicate or invalid name, a wrong label count, bad buckets) throw
// std::invalid_argument: they are programming mistakes, found by the first test that starts a
// server.

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace etcdlab::runtime {

enum class MetricType { kCounter, kGauge, kHistogram };

// A family's fixed description; etcd_metrics.h holds etcd's as constants. The spans must outlive
// the registration call only (the Registry copies them).
struct MetricSpec {
  std::string_view name;
  std::string_view help;
  MetricType type = MetricType::kCounter;
  std::span<const double> buckets = {};           // histograms: strictly increasing upper bounds
  std::span<const std::string_view> labels = {};  // label names; empty for a single series
};

// Go's prometheus.ExponentialBuckets(start, factor, N): start, start*factor, ... (N bounds,
// computed by repeated multiplication as Go does, so they print the same). Needs start > 0,
// factor > 1.
template <size_t N>
constexpr std::array<double, N> exponential_buckets(double start, double factor) {
  static_assert(N >= 1);
  std::array<double, N> out{};
  for (double& b : out) b = start, start *= factor;
  return out;
}

// Go's strconv.FormatFloat(v, 'g', -1, 64), with 0 for -0 and "+Inf"/"-Inf"/"NaN" as Go's
// exposition writes them.
std::string format_go_float(double v);

// A monotonic count. Integer increments are kept exactly in a uint64 (bytes, requests); add()
// takes fractional amounts (seconds). value() is their sum, as in Go's counter.
class Counter {
 public:
  void inc(uint64_t n = 1) { int_value_ += n; }
  void add(double v);  // throws std::invalid_argument if v < 0 (or NaN): counters only go up
  double value() const { return static_cast<double>(int_value_) + float_value_; }

 private:
  uint64_t int_value_ = 0;
  double float_value_ = 0;
};

class Gauge {
 public:
  void set(double v) { value_ = v; }
  void inc(double v = 1) { value_ += v; }
  void dec(double v = 1) { value_ -= v; }
  double value() const { return value_; }

 private:
  double value_ = 0;
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);  // checked by the Registry
  // Counts v in the first bucket whose bound is >= v (else only in +Inf), adds it to the sum.
  void observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  std::vector<uint64_t> cumulative_counts() const;  // one per bound, then +Inf (== count())
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; [bounds_.size()] is > last bound
  uint64_t count_ = 0;
  double sum_ = 0;
};

class FamilyBase;

// The series of one labeled family, one per tuple of label values (in the spec's label order).
template <class T>
class Family {
 public:
  // The series for these values, created (at zero) on first use; the reference stays valid
  // until remove() or the Registry's end. Throws std::invalid_argument on a wrong count.
  T& with(std::initializer_list<std::string_view> label_values);
  T& with(std::span<const std::string> label_values);
  void remove(std::initializer_list<std::string_view> label_values);  // no-op if absent

 private:
  friend class Registry;
  explicit Family(FamilyBase* base) : base_(base) {}
  FamilyBase* base_;
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Each registers spec.name (throws if taken, invalid, or of another type or label shape) and
  // returns the metric, valid for the Registry's lifetime. The unlabeled forms need no labels in
  // the spec; the family forms need at least one.
  Counter& counter(const MetricSpec& spec);
  Gauge& gauge(const MetricSpec& spec);
  Histogram& histogram(const MetricSpec& spec);
  Family<Counter>& counter_family(const MetricSpec& spec);
  Family<Gauge>& gauge_family(const MetricSpec& spec);
  Family<Histogram>& histogram_family(const MetricSpec& spec);
  // Values computed at each scrape (db size, has_leader, open fds): fn runs inside expose().
  void gauge_func(const MetricSpec& spec, std::function<double()> fn);
  void counter_func(const MetricSpec& spec, std::function<double()> fn);

  // The text exposition format 0.0.4 (Content-Type: text/plain; version=0.0.4; charset=utf-8).
  std::string expose() const;

 private:
  FamilyBase& add(const MetricSpec& spec, MetricType type, bool labeled,
                  std::function<double()> fn);
  template <class T>
  Family<T>& add_family(const MetricSpec& spec, MetricType type);
  std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_;
};

inline constexpr std::string_view kExpositionContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Registers what Go's client exports by default for a process, read from /proc at scrape time:
// process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds,
// process_max_fds, process_cpu_seconds_total, process_start_time_seconds.
void register_process_metrics(Registry& registry);

}  // namespace etcdlab::runtime
