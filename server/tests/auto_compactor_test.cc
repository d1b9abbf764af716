// etcd 3.4's auto-compaction (server/node/auto_compactor.h), decided from the node's clock.
#include "../node/auto_compactor.h"

#include <gtest/gtest.h>

#include <vector>

namespace etcdlab::server {
namespace {

constexpr int64_t kMinute = 60 * 1000;

AutoCompactor periodic(int64_t retention_ms) {
  AutoCompaction o;
  o.mode = AutoCompaction::Mode::kPeriodic;
  o.retention_ms = retention_ms;
  return AutoCompactor(o);
}

// Ticks every `step_ms` from `from` to `to` with revision == time in seconds; returns the
// (time, revision) of each compaction asked for, reporting each as done.
std::vector<std::pair<int64_t, int64_t>> run(AutoCompactor& c, int64_t from, int64_t to,
                                             int64_t step_ms, bool leader = true) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int64_t t = from; t <= to; t += step_ms) {
    if (auto rev = c.tick(t, t / 1000, leader)) {
      out.emplace_back(t, *rev);
      c.done(true, t);
    }
  }
  return out;
}

TEST(AutoCompaction, PeriodicWaitsOneRetentionThenKeepsThatMuchHistory) {
  AutoCompactor c = periodic(10 * kMinute);  // samples every minute
  auto asked = run(c, 0, 35 * kMinute, 1000);
  ASSERT_GE(asked.size(), 3u);
  EXPECT_EQ(asked[0].first, 10 * kMinute) << "the first one after a whole retention";
  EXPECT_EQ(asked[0].second, 0) << "to the revision of retention ago";
  for (size_t i = 1; i < asked.size(); ++i) {
    EXPECT_EQ(asked[i].first - asked[i - 1].first, 10 * kMinute) << "then every retention";
    // As etcd's: the sample retention ago is taken one sample interval before the check.
    EXPECT_EQ(asked[i].first / 1000 - asked[i].second, 660) << "keeping 10 minutes (and 1)";
  }
}

TEST(AutoCompaction, PeriodicRetentionOverAnHourCompactsHourly) {
  AutoCompactor c = periodic(3 * 60 * kMinute);  // 3 h: samples every 6 minutes
  auto asked = run(c, 0, 6 * 60 * kMinute, 60 * 1000);
  ASSERT_GE(asked.size(), 3u);
  EXPECT_EQ(asked[0].first, 180 * kMinute);
  EXPECT_EQ(asked[1].first - asked[0].first, 60 * kMinute) << "every hour after the first";
  EXPECT_GE(asked[1].first / 1000 - asked[1].second, 3 * 3600) << "keeping at least 3 hours";
}

TEST(AutoCompaction, OnlyTheLeaderCompactsButFollowersKeepSampling) {
  AutoCompactor c = periodic(10 * kMinute);
  EXPECT_TRUE(run(c, 0, 15 * kMinute, 1000, /*leader=*/false).empty());
  auto asked = run(c, 15 * kMinute + 1000, 16 * kMinute, 1000, /*leader=*/true);
  ASSERT_EQ(asked.size(), 1u) << "a new leader compacts at once: its samples are old enough";
  EXPECT_EQ(asked[0].first / 1000 - asked[0].second, 660);
}

TEST(AutoCompaction, OneAtATimeAndAFailureIsRetried) {
  AutoCompactor c = periodic(kMinute);  // samples every 6 s
  std::optional<int64_t> first;
  int64_t t = 0;
  for (; t < 2 * kMinute && !first; t += 1000) first = c.tick(t, t / 1000, true);
  ASSERT_TRUE(first);
  EXPECT_TRUE(c.in_flight());
  for (int64_t u = t; u < t + 2 * kMinute; u += 1000) {
    EXPECT_FALSE(c.tick(u, u / 1000, true)) << "a second one while the first is in flight";
  }
  c.done(false, t + 2 * kMinute);
  std::optional<int64_t> retry;
  for (int64_t u = t + 2 * kMinute; u < t + 3 * kMinute && !retry; u += 1000) {
    retry = c.tick(u, u / 1000, true);
  }
  EXPECT_TRUE(retry) << "a failed compaction is tried again at a later sample";
}

TEST(AutoCompaction, RevisionModeKeepsTheLastRetentionRevisionsEveryFiveMinutes) {
  AutoCompaction o;
  o.mode = AutoCompaction::Mode::kRevision;
  o.retention_revisions = 100;
  AutoCompactor c(o);
  int64_t revision = 50;
  std::vector<std::pair<int64_t, int64_t>> asked;
  for (int64_t t = 1000; t <= 21 * kMinute; t += 1000) {
    if (t == 11 * kMinute) revision = 1000;
    if (auto rev = c.tick(t, revision, true)) {
      asked.emplace_back(t, *rev);
      c.done(true, t);
    }
  }
  ASSERT_EQ(asked.size(), 1u) << "nothing while revision - retention <= 0, once for 1000 - 100";
  EXPECT_EQ(asked[0].second, 900);
  EXPECT_EQ(asked[0].first % (5 * kMinute), 1000) << "checked every 5 minutes";
}

TEST(AutoCompaction, OffByDefault) {
  AutoCompactor c(AutoCompaction{});
  EXPECT_TRUE(run(c, 0, 60 * kMinute, kMinute).empty());
}

}  // namespace
}  // namespace etcdlab::server
