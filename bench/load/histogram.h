#pragma once
// A latency histogram in the manner of HdrHistogram: log-linear buckets over nanoseconds, 32
// linear sub-buckets per power of two, so any recorded value is known to within about 3%
// (exact below 64 ns). Fixed size (~15 KiB), no allocation when recording, mergeable. The
// exact minimum, maximum and sum are kept beside the buckets.

#include <array>
#include <cstdint>
#include <vector>

namespace etcdlab::bench {

class LatencyHistogram {
 public:
  void record(uint64_t nanos);
  void merge(const LatencyHistogram& other);

  [[nodiscard]] uint64_t count() const { return count_; }
  [[nodiscard]] uint64_t min() const { return count_ ? min_ : 0; }
  [[nodiscard]] uint64_t max() const { return max_; }
  [[nodiscard]] double mean() const { return count_ ? double(sum_) / double(count_) : 0; }
  // The value at quantile q in [0, 1]: the midpoint of the bucket holding the ceil(q*count)-th
  // smallest value, clamped to [min, max]. 0 when empty.
  [[nodiscard]] uint64_t quantile(double q) const;

  // Counts regrouped by power of two, for printing: each row is [lo, hi) in nanoseconds.
  struct Row {
    uint64_t lo = 0, hi = 0, count = 0;
  };
  [[nodiscard]] std::vector<Row> octaves() const;
  // The non-empty buckets themselves, in increasing order, each [lo, hi) in nanoseconds (one
  // value wide below 64 ns, hi - lo <= lo/32 above): what a finer picture needs (--json).
  [[nodiscard]] std::vector<Row> buckets() const;

 private:
  static constexpr int kSubBits = 5;  // 32 sub-buckets per octave
  static constexpr int kBuckets = (64 - kSubBits + 1) << kSubBits;
  static int index_of(uint64_t v);
  static uint64_t lower_bound_of(int index);  // smallest value in bucket `index`
  static uint64_t upper_bound_of(int index);  // largest value in bucket `index`

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  uint64_t sum_ = 0;
};

}  // namespace etcdlab::bench
