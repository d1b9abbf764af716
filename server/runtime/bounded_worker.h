#pragma once
// bcrypt's thread, with a bound on the work waiting for it. One thread, so a flood of
// authentications cannot take the machine's cores; a bound, so it cannot queue without limit
// either (security review, finding 3: 5,000 queued attempts held real users off for minutes,
// each one holding a coroutine frame and a password). Past the bound a call is answered at
// once with etcd's overload error (ResourceExhausted "etcdserver: too many requests", which
// the gateway turns into a 429), and the caller may retry. Used from one thread (the io
// thread): the count needs no lock.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <functional>

namespace etcdlab::runtime {

class BoundedWorker {
 public:
  static constexpr size_t kDefaultMaxWaiting = 64;

  explicit BoundedWorker(size_t max_waiting = kDefaultMaxWaiting) : max_waiting_(max_waiting) {}
  // Joins the thread: destroy this before what its work uses.
  ~BoundedWorker() { pool_.join(); }

  // Runs `work` on the worker thread and resumes on the caller's executor once it is done,
  // rethrowing what it threw. Throws ApiError(kResourceExhausted, kTooManyRequests) at once,
  // without running it, when max_waiting calls already wait behind the one running.
  boost::asio::awaitable<void> run(std::function<void()>&& work);

  size_t in_flight() const { return in_flight_; }  // running or waiting

 private:
  size_t max_waiting_;
  size_t in_flight_ = 0;
  boost::asio::thread_pool pool_{1};
};

}  // namespace etcdlab::runtime
