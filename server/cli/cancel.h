#pragma once
// A one-shot event that threads wait on, as a Go program waits on a closed channel or a
// cancelled context: lock and elect are woken by SIGINT/SIGTERM (a context cancelled) and by
// their session ending (a channel closed), and must stop a watch blocked in a read when either
// happens. cancel() runs the registered callbacks (each once, under the lock, so a callback's
// owner that unregisters waits for it to finish), then wakes the waiters.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>

namespace etcdlab::cli {

class Cancel {
 public:
  // Registration of a callback, removed when it goes (a watch that has ended).
  class Hook {
   public:
    Hook(Cancel* owner, long id) : owner_(owner), id_(id) {}
    Hook(const Hook&) = delete;
    Hook& operator=(const Hook&) = delete;
    ~Hook() {
      std::lock_guard lock(owner_->mutex_);
      owner_->callbacks_.erase(id_);
    }

   private:
    Cancel* owner_;
    long id_;
  };

  void cancel() {
    std::lock_guard lock(mutex_);
    if (cancelled_) return;
    cancelled_ = true;
    for (auto& [id, f] : callbacks_) f();
    callbacks_.clear();
    woken_.notify_all();
  }

  bool cancelled() const {
    std::lock_guard lock(mutex_);
    return cancelled_;
  }

  // Runs `f` on cancel(), or now if that has happened.
  [[nodiscard]] Hook on_cancel(std::function<void()> f) {
    std::unique_lock lock(mutex_);
    long id = next_id_++;
    if (cancelled_) {
      lock.unlock();
      f();
    } else {
      callbacks_.emplace(id, std::move(f));
    }
    return Hook(this, id);
  }

  void wait() {
    std::unique_lock lock(mutex_);
    woken_.wait(lock, [&] { return cancelled_; });
  }

  // Until `t` or cancel(); whether cancelled.
  bool wait_until(std::chrono::steady_clock::time_point t) {
    std::unique_lock lock(mutex_);
    return woken_.wait_until(lock, t, [&] { return cancelled_; });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable woken_;
  bool cancelled_ = false;
  long next_id_ = 0;
  std::map<long, std::function<void()>> callbacks_;
};

}  // namespace etcdlab::cli
