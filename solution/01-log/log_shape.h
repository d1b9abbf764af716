#pragma once
// The shape of a Raft log without its payloads: the base index (what a snapshot covers), the
// last index, and the term of every entry after the base. The WAL tracks it while it appends
// and while it replays, so both apply the same rules (wal.h, "Replay"). Eight bytes per entry
// the WAL holds; releasing segments after a snapshot keeps that small.

#include <algorithm>
#include <cstdint>
#include <deque>

namespace etcdlab {

class LogShape {
 public:
  explicit LogShape(uint64_t base = 0) : base_(base) {}

  uint64_t base() const { return base_; }
  uint64_t last() const { return base_ + terms_.size(); }

  // Records entry (index, term); requires index <= last + 1. Drops what it replaces. An index at
  // or below the base only drops every entry after the base (the base itself stays covered).
  void append(uint64_t index, uint64_t term) {
    if (index <= base_) {
      terms_.clear();
      return;
    }
    terms_.resize(index - base_ - 1);
    terms_.push_back(term);
  }

  // Whether a snapshot at (index, term) matches this log: the log holds that entry.
  bool matches(uint64_t index, uint64_t term) const {
    return index > base_ && index <= last() && terms_[index - base_ - 1] == term;
  }

  // A snapshot at `index`. If it replaced the log (it did not match), every entry goes and the
  // base moves to `index`; otherwise the entries up to `index` go and the rest stay. Either
  // way nothing at or below the current base changes (those positions are already covered).
  void snapshot(uint64_t index, bool replaced_log) {
    if (replaced_log) {
      terms_.clear();
      base_ = std::max(base_, index);
      return;
    }
    if (index <= base_) return;
    // (A snapshot that did not replace the log matched it: index <= last.)
    uint64_t covered = std::min<uint64_t>(index - base_, terms_.size());
    terms_.erase(terms_.begin(), terms_.begin() + static_cast<std::ptrdiff_t>(covered));
    base_ = index;
  }

 private:
  uint64_t base_;
  std::deque<uint64_t> terms_;  // invariant: terms_[i] is the term of entry base_ + 1 + i
};

}  // namespace etcdlab
