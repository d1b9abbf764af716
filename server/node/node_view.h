#pragma once
// What a member shows of itself to the live cluster view (issue 20; docs/api.md, "The live
// view"): its Raft state with the tail of its log, and the last client requests it completed.
// The node fills these in (KvNode::view_state, recent_requests); the server only writes them
// out as JSON. Neither ever holds a key or a value: the view may be open to people who may not
// read the data.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "etcdlab/raft/config.h"
#include "etcdlab/types.h"

namespace etcdlab::server {

inline constexpr size_t kViewLogTerms = 64;        // the log tail shown, in entries
inline constexpr size_t kViewRecentRequests = 20;  // the completed requests kept

// One member's Raft state, as of the last Ready it took.
struct NodeView {
  NodeId id = kNoNode;
  Role role = Role::kFollower;
  uint64_t term = 0;
  NodeId vote = kNoNode;    // kNoNode: none this term
  NodeId leader = kNoNode;  // kNoNode: none known
  uint64_t commit = 0;
  uint64_t applied = 0;
  uint64_t first_index = 0;     // the first entry still in the log (snapshot_index + 1)
  uint64_t last_index = 0;      // the last entry written to the log
  uint64_t snapshot_index = 0;  // the last entry folded into the log's snapshot (0: none)
  // The terms of entries log_from .. last_index: the last kViewLogTerms at most (fewer when a
  // snapshot folded in the rest; none, with log_from = last_index + 1, when it folded all).
  uint64_t log_from = 1;
  std::vector<uint64_t> log_terms;
  std::vector<NodeId> voters;  // the configuration Raft runs on, ascending
  std::vector<NodeId> learners;
  bool member = false;  // this member is in that configuration
  int64_t now_ms = 0;   // the node's clock: ticks x tick_ms since it started
};

// A client request this member completed (answered, or refused, or timed out).
struct RequestRecord {
  uint64_t id = 0;        // the node's request id
  std::string kind;       // "put", "delete", "txn", "read", "compact", "lease_grant", ...
  std::string text;       // a short description: the kind and sizes, never a key or a value
  std::string outcome;    // "ok", or etcd's error text
  int64_t revision = 0;   // the store's revision in the answer (0: none)
  int64_t call_ms = 0;    // the node's clock when the request arrived,
  int64_t return_ms = 0;  // and when it completed
};

}  // namespace etcdlab::server
