// LatencyHistogram::buckets() (bench/load/histogram.h): the buckets etcdlab-bench --json keeps
// for bench/plots.py's latency curves. A curve point is (answers below a bucket's hi, hi), so
// the rule checked here is that those counts are exact and each bucket is narrow.
#include "../load/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace etcdlab::bench {
namespace {

std::string describe(const std::vector<LatencyHistogram::Row>& rows) {
  std::string out;
  for (const auto& r : rows) {
    out += "[" + std::to_string(r.lo) + ", " + std::to_string(r.hi) +
           "): " + std::to_string(r.count) + "\n";
  }
  return out;
}

// Values from 0 ns to seconds: the exact range (below 64 ns), octave edges, and a spread of
// latencies from a fixed linear congruential sequence (no unseeded randomness).
std::vector<uint64_t> sample_values() {
  std::vector<uint64_t> v = {
      0, 1, 63, 64, 65, 127, 128, 1000, 1'048'576, 1'048'577, 1'000'000'000, 3'000'000'000};
  uint64_t x = 42;
  for (int i = 0; i < 5000; i++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    v.push_back((x >> 20) % (uint64_t{1} << (10 + i % 24)));  // 0 to 8 s, every scale
  }
  return v;
}

TEST(HistogramBuckets, CountsBelowEachUpperEdgeAreExact) {
  auto values = sample_values();
  LatencyHistogram h;
  for (auto v : values) h.record(v);
  auto rows = h.buckets();
  ASSERT_FALSE(rows.empty());
  std::sort(values.begin(), values.end());
  uint64_t cumulative = 0, previous_hi = 0;
  for (const auto& r : rows) {
    SCOPED_TRACE("bucket [" + std::to_string(r.lo) + ", " + std::to_string(r.hi) + ")");
    EXPECT_GT(r.count, 0u) << "an empty bucket was listed";
    EXPECT_GE(r.lo, previous_hi) << "buckets out of order or overlapping\n" << describe(rows);
    cumulative += r.count;
    auto below = static_cast<uint64_t>(std::lower_bound(values.begin(), values.end(), r.hi) -
                                       values.begin());
    EXPECT_EQ(cumulative, below) << "answers below hi";
    previous_hi = r.hi;
  }
  EXPECT_EQ(cumulative, h.count());
}

TEST(HistogramBuckets, EachIsOneValueWideBelow64NsAndWithinAThirtySecondAbove) {
  LatencyHistogram h;
  for (auto v : sample_values()) h.record(v);
  for (const auto& r : h.buckets()) {
    SCOPED_TRACE("bucket [" + std::to_string(r.lo) + ", " + std::to_string(r.hi) + ")");
    ASSERT_GT(r.hi, r.lo);
    if (r.lo < 64) {
      EXPECT_EQ(r.hi - r.lo, 1u);
    } else {
      EXPECT_LE(r.hi - r.lo, r.lo / 32);
    }
  }
}

TEST(HistogramBuckets, EmptyHistogramHasNoBuckets) {
  EXPECT_TRUE(LatencyHistogram{}.buckets().empty());
}

}  // namespace
}  // namespace etcdlab::bench
