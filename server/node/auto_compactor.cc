#include "auto_compactor.h"

#include <algorithm>

namespace etcdlab::server {
namespace {

constexpr int64_t kHourMs = 3600 * 1000;
constexpr int64_t kRevisionIntervalMs = 5 * 60 * 1000;  // etcd's revInterval
constexpr int64_t kRetryDivisor = 10;                   // etcd's retryDivisor

}  // namespace

std::optional<int64_t> AutoCompactor::tick(int64_t now_ms, int64_t revision, bool leader) {
  switch (options_.mode) {
    case AutoCompaction::Mode::kPeriodic:
      if (options_.retention_ms <= 0) return std::nullopt;
      return periodic(now_ms, revision, leader);
    case AutoCompaction::Mode::kRevision:
      if (options_.retention_revisions <= 0) return std::nullopt;
      return by_revision(now_ms, revision, leader);
    case AutoCompaction::Mode::kNone:
      break;
  }
  return std::nullopt;
}

std::optional<int64_t> AutoCompactor::periodic(int64_t now_ms, int64_t revision, bool leader) {
  const int64_t period = options_.retention_ms;
  const int64_t interval = std::min(period, kHourMs);              // between compactions
  const int64_t retry = std::max<int64_t>(1, interval / kRetryDivisor);  // between samples
  const size_t keep = static_cast<size_t>(period / retry) + 1;     // samples spanning `period`
  if (base_interval_ms_ < 0) {
    base_interval_ms_ = period;  // the first compaction waits a whole retention
    last_success_ms_ = now_ms;
    next_sample_ms_ = now_ms;
  }
  if (now_ms < next_sample_ms_) return std::nullopt;
  next_sample_ms_ = now_ms + retry;
  std::optional<int64_t> out;
  // As etcd's loop: the check (with the samples so far) comes before this sample is added.
  if (leader && !in_flight_ && !revisions_.empty() &&
      now_ms - last_success_ms_ >= base_interval_ms_) {
    if (base_interval_ms_ == period) base_interval_ms_ = interval;
    out = revisions_.front();
    in_flight_ = true;
    asked_ = *out;
  }
  revisions_.push_back(revision);
  while (revisions_.size() > keep) revisions_.pop_front();
  return out;
}

std::optional<int64_t> AutoCompactor::by_revision(int64_t now_ms, int64_t revision, bool leader) {
  if (next_sample_ms_ == 0) next_sample_ms_ = now_ms + kRevisionIntervalMs;
  if (now_ms < next_sample_ms_) return std::nullopt;
  next_sample_ms_ = now_ms + kRevisionIntervalMs;
  if (!leader || in_flight_) return std::nullopt;
  int64_t target = revision - options_.retention_revisions;
  if (target <= 0 || target == last_compacted_) return std::nullopt;
  in_flight_ = true;
  asked_ = target;
  return target;
}

void AutoCompactor::done(bool ok, int64_t now_ms) {
  if (!in_flight_) return;
  in_flight_ = false;
  if (!ok) return;  // retried at a later sample
  last_success_ms_ = now_ms;
  last_compacted_ = asked_;
}

}  // namespace etcdlab::server
