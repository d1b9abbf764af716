#pragma once
// A load run second by second (`etcdlab-bench put ... --timeline FILE`): for each second since
// measuring began, the answers that arrived in it (their count, errors, and latency quantiles
// from a histogram of that second alone). A stall that a whole-run p99 hides — a server that
// stops answering for a second while it writes a snapshot — shows here as a second with few
// or no answers followed by one whose latencies hold the wait.
//
// Seconds are counted by when an answer arrived, not when its request was due. The file has
// one JSON object per line for every second of the window [0, ceil(window)), seconds without
// answers included (their quantiles null); answers that arrived after the window (requests
// due before its end, answered after it) are counted in its last second.

#include <cstdint>
#include <string>
#include <vector>

#include "histogram.h"

namespace etcdlab::bench {

class Timeline {
 public:
  // An answer that arrived `at_nanos` after measuring began: a success that took
  // `latency_nanos`, or an error.
  void record_ok(uint64_t at_nanos, uint64_t latency_nanos);
  void record_error(uint64_t at_nanos);
  // Adds `other`'s answers, second by second (each event loop keeps its own timeline).
  void merge(const Timeline& other);

  // The JSON lines of the window [0, window_seconds): one per second, each
  // {"second":i,"ok":n,"errors":e,"ops_per_s":r,"p50_ms":..,"p90_ms":..,"p99_ms":..,"max_ms":..}
  // with ops_per_s = ok over the second's width (the last second of a window that is not a
  // whole number of seconds is narrower) and the quantiles null when ok is 0. A window of 0
  // (or less) holds the seconds that have answers.
  [[nodiscard]] std::string json_lines(double window_seconds) const;

 private:
  struct Second {
    LatencyHistogram latency;
    uint64_t errors = 0;
  };
  Second& at(uint64_t at_nanos);

  std::vector<Second> seconds_;  // seconds_[i]: answers that arrived in [i, i+1) s
};

}  // namespace etcdlab::bench
