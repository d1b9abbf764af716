#include "etcdlab/sim/invariants.h"

#include <fmt/format.h>

#include <algorithm>

namespace etcdlab::sim {

uint64_t hash_bytes(std::string_view bytes, uint64_t seed) {
  uint64_t h = seed;
  for (char c : bytes) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

InvariantViolation::InvariantViolation(std::string invariant, int node, uint64_t event,
                                       uint64_t time_us, std::string detail,
                                       const std::string& context)
    : std::runtime_error(fmt::format("invariant \"{}\" broken on node {} at event {} "
                                     "(t={:.3f} ms): {}{}{}",
                                     invariant, node, event, time_us / 1000.0, detail,
                                     context.empty() ? "" : "\n", context)),
      invariant_(std::move(invariant)),
      node_(node),
      event_(event),
      time_us_(time_us),
      detail_(std::move(detail)) {}

void DurableLog::append(const std::vector<Entry>& entries) {
  for (const Entry& e : entries) {
    if (e.index <= base) continue;
    terms.resize(std::min<uint64_t>(terms.size(), e.index - base - 1));
    if (e.index == last() + 1) terms.push_back(e.term);
  }
}

void DurableLog::snapshot(uint64_t index, bool replaced_log) {
  if (replaced_log || index >= last()) {
    terms.clear();
  } else if (index > base) {
    terms.erase(terms.begin(), terms.begin() + static_cast<std::ptrdiff_t>(index - base));
  }
  base = std::max(base, index);
}

InvariantChecker::InvariantChecker(int nodes, std::function<std::pair<uint64_t, uint64_t>()> where)
    : where_(std::move(where)),
      durable_(nodes),
      last_applied_(nodes, 0),
      commit_(nodes, 0),
      max_term_sent_(nodes, 0),
      votes_(nodes),
      max_snapshot_(nodes, 0),
      leader_checked_(nodes, 0) {}

void InvariantChecker::fail(const std::string& invariant, int node,
                            const std::string& detail) const {
  auto [event, time] = where_();
  throw InvariantViolation(invariant, node, event, time, detail);
}

void InvariantChecker::became_leader(int node, uint64_t term) {
  auto [it, inserted] = leader_of_term_.emplace(term, node);
  if (!inserted && it->second != node) {
    fail("election safety", node,
         fmt::format("node {} and node {} were both leader at term {}", it->second, node, term));
  }
}

void InvariantChecker::sent(int node, const Message& m, bool is_learner) {
  bool term_less = m.type == MessageType::kPropose || m.type == MessageType::kReadIndex ||
                   m.type == MessageType::kTransferLeader;
  bool pre = m.type == MessageType::kPreVote || m.type == MessageType::kPreVoteResponse;
  // A pre-vote (and its answer) names a term the node has not entered.
  if (!term_less && !pre) max_term_sent_[node] = std::max(max_term_sent_[node], m.term);
  // A learner may grant a vote it is asked for (a candidate that applied its promotion asks it);
  // asking for votes is campaigning, which a learner never does.
  if (is_learner && (m.type == MessageType::kVote || m.type == MessageType::kPreVote)) {
    fail("learners", node, fmt::format("a learner sent {}", to_string(m)));
  }
  if (m.type == MessageType::kVoteResponse && !m.reject) {
    NodeId candidate = m.to;
    auto [it, inserted] = votes_[node].emplace(m.term, candidate);
    if (!inserted && it->second != candidate) {
      fail("durable term and vote", node,
           fmt::format("voted for {} and then for {} in term {}", it->second, candidate, m.term));
    }
  }
}

void InvariantChecker::leader_appends(
    int node, const std::vector<Entry>& entries, uint64_t stored_last,
    const std::function<bool(uint64_t, uint64_t)>& has_conf_change, uint64_t applied) {
  if (entries.empty()) return;
  if (entries.front().index <= stored_last) {
    fail("leader append-only", node,
         fmt::format("leader writes entry {} over its own log (last index {})",
                     entries.front().index, stored_last));
  }
  for (const Entry& e : entries) {
    if (e.type != EntryType::kConfChange) continue;
    if (has_conf_change(applied + 1, e.index)) {
      fail("one change at a time", node,
           fmt::format("leader appends a membership change at {} while an earlier one "
                       "(after applied index {}) is not applied",
                       e.index, applied));
    }
  }
}

void InvariantChecker::persisted(int node, const std::vector<Entry>& entries,
                                 const std::function<uint64_t(uint64_t)>& prev_term) {
  for (const Entry& e : entries) {
    uint64_t h = hash_bytes(e.data, e.term * 31 + static_cast<uint64_t>(e.type));
    uint64_t prev = e.index > 1 ? prev_term(e.index - 1) : 0;
    auto [it, inserted] = entries_.emplace(std::make_pair(e.index, e.term), EntryId{h, prev});
    if (!inserted) {
      if (it->second.data_hash != h) {
        fail("log matching", node,
             fmt::format("entry {}/{} holds different data on different nodes", e.index, e.term));
      }
      if (it->second.prev_term != prev && prev != DurableLog::kCovered &&
          it->second.prev_term != DurableLog::kCovered) {
        fail("log matching", node,
             fmt::format("entry {}/{} follows an entry of term {} here but of term {} elsewhere",
                         e.index, e.term, prev, it->second.prev_term));
      }
    }
  }
  durable_[node].append(entries);
}

void InvariantChecker::snapshot_durable(int node, uint64_t index, bool replaced_log) {
  durable_[node].snapshot(index, replaced_log);
  max_snapshot_[node] = std::max(max_snapshot_[node], index);
}

void InvariantChecker::commit(int node, uint64_t commit) {
  if (commit < commit_[node]) {
    fail("durable commit", node,
         fmt::format("commit index went back from {} to {}", commit_[node], commit));
  }
  commit_[node] = commit;
}

void InvariantChecker::leader_commit(int node, uint64_t commit, bool newly_leader,
                                     const std::vector<std::vector<int>>& configs,
                                     const std::function<uint64_t(uint64_t)>& term_at) {
  // A new leader's commit index was inherited: it was checked where it advanced.
  if (newly_leader) leader_checked_[node] = std::max(leader_checked_[node], commit);
  // Entries the commit covers are committed for good: record them, and they must never change.
  uint64_t from = committed_.empty() ? 1 : committed_.rbegin()->first + 1;
  for (uint64_t i = std::max<uint64_t>(from, durable_[node].base + 1); i <= commit; ++i) {
    committed_.emplace(i, term_at(i));
  }
  // Checked when the commit index moves: later configurations need not hold old commits.
  if (commit == 0 || commit <= durable_[node].base || commit <= leader_checked_[node]) return;
  leader_checked_[node] = commit;
  uint64_t t = term_at(commit);
  auto known = committed_.find(commit);
  if (known != committed_.end() && known->second != t) {
    fail("leader completeness", node,
         fmt::format("committed entry {} had term {}, the leader now has term {}", commit,
                     known->second, t));
  }
  auto has_it = [&](int v) {
    uint64_t dt = durable_[v].term(commit);
    return dt == t || dt == DurableLog::kCovered;
  };
  for (const auto& voters : configs) {
    size_t synced = 0;
    for (int v : voters) synced += has_it(v);
    if (synced > voters.size() / 2) return;
  }
  std::string disks;
  for (int v = 0; v < static_cast<int>(durable_.size()); ++v) {
    uint64_t dt = durable_[v].term(commit);
    disks += fmt::format("\n    node {}: log on disk ends at {}, holds {}", v, durable_[v].last(),
                         dt == DurableLog::kCovered ? std::string("it in a snapshot")
                         : dt == 0                  ? std::string("no entry there")
                                                    : fmt::format("term {} there", dt));
  }
  std::string voters;
  for (const auto& c : configs) voters += fmt::format(" [{}]", fmt::join(c, " "));
  fail("durable commit", node,
       fmt::format("leader committed {}/{} but no majority of the voters{} has it on disk:{}",
                   commit, t, voters, disks));
}

void InvariantChecker::check_completeness(int node, uint64_t snapshot_index, uint64_t last_index,
                                          const std::function<uint64_t(uint64_t)>& term_at) {
  for (auto it = committed_.upper_bound(snapshot_index); it != committed_.end(); ++it) {
    uint64_t t = it->first <= last_index ? term_at(it->first) : 0;
    if (t != it->second) {
      fail("leader completeness", node,
           fmt::format("new leader lacks committed entry {}/{} (its log has term {} there, "
                       "last index {})",
                       it->first, it->second, t, last_index));
    }
  }
}

void InvariantChecker::applied(int node, const Entry& e, uint64_t commit) {
  if (e.index != last_applied_[node] + 1) {
    fail("state machine safety", node,
         fmt::format("applied entry {} after entry {}: out of order or a gap", e.index,
                     last_applied_[node]));
  }
  if (e.index > commit) {
    fail("state machine safety", node,
         fmt::format("applied entry {} before it was committed (commit {})", e.index, commit));
  }
  uint64_t h = hash_bytes(e.data, e.term * 31 + static_cast<uint64_t>(e.type));
  auto [it, inserted] = applied_hash_.emplace(e.index, h);
  if (!inserted && it->second != h) {
    fail("state machine safety", node,
         fmt::format("applied a different entry at index {} than another node", e.index));
  }
  last_applied_[node] = e.index;
}

void InvariantChecker::snapshot_restored(int node, uint64_t index) {
  last_applied_[node] = std::max(last_applied_[node], index);
}

void InvariantChecker::crashed(int node) {
  // Memory is gone: applied and commit restart from what the disk says.
  last_applied_[node] = 0;
  commit_[node] = 0;
  leader_checked_[node] = 0;
}

void InvariantChecker::restarted(int node, const HardState& hs, const DurableLog& on_disk) {
  if (hs.term < max_term_sent_[node]) {
    fail("durable term and vote", node,
         fmt::format("restarted at term {} but had acted in term {}", hs.term,
                     max_term_sent_[node]));
  }
  auto vote = votes_[node].find(hs.term);
  if (vote != votes_[node].end() && vote->second != hs.vote) {
    fail("durable term and vote", node,
         fmt::format("restarted at term {} with vote {}, but had voted for {} in that term",
                     hs.term, hs.vote, vote->second));
  }
  if (on_disk.base < max_snapshot_[node]) {
    fail("snapshots", node,
         fmt::format("restarted with snapshot {} after having had snapshot {}", on_disk.base,
                     max_snapshot_[node]));
  }
  durable_[node] = on_disk;
  last_applied_[node] = on_disk.base;
}

}  // namespace etcdlab::sim
