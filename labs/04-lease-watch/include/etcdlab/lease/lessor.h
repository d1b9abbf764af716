#pragma once
// Lab 4, part A: the lessor — leases, the keys attached to them, and when they expire.
//
// A lease is a time to live (TTL, in seconds) that a client keeps alive. Keys put with the
// lease are deleted when it is revoked or expires: a service registers itself under a key with
// a lease, and the registration disappears when the service stops keeping it alive. Locks and
// elections stand on the same mechanism (lab 5). As etcd 3.4's lessor, the lessor has two
// halves:
//
//   replicated   grant, revoke, and the keys puts attach and deletes detach. Every member
//                applies them from the log, in log order, and ends in the same state: no
//                clock, no randomness. A revoke deletes every key of the lease in ONE write
//                of the store (one revision; none when the lease has no key). The leases
//                (id, granted TTL) persist in the LeaseTable (etcdlab/lease/lease_table.h),
//                which commits with the store's batches; the keys are rebuilt from the
//                store's `lease` fields when the lessor opens.
//   the clock    when each lease expires, counted in ticks. Only the leader (the "primary")
//                keeps it: it renews leases on keep-alive, and asks, through expired(), for
//                revokes of the leases whose time is up; the node proposes those revokes
//                through the log like a client's. Remaining TTLs are never replicated, so a
//                new leader gives every lease its full TTL plus an election timeout
//                (promote()): no lease may expire early because the leader changed. A member
//                that is not the leader never expires a lease.
//
// Time is tick() (every LessorConfig::tick_ms); TTLs are seconds. A TTL counts whole ticks,
// rounded up, from the tick after the one under way (a grant or keep-alive comes between two
// ticks: counting the tick under way would let a lease live up to a tick short of its TTL). Errors are LeaseError with
// etcd's messages, which clients see as they are.
//
// Thread-unsafe: the node's thread calls it, between or inside the store's batches.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcdlab/lease/errors.h"
#include "etcdlab/lease/lease_table.h"
#include "etcdlab/mvcc/store.h"

namespace etcdlab::lease {

using LeaseId = int64_t;
inline constexpr LeaseId kNoLease = 0;
inline constexpr int64_t kMaxTtlSeconds = 9000000000;  // etcd's MaxLeaseTTL

struct LessorConfig {
  int tick_ms = 100;           // how long a tick is
  int64_t min_ttl_seconds = 2;  // a shorter TTL is raised to it (etcd: ceil(1.5 election timeouts))
  size_t max_revokes_per_tick = 100;  // expired() returns at most this many (etcd: 1000/s)
  int64_t expired_retry_ticks = 30;   // an expired lease not revoked this long is returned again
};

struct LeaseInfo {
  LeaseId id = kNoLease;
  int64_t granted_ttl = 0;    // seconds, as granted (after the minimum)
  int64_t remaining_ttl = 0;  // seconds until it expires as this member's clock says: the
                              // primary's count in whole seconds, rounded down (etcd's
                              // TimeToLive), never below 0; elsewhere the granted TTL
  std::vector<std::string> keys;  // attached keys, ascending (empty unless asked for)
};

class Lessor {
 public:
  // Reads the leases from `table`, and attaches every key of `store` whose `lease` field names
  // one (a start, or a store replaced by a snapshot). Not primary.
  static std::unique_ptr<Lessor> open(const LessorConfig& config, LeaseTable& table,
                                      const mvcc::KvStore& store);
  ~Lessor();

  // ---- replicated: the same calls in the same order give the same state on every member
  // Grants lease `id` (not kNoLease) for `ttl` seconds, raised to min_ttl_seconds. Throws
  // kExists if it exists, kTtlTooLarge above kMaxTtlSeconds. On the primary its clock starts.
  LeaseInfo grant(LeaseId id, int64_t ttl);
  // Revokes `id`: deletes all its keys from `store` in one write (one revision, or none if it
  // has no key), forgets the lease and its keys. Returns the revision the delete made (0 if
  // none). Throws kNotFound.
  int64_t revoke(LeaseId id, mvcc::KvStore& store);
  // A put wrote `key` with `lease` (kNoLease: without one): the key leaves the lease it had,
  // if any, for this one. The lease must exist (the node checks exists() before the put).
  void attach(std::string_view key, LeaseId lease);
  // A delete removed `key`: it leaves its lease, if it had one.
  void detach(std::string_view key);
  bool exists(LeaseId id) const;

  // ---- the clock (not replicated)
  void tick();
  // This member became the leader: every lease expires at now + its TTL + `extend_ticks`.
  void promote(int64_t extend_ticks);
  // It is no longer the leader: nothing expires here until the next promote().
  void demote();
  bool primary() const;
  // Keep-alive, on the primary: `id` expires its TTL from now. Returns the granted TTL. Throws
  // kNotFound if there is no such lease, or if its time is already up (its revoke is coming).
  int64_t renew(LeaseId id);
  // On the primary: leases whose time is up, soonest expiry first, at most
  // max_revokes_per_tick. A lease returned is not returned again for expired_retry_ticks
  // (its revoke is on its way), unless it is renewed.
  std::vector<LeaseId> expired();

  // ---- reads
  std::optional<LeaseInfo> info(LeaseId id, bool with_keys) const;
  std::vector<LeaseId> leases() const;  // ascending
  LeaseId lease_of(std::string_view key) const;  // kNoLease if the key has none

  struct Impl;

 private:
  explicit Lessor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdlab::lease
