#pragma once
// The leader's view of each follower (Progress) and of the configuration as a whole (Tracker):
// who votes, who only learns, what a quorum has, who is recently active.

#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "etcdlab/broken.h"
#include "etcdlab/raft/config.h"
#include "etcdlab/types.h"

namespace etcdlab::raft {

// Append messages sent to one follower and not yet acknowledged, by their last index. Flow
// control: a leader stops sending when max_inflight are outstanding.
class Inflights {
 public:
  explicit Inflights(size_t max) : max_(max) {}
  bool full() const { return in_.size() >= max_; }
  void add(uint64_t last_index) { in_.push_back(last_index); }
  void free_le(uint64_t index) {  // acknowledged up to index
    while (!in_.empty() && in_.front() <= index) in_.pop_front();
  }
  void free_first() {
    if (!in_.empty()) in_.pop_front();
  }
  void reset() { in_.clear(); }
#ifdef ETCDLAB_BROKEN_VARIANTS
  bool any() const {
    return !in_.empty();
  }  // broken variant "one-append-per-round-trip" only
#endif

 private:
  size_t max_;
  std::deque<uint64_t> in_;
};

// How a leader sends to one follower:
//   kProbe      one append at a time until the follower says where its log matches;
//   kReplicate  pipelined appends (next runs ahead of match, bounded by inflights);
//   kSnapshot   a snapshot is on its way; nothing else until it is acknowledged.
// invariant: match < next
struct Progress {
  explicit Progress(size_t max_inflight) : inflights(max_inflight) {}
  using State = ProgressStatus::State;

  uint64_t match = 0;
  uint64_t next = 1;
  State state = State::kProbe;
  uint64_t pending_snapshot = 0;  // kSnapshot: the index of the snapshot being sent
  bool probe_sent = false;        // kProbe: an append is outstanding, wait for its answer
  bool recent_active = false;     // heard from since the last quorum check
  bool learner = false;
  Inflights inflights;

  void become_probe();
  void become_replicate();
  void become_snapshot(uint64_t index);
  // An acknowledgement up to index: returns whether it moved match.
  bool maybe_update(uint64_t index);
  // After sending entries up to last in kReplicate: next runs ahead.
  void optimistic_update(uint64_t last) { next = last + 1; }
  // A rejection of the append at `rejected` with a hint: move next back. False if stale.
  bool maybe_decrease_to(uint64_t rejected, uint64_t hint);
  bool paused() const;
};

class Tracker {
 public:
  Tracker(NodeId self, size_t max_inflight) : self_(self), max_inflight_(max_inflight) {}

  // Replaces the configuration; new members start probing at next = last_index + 1.
  void set_conf(const ConfState& conf, uint64_t last_index);
  ConfState conf() const;
  bool is_voter(NodeId id) const;
  bool is_learner(NodeId id) const;
  bool contains(NodeId id) const { return progress_.count(id) != 0; }
  size_t voter_count() const;

  Progress& at(NodeId id) { return progress_.at(id); }
  const Progress& at(NodeId id) const { return progress_.at(id); }
  std::map<NodeId, Progress>& all() { return progress_; }
  const std::map<NodeId, Progress>& all() const { return progress_; }

  // The highest index a quorum of voters has matched.
  uint64_t committed_index() const;
  // Whether a quorum of voters (counting self) was recently active.
  bool quorum_active() const;
  void reset_recent_active();

  // Elections.
  enum class VoteResult { kPending, kWon, kLost };
  void reset_votes() {
    votes_.clear();
    if (ETCDLAB_BROKEN("count-duplicate-vote")) duplicate_grants_ = 0;
  }
  void record_vote(NodeId id, bool granted);
  VoteResult tally() const;
  bool has_quorum(const std::vector<NodeId>& acks) const;

 private:
  NodeId self_;
  size_t max_inflight_;
  std::map<NodeId, Progress> progress_;
  std::map<NodeId, bool> votes_;
  size_t duplicate_grants_ = 0;  // broken variant "count-duplicate-vote" only
};

}  // namespace etcdlab::raft
