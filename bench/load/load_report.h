#pragma once
// The outcome of a load run and how it is printed: as text (throughput, a latency histogram by
// powers of two, percentiles, errors by kind, in the manner of etcd's `benchmark` tool) or as
// one JSON object for scripts (bench/compare-etcd).

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "histogram.h"
#include "load_options.h"
#include "timeline.h"

namespace etcdlab::bench {

struct LoadResult {
  LatencyHistogram latency;  // successful requests only, in nanoseconds
  uint64_t ok = 0;
  std::map<std::string, uint64_t> errors;  // kind ("HTTP 503: <message>", "read: <reason>")
  double seconds = 0;  // measured wall time: end of warmup to the last measured answer
  Timeline timeline;   // filled only when options.timeline names a file

  // One measured answer: a success that took `latency_nanos` when `failure` is empty, else an
  // error of that kind; it arrived `at_nanos` after measuring began, which the timeline keeps
  // when `keep_timeline` (--timeline).
  void record(const std::string& failure, uint64_t latency_nanos, uint64_t at_nanos,
              bool keep_timeline);
  void merge(const LoadResult& other);
  [[nodiscard]] uint64_t error_count() const;
  [[nodiscard]] double ops_per_second() const { return seconds > 0 ? double(ok) / seconds : 0; }
};

// The nanoseconds in `d` (a steady_clock difference), for record().
template <class Duration>
uint64_t nanos(Duration d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}

void print_text(const LoadOptions& options, const LoadResult& result);
void print_json(const LoadOptions& options, const LoadResult& result);

}  // namespace etcdlab::bench
