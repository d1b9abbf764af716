// The I/O the concurrency recipes need (recipe_io.h).
#include "recipe_io.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>

#include "errors.h"

namespace etcdlab::rpc {

namespace asio = boost::asio;

void recipe_error(const std::string& message) {
  throw ApiError(GrpcCode::kUnknown, message);
}

namespace {

// Rethrows a failed result's error as the recipes answer it.
void check_recipe(const server::Result& r) {
  try {
    check(r);
  } catch (const ApiError& e) {
    recipe_error(e.what());
  }
}

constexpr int64_t kSessionTtl = 60;  // etcd's concurrency.Session default

}  // namespace

asio::awaitable<txn::TxnResult> recipe_txn(KvService& s, txn::TxnRequest t,
                                           const server::Credentials& who) {
  server::Result r;
  try {
    r = co_await s.txn(std::move(t), who);
  } catch (const ApiError& e) {
    recipe_error(e.what());
  }
  check_recipe(r);
  co_return std::get<txn::TxnResult>(std::move(r.value));
}

asio::awaitable<mvcc::RangeResult> recipe_range(KvService& s, mvcc::KeyRange range,
                                                mvcc::RangeOptions options,
                                                const server::Credentials& who) {
  try {
    co_await s.read_barrier();
    if (auto refused = s.authorize(who, server::KvNode::Access::kRange, range)) throw *refused;
  } catch (const ApiError& e) {
    recipe_error(e.what());
  }
  try {
    co_return s.store().range(range, options);
  } catch (const mvcc::MvccError& e) {
    recipe_error(e.what());
  }
}

asio::awaitable<WatchedEvent> next_event(KvService& s, mvcc::KeyRange range, int64_t from_revision,
                                         bool no_put, bool no_delete,
                                         const server::Credentials& who) {
  auto executor = co_await asio::this_coro::executor;
  // The stream's wake-ups come on this thread; one that comes while we are not waiting is
  // remembered, so none is lost.
  struct Wakes {
    explicit Wakes(asio::any_io_executor ex) : timer(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer timer;
    bool woken = false;
  };
  auto wakes = std::make_shared<Wakes>(executor);
  std::weak_ptr<Wakes> weak = wakes;
  uint64_t stream = s.open_watch_stream([weak] {
    if (auto w = weak.lock()) {
      w->woken = true;
      w->timer.cancel();
    }
  });
  struct Close {
    KvService& s;
    uint64_t stream;
    ~Close() { s.close_watch_stream(stream); }
  } close{s, stream};
  watch::WatchRequest request;
  request.range = range;
  request.start_revision = from_revision;
  request.no_put = no_put;
  request.no_delete = no_delete;
  s.watch(stream, request, who);
  for (;;) {
    wakes->woken = false;
    for (watch::WatchResponse& r : s.take_watch_responses(stream, 64)) {
      if (r.canceled) {
        recipe_error(r.compact_revision > 0
                         ? mvcc::message_of(mvcc::MvccError::Code::kCompacted)
                         : "etcdlab: a watch from revision " + std::to_string(from_revision) +
                               " was cancelled: " + r.cancel_reason);
      }
      if (!r.events.empty()) co_return WatchedEvent{std::move(r.events.front()), r.revision};
    }
    if (!wakes->woken) {
      wakes->timer.expires_at(asio::steady_timer::time_point::max());
      co_await wakes->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
}

asio::awaitable<void> wait_deleted(KvService& s, std::string key, int64_t from_revision,
                                   const server::Credentials& who) {
  mvcc::KeyRange range{std::move(key), ""};
  co_await next_event(s, std::move(range), from_revision, /*no_put=*/true, /*no_delete=*/false,
                      who);
}

asio::awaitable<int64_t> session_lease(KvService& s, int64_t lease,
                                       const server::Credentials& who) {
  if (lease != 0) co_return lease;
  server::Result r;
  server::Request grant = server::LeaseGrantRequest{0, kSessionTtl};  // (g++ 12: no temporaries
  try {                                                              // inside co_await)
    // A grant needs no permission (3.4), but a bad token is refused.
    if (auto refused = s.authorize(who, server::KvNode::Access::kTokenOnly)) throw *refused;
    r = co_await s.write(std::move(grant));
  } catch (const ApiError& e) {
    recipe_error(e.what());
  }
  check_recipe(r);
  co_return std::get<server::LeaseGrantResult>(r.value).id;
}

}  // namespace etcdlab::rpc
