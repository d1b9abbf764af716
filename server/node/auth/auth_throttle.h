#pragma once
// Slows down password guessing (etcd 3.4 does not: captured, five wrong passwords in a row
// took 0.08 s each). Per user name, on this member (not replicated: a failure is not worth a
// log entry), in ticks: failures within a window (60 s) are counted; once `free_failures` (3)
// have failed, every further attempt waits base * 2^(n - free_failures) (100 ms doubling),
// capped (5 s), before the password is even checked. A success clears the name; a window
// with no failure starts the count again. Unknown names are counted like known ones (the rpc
// layer verifies a dummy hash for them, so both take as long). At most `max_names` names are
// remembered; the one whose last failure is oldest goes first.

#include <cstdint>
#include <map>
#include <string>

namespace etcdlab::server::auth {

struct ThrottleConfig {
  int64_t window_ms = 60000;
  int free_failures = 3;
  int64_t base_delay_ms = 100;
  int64_t max_delay_ms = 5000;
  size_t max_names = 10000;
};

class AuthThrottle {
 public:
  AuthThrottle(int tick_ms, ThrottleConfig config = {});

  // How long an attempt for `name` must wait now, in milliseconds.
  int64_t delay_ms(const std::string& name, int64_t now_tick) const;
  void failed(const std::string& name, int64_t now_tick);
  void succeeded(const std::string& name) { names_.erase(name); }
  size_t size() const { return names_.size(); }

 private:
  struct Failures {
    int count = 0;
    int64_t first = 0;  // the tick of the window's first failure
    int64_t last = 0;
  };
  bool in_window(const Failures& f, int64_t now) const { return now - f.first < window_ticks_; }

  ThrottleConfig config_;
  int64_t window_ticks_;
  std::map<std::string, Failures> names_;
};

}  // namespace etcdlab::server::auth
