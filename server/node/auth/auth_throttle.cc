#include "auth_throttle.h"

#include <algorithm>

namespace etcdlab::server::auth {

AuthThrottle::AuthThrottle(int tick_ms, ThrottleConfig config)
    : config_(config),
      window_ticks_(std::max<int64_t>(1, config.window_ms / std::max(1, tick_ms))) {}

int64_t AuthThrottle::delay_ms(const std::string& name, int64_t now_tick) const {
  auto it = names_.find(name);
  if (it == names_.end() || !in_window(it->second, now_tick)) return 0;
  int over = it->second.count - config_.free_failures;
  if (over < 0) return 0;
  int64_t delay = config_.base_delay_ms;
  for (int i = 0; i < over && delay < config_.max_delay_ms; ++i) delay *= 2;
  return std::min(delay, config_.max_delay_ms);
}

void AuthThrottle::failed(const std::string& name, int64_t now_tick) {
  auto it = names_.find(name);
  if (it == names_.end()) {
    if (names_.size() >= config_.max_names) {
      auto oldest = std::min_element(names_.begin(), names_.end(), [](const auto& a, const auto& b) {
        return a.second.last < b.second.last;
      });
      names_.erase(oldest);
    }
    it = names_.emplace(name, Failures{0, now_tick, now_tick}).first;
  }
  Failures& f = it->second;
  if (!in_window(f, now_tick)) f = Failures{0, now_tick, now_tick};
  ++f.count;
  f.last = now_tick;
}

}  // namespace etcdlab::server::auth
