#pragma once
// What the concurrency recipes (/v3/lock, /v3/election) need from a member, as a client of it
// would: a txn, a linearizable range, a wait for a key's deletion (a watch from a revision),
// and a session lease. etcd's lock and election services are clients of their own server
// (clientv3 inside the server); so are these, through KvService, and the decisions stay in the
// recipes (lab 5's LockRecipe; recipes.cc). Shared by both doors. Each call carries the
// caller's credentials, so a recipe is checked through its inner requests, as etcd's (its
// embedded client passes the caller's token on).
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>

#include "../gateway/service.h"
#include "errors.h"
#include "etcdlab/txn/txn.h"

namespace etcdlab::rpc {

using gateway::KvService;

// etcd's lock and election services answer every error with gRPC code 2 (Unknown) and its
// message: they pass their client's errors on as plain errors.
[[noreturn]] void recipe_error(const std::string& message);

// A txn through the node; a failed one (the store's, the lessor's, the node's errors) throws
// recipe_error.
boost::asio::awaitable<txn::TxnResult> recipe_txn(KvService& s, txn::TxnRequest t,
                                                  const server::Credentials& who);
// A linearizable range (a ReadIndex round, then this member's store).
boost::asio::awaitable<mvcc::RangeResult> recipe_range(KvService& s, mvcc::KeyRange range,
                                                       mvcc::RangeOptions options,
                                                       const server::Credentials& who);
// The next event on `range` at a revision >= from_revision (the first of its write, if the
// write had several), with the revision of the watch response that carried it; no_put /
// no_delete filter. A compacted from_revision throws recipe_error.
struct WatchedEvent {
  mvcc::Event event;
  int64_t revision = 0;
};
boost::asio::awaitable<WatchedEvent> next_event(KvService& s, mvcc::KeyRange range,
                                                int64_t from_revision, bool no_put, bool no_delete,
                                                const server::Credentials& who);
// Returns once `key` is deleted at a revision >= from_revision (at once if it was already).
boost::asio::awaitable<void> wait_deleted(KvService& s, std::string key, int64_t from_revision,
                                          const server::Credentials& who);
// etcd's session: the client's lease, or (lease 0) a new one of 60 s that nobody keeps
// alive (etcd's services orphan their sessions).
boost::asio::awaitable<int64_t> session_lease(KvService& s, int64_t lease,
                                              const server::Credentials& who);

}  // namespace etcdlab::rpc
