#include "token_table.h"

#include <algorithm>

namespace etcdlab::server::auth {

void TokenTable::assign(const std::string& token, const std::string& user, int64_t now) {
  tokens_[token] = Entry{user, now};
}

std::optional<std::string> TokenTable::lookup(const std::string& token, int64_t now) {
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return std::nullopt;
  if (expired(it->second, now)) {
    tokens_.erase(it);
    return std::nullopt;
  }
  it->second.last_used = now;
  return it->second.user;
}

size_t TokenTable::expire(int64_t now, size_t max) {
  // Each call looks at up to `max` tokens from where the last one stopped, wrapping round, so
  // every token is looked at within size / max ticks and no tick costs more than `max`.
  size_t budget = std::min(max, tokens_.size());
  size_t dropped = 0;
  auto it = tokens_.lower_bound(sweep_from_);
  for (size_t i = 0; i < budget; ++i) {
    if (it == tokens_.end()) it = tokens_.begin();
    if (expired(it->second, now)) {
      it = tokens_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  sweep_from_ = it == tokens_.end() ? std::string() : it->first;
  return dropped;
}

void TokenTable::invalidate_user(const std::string& user) {
  std::erase_if(tokens_, [&](const auto& t) { return t.second.user == user; });
}

void TokenTable::clear() { tokens_.clear(); }

}  // namespace etcdlab::server::auth
