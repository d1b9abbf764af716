#pragma once
// The Raft invariants (Figure 3 of the Raft paper, and the durability rules around it), checked
// incrementally as the simulator's nodes act. The driver reports what each node does; the first
// broken invariant throws InvariantViolation naming the invariant, the node and the event.
//
//   election safety       at most one leader per term, over the whole run
//   log matching          two logs with an entry of the same index and term hold the same
//                         entry and agree on the term before it (hence on the whole prefix)
//   leader append-only    a leader never overwrites or deletes entries of its own log
//   leader completeness   every entry ever committed is in the log of every later leader
//   state machine safety  every node applies the same entry at each index, in order, no gaps,
//                         and never past its commit index
//   durable commit        a leader's commit index never exceeds what a quorum of voters has
//                         synced to disk; commit never decreases while a node is up
//   durable term and vote a restarted node's term is at least every term it acted in, and
//                         it remembers the vote it gave in that term; one vote per term
//   learners              a learner never campaigns (it may grant a vote it is asked for)
//   snapshots             the snapshot index never goes backwards across restarts
//   one change at a time  a leader never appends a membership change while another is
//                         unapplied (so successive configurations share a majority)

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "etcdlab/types.h"

namespace etcdlab::sim {

class InvariantViolation : public std::runtime_error {
 public:
  InvariantViolation(std::string invariant, int node, uint64_t event, uint64_t time_us,
                     std::string detail, const std::string& context = "");
  const std::string& invariant() const { return invariant_; }
  int node() const { return node_; }
  uint64_t event() const { return event_; }
  uint64_t time_us() const { return time_us_; }
  const std::string& detail() const { return detail_; }

 private:
  std::string invariant_;
  int node_;
  uint64_t event_;
  uint64_t time_us_;
  std::string detail_;
};

// A node's log as it is on disk: what survives a crash.
struct DurableLog {
  uint64_t base = 0;            // covered by a snapshot up to here
  std::vector<uint64_t> terms;  // terms[i] is the term of entry base + 1 + i
  uint64_t last() const { return base + terms.size(); }
  // The term of `index`; 0 if absent; kCovered if at or below the base.
  static constexpr uint64_t kCovered = ~0ULL;
  uint64_t term(uint64_t index) const {
    if (index <= base) return kCovered;
    if (index > last()) return 0;
    return terms[index - base - 1];
  }
  void append(const std::vector<Entry>& entries);
  void snapshot(uint64_t index, bool replaced_log);
};

class InvariantChecker {
 public:
  // `where` gives the current event number and time for reports.
  InvariantChecker(int nodes, std::function<std::pair<uint64_t, uint64_t>()> where);

  void became_leader(int node, uint64_t term);
  void sent(int node, const Message& m, bool is_learner);
  void leader_appends(int node, const std::vector<Entry>& entries, uint64_t stored_last,
                      const std::function<bool(uint64_t lo, uint64_t hi)>& has_conf_change,
                      uint64_t applied);
  // Entries now synced on `node`; prev_term(i) is its log's term at i (for log matching).
  void persisted(int node, const std::vector<Entry>& entries,
                 const std::function<uint64_t(uint64_t)>& prev_term);
  void snapshot_durable(int node, uint64_t index, bool replaced_log);
  void commit(int node, uint64_t commit);
  // A leader's commit must be on the disks of a majority of the voters of some configuration
  // in effect while it committed (`configs`: before and after the Ready's conf changes);
  // term_at(i) reads the leader's log.
  void leader_commit(int node, uint64_t commit, bool newly_leader,
                     const std::vector<std::vector<int>>& configs,
                     const std::function<uint64_t(uint64_t)>& term_at);
  void check_completeness(int node, uint64_t snapshot_index, uint64_t last_index,
                          const std::function<uint64_t(uint64_t)>& term_at);
  void applied(int node, const Entry& e, uint64_t commit);
  void snapshot_restored(int node, uint64_t index);  // applied jumps to index
  void crashed(int node);
  // A node restarted from its disk, which holds `on_disk` (what survived, unsynced writes
  // included: from now on it is all durable).
  void restarted(int node, const HardState& hs, const DurableLog& on_disk);

  const DurableLog& durable(int node) const { return durable_[node]; }

 private:
  [[noreturn]] void fail(const std::string& invariant, int node, const std::string& detail) const;

  std::function<std::pair<uint64_t, uint64_t>()> where_;
  std::map<uint64_t, int> leader_of_term_;
  struct EntryId {
    uint64_t data_hash;
    uint64_t prev_term;
  };
  std::map<std::pair<uint64_t, uint64_t>, EntryId> entries_;  // (index, term) -> identity
  std::map<uint64_t, uint64_t> committed_;                    // index -> term
  std::map<uint64_t, uint64_t> applied_hash_;                 // index -> hash(term, data)
  std::vector<DurableLog> durable_;
  std::vector<uint64_t> last_applied_;
  std::vector<uint64_t> commit_;
  std::vector<uint64_t> max_term_sent_;
  std::vector<std::map<uint64_t, NodeId>> votes_;  // per node: term -> candidate
  std::vector<uint64_t> max_snapshot_;
  std::vector<uint64_t> leader_checked_;  // the last commit checked while leader
};

uint64_t hash_bytes(std::string_view bytes, uint64_t seed = 0xcbf29ce484222325ULL);

}  // namespace etcdlab::sim
