#pragma once
// How the node serves a txn, as rules any door can ask about without a node (the gateway's
// test fakes apply requests directly): validation before the log and the read-only path.
// KvNode::txn is built on these.
#include <cstddef>

#include "requests.h"

namespace etcdlab::server {

enum class TxnPath {
  kLocal,           // reads only, every range serializable: this member's store, now
  kAfterReadIndex,  // reads only: this member's store once a ReadIndex round confirms it
  kLog,             // writes (or may): through the Raft log
};

// Validates the txn (lab 5's validate, with etcd's --max-txn-ops) and says how to serve it.
// Throws ApiError (InvalidArgument) for a TxnError, and the store's MvccError as it is.
TxnPath txn_path(const TxnRequest& t, size_t max_ops);

// A read-only txn served from a store, its errors in the result.
Result read_txn(const mvcc::KvStore& store, const TxnRequest& t);

// What a write costs the quota (etcd's quota.go): a put its key, value and an overhead; a txn
// the costlier of its two lists' puts, nested txns included; anything else nothing.
uint64_t quota_cost(const Request& request);

class KvStateMachine;
// A txn served as the node serves it, but with no log and no round (the gateway's tests and
// fuzz target, whose writes apply at once): refused, read, or applied to `sm`. Throws ApiError.
Result txn_without_log(KvStateMachine& sm, const TxnRequest& t, size_t max_ops = 128);

}  // namespace etcdlab::server
