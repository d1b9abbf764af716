// Reference Raft: membership changes, one server at a time.
//
// A configuration entry takes effect when the driver applies it (apply_conf_change), as in etcd,
// not when it is appended. Safety comes from two rules at the leader: no new change is proposed
// while an earlier one is unapplied, and none before the leader's first entry of its term is
// applied. Then any two successive configurations differ by one server, so their majorities
// overlap, and a leader elected under either sees every committed entry.
#include <fmt/format.h>

#include <algorithm>

#include "etcdlab/broken.h"
#include "etcdlab/codec.h"
#include "raft_impl.h"

namespace etcdlab {

bool Raft::Impl::has_unapplied_conf_change() const {
  if (log.committed() <= log.applied()) return false;
  for (const Entry& e : log.slice(log.applied() + 1, log.committed() + 1, ~0ULL)) {
    if (e.type == EntryType::kConfChange) return true;
  }
  return false;
}

ConfState conf_after(ConfState conf, const ConfChange& change) {
  auto erase = [](std::vector<NodeId>& v, NodeId n) {
    v.erase(std::remove(v.begin(), v.end(), n), v.end());
  };
  auto insert = [](std::vector<NodeId>& v, NodeId n) {
    if (std::find(v.begin(), v.end(), n) == v.end()) {
      v.push_back(n);
      std::sort(v.begin(), v.end());
    }
  };
  NodeId n = change.node_id;
  switch (change.type) {
    case ConfChange::Type::kAddVoter:  // also promotes a learner
      erase(conf.learners, n);
      insert(conf.voters, n);
      break;
    case ConfChange::Type::kAddLearner:
      if (std::find(conf.voters.begin(), conf.voters.end(), n) != conf.voters.end()) break;
      insert(conf.learners, n);
      break;
    case ConfChange::Type::kRemoveNode:
      erase(conf.voters, n);
      erase(conf.learners, n);
      break;
    case ConfChange::Type::kUpdateNode:
      break;
  }
  return conf;
}

ConfState Raft::Impl::apply_conf_change(const ConfChange& change) {
  ConfState conf = conf_after(tracker.conf(), change);
  if (ETCDLAB_BROKEN("conf-from-initial-voters")) {  // the bug: each change undoes the last
    conf = conf_after(ConfState{config.voters, config.learners}, change);
  }
  note("node {} applied {} {} at term {}: {}", id, to_string(change.type), change.node_id, term,
       to_string(conf));
  switch_to_conf(conf);
  return conf;
}

void Raft::Impl::switch_to_conf(const ConfState& conf) {
  tracker.set_conf(conf, log.last_index());
  if (role != Role::kLeader) return;
  if (!tracker.is_voter(id) && !ETCDLAB_BROKEN("removed-leader-keeps-leading")) {
    // A leader removed (or demoted) steps down; the rest elect a leader among themselves.
    note("node {} steps down at term {}: removed from the configuration", id, term);
    become_follower(term, kNoNode);
    return;
  }
  if (lead_transferee != kNoNode && !tracker.is_voter(lead_transferee)) abort_leader_transfer();
  // A smaller quorum may commit more; new members need the log.
  if (maybe_commit()) on_commit_advanced();
  broadcast_append();
}

}  // namespace etcdlab
