#include "timeline.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

namespace etcdlab::bench {

Timeline::Second& Timeline::at(uint64_t at_nanos) {
  size_t i = static_cast<size_t>(at_nanos / 1'000'000'000);
  if (i >= seconds_.size()) seconds_.resize(i + 1);
  return seconds_[i];
}

void Timeline::record_ok(uint64_t at_nanos, uint64_t latency_nanos) {
  at(at_nanos).latency.record(latency_nanos);
}

void Timeline::record_error(uint64_t at_nanos) {
  at(at_nanos).errors++;
}

void Timeline::merge(const Timeline& other) {
  if (other.seconds_.size() > seconds_.size()) seconds_.resize(other.seconds_.size());
  for (size_t i = 0; i < other.seconds_.size(); i++) {
    seconds_[i].latency.merge(other.seconds_[i].latency);
    seconds_[i].errors += other.seconds_[i].errors;
  }
}

std::string Timeline::json_lines(double window_seconds) const {
  size_t lines =
      window_seconds > 0 ? static_cast<size_t>(std::ceil(window_seconds)) : seconds_.size();
  // Answers after the window belong to its last second (see the header).
  std::vector<Second> folded(lines);
  for (size_t i = 0; i < seconds_.size() && lines > 0; i++) {
    Second& into = folded[std::min(i, lines - 1)];
    into.latency.merge(seconds_[i].latency);
    into.errors += seconds_[i].errors;
  }
  auto ms = [](uint64_t nanos) { return fmt::format("{:.4f}", double(nanos) / 1e6); };
  std::string out;
  for (size_t i = 0; i < lines; i++) {
    const Second& s = folded[i];
    double width = window_seconds > 0 ? std::min(1.0, window_seconds - double(i)) : 1.0;
    uint64_t ok = s.latency.count();
    auto q = [&](double quantile) { return ok ? ms(s.latency.quantile(quantile)) : "null"; };
    fmt::format_to(std::back_inserter(out),
                   "{{\"second\":{},\"ok\":{},\"errors\":{},\"ops_per_s\":{:.1f},\"p50_ms\":{},"
                   "\"p90_ms\":{},\"p99_ms\":{},\"max_ms\":{}}}\n",
                   i, ok, s.errors, double(ok) / width, q(0.5), q(0.9), q(0.99),
                   ok ? ms(s.latency.max()) : "null");
  }
  return out;
}

}  // namespace etcdlab::bench
