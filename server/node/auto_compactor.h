#pragma once
// etcd 3.4's auto-compaction (--auto-compaction-mode, --auto-compaction-retention), decided
// from ticks. Only the leader compacts (etcd pauses the compactor on followers); every member
// samples its revision, so a new leader knows where to compact to.
//
//   periodic   keep `retention` of history. Every retention/10 (at most 6 minutes apart: a
//              retention over an hour samples every hour/10) the current revision is noted;
//              once `retention` has passed since the start or the last compaction, compact to
//              the revision noted `retention` ago (sampled one interval before the check, so
//              between retention and retention + retention/10 of history stays). After the
//              first, compactions come every retention (at most every hour). As etcd's
//              compactor/periodic.go.
//   revision   keep the last `retention` revisions: every 5 minutes, compact to
//              revision - retention if that is positive and new. As compactor/revision.go.
//
// A compaction that fails with "already compacted" counts as done; other failures are retried
// at the next sample.

#include <cstdint>
#include <deque>
#include <optional>

namespace etcdlab::server {

struct AutoCompaction {
  enum class Mode { kNone, kPeriodic, kRevision };
  Mode mode = Mode::kNone;
  int64_t retention_ms = 0;         // periodic
  int64_t retention_revisions = 0;  // revision
};

class AutoCompactor {
 public:
  explicit AutoCompactor(const AutoCompaction& options) : options_(options) {}

  // Time has reached `now_ms` (since the node started) with the store at `revision`. Returns
  // the revision to compact to, when one is due and this member leads.
  std::optional<int64_t> tick(int64_t now_ms, int64_t revision, bool leader);
  // The compaction tick() asked for was applied (ok), or failed.
  void done(bool ok, int64_t now_ms);
  bool in_flight() const { return in_flight_; }

 private:
  std::optional<int64_t> periodic(int64_t now_ms, int64_t revision, bool leader);
  std::optional<int64_t> by_revision(int64_t now_ms, int64_t revision, bool leader);

  AutoCompaction options_;
  bool in_flight_ = false;
  int64_t next_sample_ms_ = 0;
  int64_t last_success_ms_ = 0;
  int64_t base_interval_ms_ = -1;  // periodic: retention until the first compaction
  std::deque<int64_t> revisions_;  // periodic: samples, the oldest `retention` ago
  int64_t last_compacted_ = 0;     // revision: the last revision compacted to
  int64_t asked_ = 0;
};

}  // namespace etcdlab::server
