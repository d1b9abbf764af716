#pragma once
// Lab 5, part D: the lock recipe, as etcd's client library writes it (clientv3/concurrency's
// Mutex) and as etcd's lock service (/v3/lock/lock) runs it. The handout explains it.
//
// A lock named N is a key prefix, N + "/". Each contender owns one key under it,
// N/<its lease id in hex>, attached to its lease (its "session"), so a contender that dies
// loses its key when its lease expires. The contenders queue in the order of their keys'
// create revisions: the one with the smallest holds the lock; each other waits for the
// deletion of the key just before its own (not of the holder's: a release would wake every
// waiter at once, the "herd"). The owner key's create revision is the lock's FENCING TOKEN: a
// resource that remembers the largest token it has accepted can refuse a write from a holder
// that lost the lock without knowing it (a paused process whose lease expired meanwhile).
//
// The recipe is a state machine with no I/O, like the Raft core: it names the request to make
// next (a txn, a range, a wait for a key's deletion) and is told the answer. One driver runs
// it against a real member (the gateway's /v3/lock/lock), another in tests and the simulator;
// a driver never decides anything the recipe should.
//
//   start()            -> kTxn: if create_revision(my key) == 0 then put my key (value "",
//                         my lease) and range the prefix's first key by create revision;
//                         else range my key and the prefix's first key (a session that
//                         asks again gets the key it has)
//   on_txn()           -> kHeld if no key comes before mine (the first key is mine), else
//                         kRange: the prefix's LAST key by create revision among those
//                         created before mine (max_create_revision = my revision - 1)
//   on_range()         -> a predecessor: kWaitDelete of it, watching from the range's
//                         revision + 1 (a deletion after the range was read is not missed);
//                         none left: kRange of my own key, to check my session is alive
//                         (etcd 3.4 skipped this check: Jepsen found locks held by expired
//                         sessions); then kHeld, or kFailed if my key is gone
//   on_deleted()       -> kRange again: the key deleted was only the nearest before mine;
//                         others created before mine may still be there (a waiter that gave up
//                         leaves the queue without the lock ever passing through it)
//
// A driver that gives up (the client went, a request failed) deletes key() if it is not empty:
// it may own it.

#include <cstdint>
#include <memory>
#include <string>

#include "etcdlab/mvcc/types.h"
#include "etcdlab/txn/txn.h"

namespace etcdlab::txn {

// What the recipe wants done next.
struct LockStep {
  enum class Kind {
    kTxn,         // run `txn`, then call on_txn() with its result
    kRange,       // read `range` with `options` (linearizable), then call on_range()
    kWaitDelete,  // wait until `key` is deleted at a revision >= `from_revision`, then call
                  // on_deleted() (a watch on the key from that revision, for a DELETE event)
    kHeld,        // the lock is held: key() and revision() are the owner key and the token
    kFailed,      // the lock cannot be had: `error` says why (the session expired)
  };
  Kind kind = Kind::kTxn;
  TxnRequest txn;
  mvcc::KeyRange range;
  mvcc::RangeOptions options;
  std::string key;
  int64_t from_revision = 0;
  std::string error;
};

// The error of a lock whose session (lease) ended while it waited, as etcd's clients word it.
inline constexpr const char* kSessionExpired = "concurrency: session expired";

class LockRecipe {
 public:
  // A lock on `name` (the prefix is name + "/") for the session with lease `lease` (its id,
  // not 0).
  LockRecipe(std::string name, int64_t lease);

  LockStep start();
  LockStep on_txn(const TxnResult& result);
  LockStep on_range(const mvcc::RangeResult& result);
  LockStep on_deleted();

  ~LockRecipe();
  LockRecipe(LockRecipe&&) noexcept;
  LockRecipe& operator=(LockRecipe&&) noexcept;

  // name + "/" + the lease id in lowercase hex, as Go's %x prints it.
  const std::string& key() const;
  // The owner key's create revision (the fencing token): known after on_txn().
  int64_t revision() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdlab::txn
