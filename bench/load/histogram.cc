#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace etcdlab::bench {

// Values below 2^(kSubBits+1) have a bucket each. Above, a value with its top bit at h keeps
// its kSubBits+1 leading bits (the mantissa, in [2^kSubBits, 2^(kSubBits+1))) and drops
// shift = h - kSubBits low bits; octave `shift` occupies indexes [(shift+1) << kSubBits, ...).
int LatencyHistogram::index_of(uint64_t v) {
  constexpr uint64_t kLinear = uint64_t{1} << (kSubBits + 1);
  if (v < kLinear) return static_cast<int>(v);
  int shift = std::bit_width(v) - 1 - kSubBits;
  uint64_t mantissa = v >> shift;
  return ((shift + 1) << kSubBits) + static_cast<int>(mantissa - (uint64_t{1} << kSubBits));
}

uint64_t LatencyHistogram::lower_bound_of(int index) {
  constexpr int kLinear = 1 << (kSubBits + 1);
  if (index < kLinear) return static_cast<uint64_t>(index);
  int shift = (index >> kSubBits) - 1;
  uint64_t mantissa =
      (uint64_t{1} << kSubBits) + static_cast<uint64_t>(index & ((1 << kSubBits) - 1));
  return mantissa << shift;
}

uint64_t LatencyHistogram::upper_bound_of(int index) {
  if (index + 1 >= kBuckets) return UINT64_MAX;
  return lower_bound_of(index + 1) - 1;
}

void LatencyHistogram::record(uint64_t nanos) {
  counts_[static_cast<size_t>(index_of(nanos))]++;
  count_++;
  sum_ += nanos;
  min_ = std::min(min_, nanos);
  max_ = std::max(max_, nanos);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts_.size(); i++) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::quantile(double q) const {
  if (count_ == 0) return 0;
  auto rank = static_cast<uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * double(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; i++) {
    seen += counts_[static_cast<size_t>(i)];
    if (seen >= rank) {
      uint64_t lo = lower_bound_of(i), hi = upper_bound_of(i);
      return std::clamp(lo + (hi - lo) / 2, min(), max_);
    }
  }
  return max_;
}

std::vector<LatencyHistogram::Row> LatencyHistogram::octaves() const {
  std::vector<Row> rows;
  if (count_ == 0) return rows;
  int first = std::bit_width(min()) - 1, last = std::bit_width(max_) - 1;
  first = std::max(first, 0);
  for (int p = first; p <= last; p++) {
    Row row{uint64_t{1} << p, p == 63 ? UINT64_MAX : uint64_t{1} << (p + 1), 0};
    rows.push_back(row);
  }
  for (int i = 0; i < kBuckets; i++) {
    uint64_t c = counts_[static_cast<size_t>(i)];
    if (c == 0) continue;
    uint64_t lo = std::max<uint64_t>(lower_bound_of(i), 1);
    size_t row = static_cast<size_t>(std::bit_width(lo) - 1 - first);
    rows[std::min(row, rows.size() - 1)].count += c;
  }
  return rows;
}

std::vector<LatencyHistogram::Row> LatencyHistogram::buckets() const {
  std::vector<Row> rows;
  for (int i = 0; i < kBuckets; i++) {
    uint64_t c = counts_[static_cast<size_t>(i)];
    if (c == 0) continue;
    uint64_t hi = upper_bound_of(i);
    rows.push_back(Row{lower_bound_of(i), hi == UINT64_MAX ? hi : hi + 1, c});
  }
  return rows;
}

}  // namespace etcdlab::bench
