#pragma once
// The node's log of recent client requests, for the live view (node_view.h): what each request
// in flight is and when it arrived, and a ring of the last kViewRecentRequests completed ones.
// Kept on the node thread by KvNode (kv_node_view.cc): a request is noted when a client hands
// it in, and recorded when its Completion is taken.

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "membership.h"
#include "node_view.h"
#include "requests.h"

namespace etcdlab::server {

struct Completion;

// What a request is, as the view shows it: a kind and a short text without keys or values.
struct RequestNote {
  std::string kind;
  std::string text;
};
RequestNote describe(const Request& request);
RequestNote describe(const MemberChange& change);
RequestNote describe_txn(const TxnRequest& txn);

class RequestLog {
 public:
  // A client handed request `id` in at `now_ms`.
  void called(uint64_t id, RequestNote note, int64_t now_ms);
  // Its completion was taken at `now_ms`; `revision` is the store's now (the answer of a read,
  // whose completion carries none). A completion of an id never noted is not recorded.
  void completed(const Completion& c, int64_t now_ms, int64_t revision);
  void forgotten(uint64_t id);                // no completion will come (the client went away)
  std::vector<RequestRecord> recent() const;  // oldest first
  size_t in_flight() const { return calls_.size(); }

  // At most this many noted and not yet completed: a driver that never takes its completions
  // must not make the log grow without bound (the oldest are dropped: ids only grow).
  static constexpr size_t kMaxInFlight = 65536;

 private:
  struct Call {
    RequestNote note;
    int64_t call_ms = 0;
  };
  std::map<uint64_t, Call> calls_;
  std::deque<RequestRecord> recent_;
};

// etcd's text for a failed result (store, lessor, quota or auth), "ok" for a good one.
std::string outcome_of(const Result& result);

}  // namespace etcdlab::server
