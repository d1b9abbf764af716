#pragma once
// Raft's view of its log: the entries the storage holds (persisted) followed by an unstable tail
// of entries (and possibly a snapshot) handed to the driver but not yet persisted.
//
//   storage:   [first_index ............ stable last]
//   unstable:                     [offset ............ last_index]
//                                  (replaces the storage's suffix from offset on)
//
// invariant: applied <= committed <= last_index()
// invariant: unstable.entries[i].index == unstable.offset + i

#include <cstdint>
#include <optional>
#include <vector>

#include "etcdlab/log/log_storage.h"
#include "etcdlab/types.h"

namespace etcdlab::raft {

class RaftLog {
 public:
  explicit RaftLog(LogStorage& storage);

  uint64_t first_index() const;
  uint64_t last_index() const;
  uint64_t last_term() const { return term_or_zero(last_index()); }
  // The term of `index`, or nullopt if compacted away or past the end.
  std::optional<uint64_t> term(uint64_t index) const;
  uint64_t term_or_zero(uint64_t index) const { return term(index).value_or(0); }
  bool match_term(uint64_t index, uint64_t t) const { return term(index) == t; }
  // Entries [lo, last_index()] within max_bytes (at least one); nullopt if lo was compacted.
  std::optional<std::vector<Entry>> entries_from(uint64_t lo, uint64_t max_bytes) const;
  std::vector<Entry> slice(uint64_t lo, uint64_t hi, uint64_t max_bytes) const;  // [lo, hi)

  // A candidate's log (last term, last index) is at least as up to date as this one (§5.4.1).
  bool is_up_to_date(uint64_t index, uint64_t t) const {
    return t > last_term() || (t == last_term() && index >= last_index());
  }
  // The largest index <= index whose term is <= t (fast backtracking), and its term.
  std::pair<uint64_t, uint64_t> find_conflict_by_term(uint64_t index, uint64_t t) const;

  // Appends entries, replacing any conflicting suffix (of the unstable tail or the storage).
  void append(const std::vector<Entry>& entries);
  // A follower's append: if the log matches (prev_index, prev_term), appends what is new in
  // `entries`, moves commit to min(commit, last new index) and returns the last new index.
  std::optional<uint64_t> maybe_append(uint64_t prev_index, uint64_t prev_term, uint64_t commit,
                                       const std::vector<Entry>& entries);

  uint64_t committed() const { return committed_; }
  uint64_t applied() const { return applied_; }
  void commit_to(uint64_t index);  // never moves back; throws past last_index()
  // The leader's commit rule: max_index becomes committed only if its entry is of `t`, the
  // current term (Figure 8: older entries are committed indirectly).
  bool maybe_commit(uint64_t max_index, uint64_t t);
  void applied_to(uint64_t index);

  // Committed entries not applied yet (none while a received snapshot is pending).
  bool has_next_committed() const;
  std::vector<Entry> next_committed(uint64_t max_bytes) const;

  // The unstable tail handed to the driver, and acknowledging its persistence.
  const std::vector<Entry>& unstable_entries() const { return unstable_; }
  const std::optional<SnapshotMeta>& pending_snapshot() const { return unstable_snapshot_; }
  void stable_to(uint64_t index, uint64_t t);
  void stable_snapshot_to(uint64_t index);
  // The highest index known to be persisted (the leader counts itself up to here).
  uint64_t persisted_index() const;

  // A snapshot from the leader replaces the log.
  void restore(const SnapshotMeta& snapshot);
  // The latest snapshot (pending or in the storage).
  SnapshotMeta snapshot() const;

 private:
  void truncate_and_append(const std::vector<Entry>& entries);

  LogStorage& storage_;
  std::optional<SnapshotMeta> unstable_snapshot_;
  std::vector<Entry> unstable_;
  uint64_t offset_;  // index of unstable_[0]
  uint64_t committed_ = 0;
  uint64_t applied_ = 0;
  uint64_t cached_first_ = 0;  // broken variant "cache-storage-indexes" only
};

}  // namespace etcdlab::raft
