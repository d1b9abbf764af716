#include "raft_log.h"

#include <fmt/format.h>

#include <stdexcept>

#include "etcdlab/broken.h"
#include "etcdlab/errors.h"

namespace etcdlab::raft {

RaftLog::RaftLog(LogStorage& storage) : storage_(storage) {
  offset_ = storage_.last_index() + 1;
  if (ETCDLAB_BROKEN("cache-storage-indexes")) cached_first_ = storage_.first_index();
  uint64_t first = storage_.first_index();
  committed_ = first - 1;  // the snapshot is committed by definition
  applied_ = first - 1;
}

uint64_t RaftLog::first_index() const {
  if (ETCDLAB_BROKEN("cache-storage-indexes")) return cached_first_;  // the bug: never moves
  if (unstable_snapshot_) return unstable_snapshot_->index + 1;
  return storage_.first_index();
}

uint64_t RaftLog::last_index() const {
  if (!unstable_.empty()) return offset_ + unstable_.size() - 1;
  if (unstable_snapshot_) return unstable_snapshot_->index;
  return storage_.last_index();
}

std::optional<uint64_t> RaftLog::term(uint64_t index) const {
  if (!unstable_.empty() && index >= offset_) {
    if (index > last_index()) return std::nullopt;
    return unstable_[index - offset_].term;
  }
  if (unstable_snapshot_) {
    if (index == unstable_snapshot_->index) return unstable_snapshot_->term;
    if (index < unstable_snapshot_->index) return std::nullopt;
    return std::nullopt;  // past the snapshot and nothing unstable after it
  }
  // The dummy entry at first_index - 1 has the snapshot's term (0 for an empty log).
  if (ETCDLAB_BROKEN("compacted-error-escapes") && index + 1 < storage_.first_index()) {
    return storage_.term(index);  // the bug: the storage's CompactedError escapes
  }
  if (index + 1 < storage_.first_index() || index > storage_.last_index()) return std::nullopt;
  // The bug variant: the term of the snapshot's index is taken as missing.
  if (ETCDLAB_BROKEN("snapshot-term-missing") && index + 1 == storage_.first_index()) {
    return std::nullopt;
  }
  try {
    return storage_.term(index);
  } catch (const CompactedError&) {
    return std::nullopt;
  } catch (const UnavailableError&) {
    return std::nullopt;
  }
}

std::vector<Entry> RaftLog::slice(uint64_t lo, uint64_t hi, uint64_t max_bytes) const {
  std::vector<Entry> out;
  if (lo >= hi) return out;
  uint64_t bytes = 0;
  // The stable part: [lo, min(hi, offset)).
  if (lo < offset_ && !unstable_snapshot_) {
    uint64_t stable_hi = std::min(hi, offset_);
    out = storage_.entries(lo, stable_hi, max_bytes);
    for (const auto& e : out) bytes += entry_size(e);
    if (out.empty() || out.back().index + 1 < stable_hi) return out;  // size limit reached
  }
  for (uint64_t i = std::max(lo, offset_); i < hi; ++i) {
    const Entry& e = unstable_[i - offset_];
    bytes += entry_size(e);
    if (!out.empty() && bytes > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

std::optional<std::vector<Entry>> RaftLog::entries_from(uint64_t lo, uint64_t max_bytes) const {
  if (lo > last_index()) return std::vector<Entry>{};
  if (lo < first_index()) return std::nullopt;
  return slice(lo, last_index() + 1, max_bytes);
}

std::pair<uint64_t, uint64_t> RaftLog::find_conflict_by_term(uint64_t index, uint64_t t) const {
  for (;;) {
    auto our = term(index);
    if (!our || *our <= t) return {index, our.value_or(0)};
    if (index == 0) return {0, 0};
    index--;
  }
}

void RaftLog::truncate_and_append(const std::vector<Entry>& entries) {
  uint64_t after = entries.front().index;
  if (after == offset_ + unstable_.size()) {
    // Directly after the unstable tail.
  } else if (after <= offset_) {
    // Replaces the whole unstable tail (and, once persisted, the storage's suffix).
    offset_ = after;
    unstable_.clear();
  } else {
    unstable_.resize(after - offset_);
  }
  unstable_.insert(unstable_.end(), entries.begin(), entries.end());
}

void RaftLog::append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  if (entries.front().index <= committed_) {
    throw std::logic_error(fmt::format("append at {} would overwrite committed entries (<= {})",
                                       entries.front().index, committed_));
  }
  truncate_and_append(entries);
}

std::optional<uint64_t> RaftLog::maybe_append(uint64_t prev_index, uint64_t prev_term,
                                              uint64_t commit, const std::vector<Entry>& entries) {
  if (!match_term(prev_index, prev_term) && !ETCDLAB_BROKEN("accept-mismatched-append")) {
    return std::nullopt;
  }
  uint64_t last_new = prev_index + entries.size();
  // The first entry that is new or disagrees with ours; everything before it we already have.
  size_t first_new = entries.size();
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!match_term(entries[i].index, entries[i].term) ||
        ETCDLAB_BROKEN("truncate-on-every-append")) {
      first_new = i;
      break;
    }
  }
  if (first_new < entries.size()) {
    if (entries[first_new].index <= committed_) {
      throw std::logic_error(fmt::format("entry {} conflicts with a committed entry (commit {})",
                                         entries[first_new].index, committed_));
    }
    append(std::vector<Entry>(entries.begin() + static_cast<std::ptrdiff_t>(first_new),
                              entries.end()));
  }
  // (The bug variant: commit up to the follower's own last index, past what this append vouched.)
  commit_to(
      std::min(commit, ETCDLAB_BROKEN("follower-commits-to-own-last") ? last_index() : last_new));
  return last_new;
}

void RaftLog::commit_to(uint64_t index) {
  if (index <= committed_) return;
  if (index > last_index()) {
    throw std::logic_error(
        fmt::format("commit {} is past the last index {}: was the log lost?", index, last_index()));
  }
  committed_ = index;
}

bool RaftLog::maybe_commit(uint64_t max_index, uint64_t t) {
  if (max_index > committed_ &&
      (term_or_zero(max_index) == t || ETCDLAB_BROKEN("commit-previous-term"))) {
    commit_to(max_index);
    return true;
  }
  return false;
}

void RaftLog::applied_to(uint64_t index) {
  if (index == 0) return;
  if (index > committed_ && !ETCDLAB_BROKEN("apply-uncommitted")) {
    throw std::logic_error(fmt::format("applied {} is past commit {}", index, committed_));
  }
  if (index < applied_) {
    throw std::logic_error(fmt::format("applied {} moves back from {}", index, applied_));
  }
  applied_ = index;
}

bool RaftLog::has_next_committed() const {
  if (unstable_snapshot_) return false;
  uint64_t upto = ETCDLAB_BROKEN("apply-uncommitted") ? last_index() : committed_;
  return upto > applied_;
}

std::vector<Entry> RaftLog::next_committed(uint64_t max_bytes) const {
  if (!has_next_committed()) return {};
  uint64_t upto = ETCDLAB_BROKEN("apply-uncommitted") ? last_index() : committed_;
  return slice(std::max(applied_ + 1, first_index()), upto + 1, max_bytes);
}

void RaftLog::stable_to(uint64_t index, uint64_t t) {
  // Only if the tail still holds that entry: it may have been replaced since the Ready.
  if (index < offset_ || index >= offset_ + unstable_.size()) return;
  if (unstable_[index - offset_].term != t) return;
  unstable_.erase(unstable_.begin(),
                  unstable_.begin() + static_cast<std::ptrdiff_t>(index + 1 - offset_));
  offset_ = index + 1;
}

void RaftLog::stable_snapshot_to(uint64_t index) {
  if (unstable_snapshot_ && unstable_snapshot_->index == index) unstable_snapshot_.reset();
}

uint64_t RaftLog::persisted_index() const {
  if (unstable_snapshot_) return 0;
  return std::min(storage_.last_index(), offset_ - 1);
}

void RaftLog::restore(const SnapshotMeta& snapshot) {
  committed_ = snapshot.index;
  unstable_.clear();
  offset_ = snapshot.index + 1;
  unstable_snapshot_ = snapshot;
}

SnapshotMeta RaftLog::snapshot() const {
  if (unstable_snapshot_) return *unstable_snapshot_;
  return storage_.snapshot();
}

}  // namespace etcdlab::raft
