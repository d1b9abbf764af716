#pragma once
// The shape of a Raft log without its payloads: the base index (what a snapshot covers), the
// last index, and the term of every entry as runs of equal terms. The WAL tracks it while it
// appends and while it replays, so both apply the same rules (wal.h, "Replay").

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace etcdlab {

class LogShape {
 public:
  explicit LogShape(uint64_t base = 0) : base_(base), last_(base) {}

  uint64_t base() const { return base_; }
  uint64_t last() const { return last_; }

  // Records entry (index, term); requires index <= last + 1. Drops what it replaces. An index at
  // or below the base only drops every entry after the base (the base itself stays covered).
  void append(uint64_t index, uint64_t term) {
    if (index <= base_) {
      runs_.clear();
      last_ = base_;
      return;
    }
    while (!runs_.empty() && runs_.back().first >= index) runs_.pop_back();
    if (runs_.empty() || runs_.back().second != term) runs_.emplace_back(index, term);
    last_ = index;
  }

  // Whether a snapshot at (index, term) matches this log: the log holds that entry. (Runs all
  // start above the base, so nothing at or below it matches.)
  bool matches(uint64_t index, uint64_t term) const {
    if (index > last_) return false;
    for (auto it = runs_.rbegin(); it != runs_.rend(); ++it) {
      if (it->first <= index) return it->second == term;
    }
    return false;
  }

  // A snapshot at `index`. If it replaced the log (it did not match), every entry goes and the
  // base moves to `index`; otherwise the entries up to `index` go and the rest stay. Either
  // way nothing at or below the current base changes (those positions are already covered).
  void snapshot(uint64_t index, bool replaced_log) {
    if (replaced_log) {
      runs_.clear();
      base_ = std::max(base_, index);
      last_ = base_;
      return;
    }
    if (index <= base_) return;
    std::vector<std::pair<uint64_t, uint64_t>> kept;
    for (size_t i = 0; i < runs_.size(); ++i) {
      uint64_t run_end = i + 1 < runs_.size() ? runs_[i + 1].first - 1 : last_;
      if (run_end > index) kept.emplace_back(std::max(runs_[i].first, index + 1), runs_[i].second);
    }
    runs_ = std::move(kept);
    base_ = index;
    last_ = std::max(last_, base_);
  }

 private:
  uint64_t base_;
  uint64_t last_;
  std::vector<std::pair<uint64_t, uint64_t>> runs_;  // (first index, term), ascending
};

}  // namespace etcdlab
