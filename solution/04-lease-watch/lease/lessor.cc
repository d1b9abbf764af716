// Lab 4, part A (reference): the lessor.
#include "etcdlab/lease/lessor.h"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>

#include "etcdlab/broken.h"

namespace etcdlab::lease {

struct Lessor::Impl {
  struct Lease {
    int64_t ttl = 0;             // seconds, as granted
    std::set<std::string> keys;  // attached, ordered: a revoke deletes them in key order
    int64_t expiry = 0;          // the tick at which its time is up (primary only)
    int64_t retry_at = 0;        // expired() skips it until this tick (its revoke is coming)
  };

  Impl(const LessorConfig& c, LeaseTable& t) : config(c), table(t) {}

  // TTL seconds in ticks, rounded up, counted from the next tick: the tick under way is
  // already partly gone (a grant or a keep-alive comes anywhere between two ticks), so
  // counting it would let a lease live up to a tick shorter than its TTL.
  int64_t ticks_of(int64_t seconds) const {
    int64_t ms = seconds * 1000;
    if (ETCDLAB_BROKEN("ttl-ticks-rounded-down")) return ms / config.tick_ms;  // expires early
    // Counts the tick under way: up to a tick early.
    if (ETCDLAB_BROKEN("ttl-counts-the-current-tick")) return (ms + config.tick_ms - 1) / config.tick_ms;
    return (ms + config.tick_ms - 1) / config.tick_ms + 1;
  }
  Lease& find(LeaseId id) {
    auto it = leases.find(id);
    if (it == leases.end()) throw LeaseError(LeaseError::Code::kNotFound);
    return it->second;
  }

  LessorConfig config;
  LeaseTable& table;
  std::map<LeaseId, Lease> leases;
  std::unordered_map<std::string, LeaseId> lease_of;  // key -> its lease
  int64_t now = 0;
  bool primary = false;
};

Lessor::Lessor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Lessor::~Lessor() = default;

std::unique_ptr<Lessor> Lessor::open(const LessorConfig& config, LeaseTable& table,
                                     const mvcc::KvStore& store) {
  auto impl = std::make_unique<Impl>(config, table);
  for (const LeaseRow& row : table.load()) impl->leases[row.id].ttl = row.ttl;
  // The keys come from the store, as etcd rebuilds them: each key names its lease.
  mvcc::RangeOptions keys_only;
  keys_only.keys_only = true;
  std::string all(1, '\0');
  if (ETCDLAB_BROKEN("open-ignores-store-keys")) {
    // The leases come back, their keys do not: a revoke after a restart deletes nothing.
    return std::unique_ptr<Lessor>(new Lessor(std::move(impl)));
  }
  for (const mvcc::KeyValue& kv : store.range({all, all}, keys_only).kvs) {
    auto it = impl->leases.find(kv.lease);
    if (kv.lease == kNoLease || it == impl->leases.end()) continue;
    it->second.keys.insert(kv.key);
    impl->lease_of[kv.key] = kv.lease;
  }
  return std::unique_ptr<Lessor>(new Lessor(std::move(impl)));
}

LeaseInfo Lessor::grant(LeaseId id, int64_t ttl) {
  auto& r = *impl_;
  if (ttl > kMaxTtlSeconds) throw LeaseError(LeaseError::Code::kTtlTooLarge);
  if (r.leases.count(id) > 0) throw LeaseError(LeaseError::Code::kExists);
  if (ttl < r.config.min_ttl_seconds && !ETCDLAB_BROKEN("min-ttl-not-applied")) {
    ttl = r.config.min_ttl_seconds;
  }
  Impl::Lease& lease = r.leases[id];
  lease.ttl = ttl;
  lease.expiry = r.now + r.ticks_of(ttl);
  r.table.put({id, ttl});
  return LeaseInfo{id, ttl, ttl, {}};
}

int64_t Lessor::revoke(LeaseId id, mvcc::KvStore& store) {
  auto& r = *impl_;
  Impl::Lease& lease = r.find(id);
  int64_t revision = 0;
  if (!lease.keys.empty()) {
    if (ETCDLAB_BROKEN("revoke-in-two-writes") && lease.keys.size() > 1) {
      // A revoke that deletes its keys one write each: watchers see them go at several
      // revisions, and a reader may see half the service deregistered.
      for (const std::string& key : lease.keys) revision = store.delete_range({key, ""}).revision;
    } else {
      // One write: every key of the lease goes at the same revision (etcd's revoke).
      mvcc::Write w = store.write();
      for (const std::string& key : lease.keys) w.delete_range({key, ""});
      revision = w.revision();
      w.end();
    }
  }
  for (const std::string& key : lease.keys) r.lease_of.erase(key);
  r.leases.erase(id);
  // (Broken: the row stays, and the revoked lease comes back at the next start.)
  if (!ETCDLAB_BROKEN("revoke-keeps-table-row")) r.table.remove(id);
  return revision;
}

void Lessor::attach(std::string_view key, LeaseId lease) {
  auto& r = *impl_;
  std::string k(key);
  auto old = r.lease_of.find(k);
  if (old != r.lease_of.end() && old->second == lease) return;
  if (lease != kNoLease && r.leases.count(lease) == 0) {
    throw LeaseError(LeaseError::Code::kNotFound);
  }
  if (old != r.lease_of.end()) {
    if (lease == kNoLease && ETCDLAB_BROKEN("put-without-lease-keeps-it")) return;
    r.leases[old->second].keys.erase(k);
    r.lease_of.erase(old);
  }
  if (lease == kNoLease) return;
  r.leases[lease].keys.insert(k);
  r.lease_of[std::move(k)] = lease;
}

void Lessor::detach(std::string_view key) {
  auto& r = *impl_;
  auto it = r.lease_of.find(std::string(key));
  if (it == r.lease_of.end()) return;
  r.leases[it->second].keys.erase(it->first);
  r.lease_of.erase(it);
}

bool Lessor::exists(LeaseId id) const { return impl_->leases.count(id) > 0; }

void Lessor::tick() { ++impl_->now; }

void Lessor::promote(int64_t extend_ticks) {
  auto& r = *impl_;
  r.primary = true;
  if (ETCDLAB_BROKEN("promote-keeps-old-expiry")) return;  // what the last leader had... or 0
  // Nobody knows how long a lease had left on the last leader: each gets its whole TTL again,
  // plus an election timeout, so none expires early because of the election.
  for (auto& [id, lease] : r.leases) {
    lease.expiry = r.now + r.ticks_of(lease.ttl) + extend_ticks;
    lease.retry_at = 0;
  }
}

void Lessor::demote() { impl_->primary = false; }

bool Lessor::primary() const { return impl_->primary; }

int64_t Lessor::renew(LeaseId id) {
  auto& r = *impl_;
  if (!r.primary) throw std::logic_error("lessor: renew on a member that is not the leader");
  Impl::Lease& lease = r.find(id);
  if (lease.expiry <= r.now && !ETCDLAB_BROKEN("renew-after-expiry")) {
    throw LeaseError(LeaseError::Code::kNotFound);  // its time is up: its revoke is coming
  }
  if (!ETCDLAB_BROKEN("renew-keeps-expiry")) lease.expiry = r.now + r.ticks_of(lease.ttl);
  lease.retry_at = 0;
  return lease.ttl;
}

std::vector<LeaseId> Lessor::expired() {
  auto& r = *impl_;
  if (!r.primary && !ETCDLAB_BROKEN("follower-expires")) return {};
  std::vector<std::pair<int64_t, LeaseId>> due;  // (expiry, id)
  for (const auto& [id, lease] : r.leases) {
    bool waiting = lease.retry_at > r.now && !ETCDLAB_BROKEN("expired-no-retry-wait");
    if (lease.expiry <= r.now && !waiting) due.emplace_back(lease.expiry, id);
  }
  // (Broken: in id order, the map's, so a bounded call may skip the longest overdue.)
  if (!ETCDLAB_BROKEN("expired-in-id-order")) std::sort(due.begin(), due.end());
  if (due.size() > r.config.max_revokes_per_tick && !ETCDLAB_BROKEN("expired-unbounded")) {
    due.resize(r.config.max_revokes_per_tick);
  }
  std::vector<LeaseId> out;
  for (const auto& [expiry, id] : due) {
    r.leases[id].retry_at = r.now + r.config.expired_retry_ticks;
    out.push_back(id);
  }
  return out;
}

std::optional<LeaseInfo> Lessor::info(LeaseId id, bool with_keys) const {
  const auto& r = *impl_;
  auto it = r.leases.find(id);
  if (it == r.leases.end()) return std::nullopt;
  const Impl::Lease& lease = it->second;
  LeaseInfo out{id, lease.ttl, lease.ttl, {}};
  if (r.primary) {
    // Whole seconds left, rounded down, as etcd's TimeToLive reports them.
    int64_t ms = std::max<int64_t>(0, (lease.expiry - r.now) * r.config.tick_ms);
    out.remaining_ttl = ms / 1000;
  }
  if (with_keys) out.keys.assign(lease.keys.begin(), lease.keys.end());
  return out;
}

std::vector<LeaseId> Lessor::leases() const {
  std::vector<LeaseId> out;
  for (const auto& [id, lease] : impl_->leases) out.push_back(id);
  return out;
}

LeaseId Lessor::lease_of(std::string_view key) const {
  auto it = impl_->lease_of.find(std::string(key));
  return it == impl_->lease_of.end() ? kNoLease : it->second;
}

}  // namespace etcdlab::lease
