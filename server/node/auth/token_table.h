#pragma once
// A member's simple tokens (etcd's --auth-token simple): token -> user, in memory only. Every
// member registers the same tokens as it applies Authenticate entries, but a token lives from
// its last use: one not used for `ttl_ticks` is gone (etcd's --auth-token-ttl, 300 s), on
// this member only. Not in snapshots and lost on restart, as etcd's: a client whose token is
// refused authenticates again. Time is the node's ticks.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace etcdlab::server::auth {

class TokenTable {
 public:
  explicit TokenTable(int64_t ttl_ticks = 3000) : ttl_ticks_(ttl_ticks < 1 ? 1 : ttl_ticks) {}

  void assign(const std::string& token, const std::string& user, int64_t now);
  // The token's user, and its life starts again from `now`; nullopt if unknown or expired
  // (an expired one is dropped).
  std::optional<std::string> lookup(const std::string& token, int64_t now);
  // Drops tokens idle for the TTL, at most `max` of them (a bounded sweep per tick).
  size_t expire(int64_t now, size_t max = 64);
  void invalidate_user(const std::string& user);  // a password change, a deleted user
  void clear();                                   // auth disabled
  size_t size() const { return tokens_.size(); }
  int64_t ttl_ticks() const { return ttl_ticks_; }

 private:
  struct Entry {
    std::string user;
    int64_t last_used = 0;
  };
  bool expired(const Entry& e, int64_t now) const { return now - e.last_used >= ttl_ticks_; }

  int64_t ttl_ticks_;
  std::map<std::string, Entry> tokens_;
  std::string sweep_from_;  // where the last bounded sweep stopped
};

}  // namespace etcdlab::server::auth
