#pragma once
// A model of the lessor for the differential test: lessor.h's rules written as plainly as
// possible, to be read as a second statement of them. It keeps its own copy of the store's
// keys (key -> the lease its `lease` field names), and the keys of a lease are simply the keys
// that name it, so there is no attach bookkeeping to get wrong. It is slow (everything is a
// scan) and obvious.
#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "etcdlab/lease/lessor.h"

namespace etcdlab::lab4 {

class LessorModel {
 public:
  explicit LessorModel(const lease::LessorConfig& config) : config_(config) {}

  lease::LeaseInfo grant(lease::LeaseId id, int64_t ttl) {
    if (ttl > lease::kMaxTtlSeconds) throw lease::LeaseError(lease::LeaseError::Code::kTtlTooLarge);
    if (exists(id)) throw lease::LeaseError(lease::LeaseError::Code::kExists);
    ttl = std::max(ttl, config_.min_ttl_seconds);
    leases_[id] = Lease{ttl, now_ + ticks(ttl), 0};
    return {id, ttl, ttl, {}};
  }

  // The keys the revoke deletes (in one write; none: no write at all).
  std::vector<std::string> revoke(lease::LeaseId id) {
    if (!exists(id)) throw lease::LeaseError(lease::LeaseError::Code::kNotFound);
    std::vector<std::string> gone = keys_of(id);
    for (const auto& k : gone) store_.erase(k);
    leases_.erase(id);
    return gone;
  }

  // A put the node let through (the lease exists, or is kNoLease).
  void put(const std::string& key, lease::LeaseId lease) { store_[key] = lease; }
  void erase(const std::string& key) { store_.erase(key); }
  bool exists(lease::LeaseId id) const { return leases_.count(id) > 0; }

  void tick() { ++now_; }
  void promote(int64_t extend) {
    primary_ = true;
    for (auto& [id, l] : leases_) l = Lease{l.ttl, now_ + ticks(l.ttl) + extend, 0};
  }
  void demote() { primary_ = false; }
  void reopen() { primary_ = false; }  // the clock is not stored
  bool primary() const { return primary_; }

  int64_t renew(lease::LeaseId id) {
    auto it = leases_.find(id);
    if (it == leases_.end() || it->second.expiry <= now_) {
      throw lease::LeaseError(lease::LeaseError::Code::kNotFound);
    }
    it->second.expiry = now_ + ticks(it->second.ttl);
    it->second.retry_at = 0;
    return it->second.ttl;
  }

  // Checks an answer of expired(): "" if the lessor may answer `got`, else what is wrong. The
  // rules: only on the primary; the leases whose time is up and that were not returned in the
  // last expired_retry_ticks; as many as there are, up to max_revokes_per_tick; soonest expiry
  // first (leases that expire at the same tick in any order). The leases returned then wait.
  std::string accept_expired(const std::vector<lease::LeaseId>& got) {
    std::vector<std::pair<int64_t, lease::LeaseId>> due;  // (expiry, id), soonest first
    if (primary_) {
      for (const auto& [id, l] : leases_) {
        if (l.expiry <= now_ && l.retry_at <= now_) due.emplace_back(l.expiry, id);
      }
    }
    std::sort(due.begin(), due.end());
    size_t want = std::min(due.size(), config_.max_revokes_per_tick);
    std::string due_text = "due now (tick " + std::to_string(now_) + "), as expiry tick:id:";
    for (const auto& [e, id] : due) due_text += " " + std::to_string(e) + ":" + std::to_string(id);
    for (lease::LeaseId id : got) {
      auto it = leases_.find(id);
      std::string why;
      if (!primary_) {
        why = "this member is not the primary";
      } else if (it == leases_.end()) {
        why = "there is no such lease";
      } else if (it->second.expiry > now_) {
        why = "it expires at tick " + std::to_string(it->second.expiry);
      } else if (it->second.retry_at > now_) {
        why = "it was returned at tick " +
              std::to_string(it->second.retry_at - config_.expired_retry_ticks) +
              " and waits until tick " + std::to_string(it->second.retry_at);
      }
      if (!why.empty())
        return "lease " + std::to_string(id) + " is not due: " + why + "; " + due_text;
    }
    if (got.size() != want) {
      return "expected " + std::to_string(want) + " leases (at most " +
             std::to_string(config_.max_revokes_per_tick) + " per call), got " +
             std::to_string(got.size()) + "; " + due_text;
    }
    std::vector<lease::LeaseId> sorted = got;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
      return "a lease is returned twice in one answer; " + due_text;
    }
    int64_t last = std::numeric_limits<int64_t>::min();
    for (lease::LeaseId id : got) {
      int64_t expiry = leases_.at(id).expiry;
      if (expiry < last) return "not soonest expiry first; " + due_text;
      last = expiry;
    }
    for (const auto& [e, id] : due) {
      if (e < last && std::find(got.begin(), got.end(), id) == got.end()) {
        return "lease " + std::to_string(id) + " expired before others returned; " + due_text;
      }
    }
    for (lease::LeaseId id : got) leases_[id].retry_at = now_ + config_.expired_retry_ticks;
    return "";
  }

  std::optional<lease::LeaseInfo> info(lease::LeaseId id, bool with_keys) const {
    auto it = leases_.find(id);
    if (it == leases_.end()) return std::nullopt;
    lease::LeaseInfo out{id, it->second.ttl, it->second.ttl, {}};
    if (primary_)
      out.remaining_ttl = std::max<int64_t>(0, it->second.expiry - now_) * config_.tick_ms / 1000;
    if (with_keys) out.keys = keys_of(id);
    return out;
  }

  std::vector<lease::LeaseId> leases() const {
    std::vector<lease::LeaseId> out;
    for (const auto& [id, l] : leases_) out.push_back(id);
    return out;
  }

  lease::LeaseId lease_of(const std::string& key) const {
    auto it = store_.find(key);
    return it == store_.end() ? lease::kNoLease : it->second;
  }

  std::vector<lease::LeaseRow> rows() const {
    std::vector<lease::LeaseRow> out;
    for (const auto& [id, l] : leases_) out.push_back({id, l.ttl});
    return out;
  }

  // "a@5 b@0", as store_keys() prints the real store.
  std::string store_keys() const {
    std::string out;
    for (const auto& [k, l] : store_) out += (out.empty() ? "" : " ") + k + "@" + std::to_string(l);
    return out;
  }

 private:
  struct Lease {
    int64_t ttl = 0;       // seconds, as granted
    int64_t expiry = 0;    // the tick its time is up (counts on the primary only)
    int64_t retry_at = 0;  // expired() skips it before this tick
  };

  // Rounded up, counted from the next tick (the tick under way is partly gone): never
  // shorter than the TTL.
  int64_t ticks(int64_t seconds) const {
    return (seconds * 1000 + config_.tick_ms - 1) / config_.tick_ms + 1;
  }

  std::vector<std::string> keys_of(lease::LeaseId id) const {
    std::vector<std::string> out;
    for (const auto& [k, l] : store_) {
      if (l == id) out.push_back(k);
    }
    return out;
  }

  lease::LessorConfig config_;
  std::map<lease::LeaseId, Lease> leases_;
  std::map<std::string, lease::LeaseId> store_;
  int64_t now_ = 0;
  bool primary_ = false;
};

}  // namespace etcdlab::lab4
