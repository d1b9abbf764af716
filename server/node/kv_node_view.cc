// KvNode: what the live cluster view shows of this member (node_view.h).
#include <algorithm>

#include "kv_node.h"
#include "kv_node_impl.h"

namespace etcdlab::server {

uint64_t KvNode::Impl::noted(uint64_t id, std::optional<RequestNote> note) {
  if (note) request_log.called(id, std::move(*note), now_ms());
  return id;
}

NodeView KvNode::view_state() const {
  const auto& r = *impl_;
  // Raft's own state now (its term, vote and role may be ahead of the last Ready's); the log
  // as written to the storage, which is where the terms are read from.
  RaftStatus st = r.raft->status();
  NodeView v;
  v.id = st.id;
  v.role = st.soft_state.role;
  v.leader = st.soft_state.leader;
  v.term = st.hard_state.term;
  v.vote = st.hard_state.vote;
  v.commit = st.hard_state.commit;
  v.applied = r.applied;
  v.snapshot_index = r.storage->snapshot().index;
  v.first_index = r.storage->first_index();
  v.last_index = r.storage->last_index();
  uint64_t shown = std::min<uint64_t>(kViewLogTerms, v.last_index + 1 - v.first_index);
  v.log_from = v.last_index + 1 - shown;
  v.log_terms.reserve(shown);
  for (uint64_t i = v.log_from; i <= v.last_index; ++i) v.log_terms.push_back(r.storage->term(i));
  v.voters = st.conf.voters;
  v.learners = st.conf.learners;
  std::sort(v.voters.begin(), v.voters.end());
  std::sort(v.learners.begin(), v.learners.end());
  v.member = std::binary_search(v.voters.begin(), v.voters.end(), st.id) ||
             std::binary_search(v.learners.begin(), v.learners.end(), st.id);
  v.now_ms = r.now_ms();
  return v;
}

std::vector<RequestRecord> KvNode::recent_requests() const {
  return impl_->request_log.recent();
}

}  // namespace etcdlab::server
