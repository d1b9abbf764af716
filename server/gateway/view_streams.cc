#include "view_streams.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <set>

namespace etcdlab::gateway {

namespace asio = boost::asio;

struct ViewStreams::Shared {
  size_t max_open = 0;
  size_t open = 0;
  bool stopping = false;
  std::set<asio::steady_timer*> waiting;  // the timers of the streams waiting now
};

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// A timer in Shared::waiting for as long as it waits, even if its coroutine is destroyed
// while suspended (the io_context going away with it).
struct Waiting {
  std::shared_ptr<ViewStreams::Shared> shared;
  asio::steady_timer* timer;
  Waiting(std::shared_ptr<ViewStreams::Shared> s, asio::steady_timer* t)
      : shared(std::move(s)), timer(t) {
    shared->waiting.insert(timer);
  }
  ~Waiting() { shared->waiting.erase(timer); }
  Waiting(const Waiting&) = delete;
  Waiting& operator=(const Waiting&) = delete;
};

}  // namespace

ViewStreams::ViewStreams(size_t max_open) : shared_(std::make_shared<Shared>()) {
  shared_->max_open = max_open;
}

ViewStreams::~ViewStreams() {
  stop();
}

std::shared_ptr<ViewStreams::Slot> ViewStreams::open() {
  if (shared_->stopping || shared_->open >= shared_->max_open) return nullptr;
  return std::make_shared<Slot>(shared_);
}

size_t ViewStreams::open_count() const {
  return shared_->open;
}
size_t ViewStreams::max_open() const {
  return shared_->max_open;
}
bool ViewStreams::stopping() const {
  return shared_->stopping;
}

void ViewStreams::stop() {
  shared_->stopping = true;
  for (asio::steady_timer* t : shared_->waiting) t->cancel();
}

ViewStreams::Slot::Slot(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {
  ++shared_->open;
}

ViewStreams::Slot::~Slot() {
  --shared_->open;
}

bool ViewStreams::Slot::stopping() const {
  return shared_->stopping;
}

asio::awaitable<void> ViewStreams::Slot::wait(std::chrono::milliseconds how_long) {
  if (shared_->stopping) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor, how_long);
  Waiting registered(shared_, &timer);
  auto [ec] = co_await timer.async_wait(kTuple);
  (void)ec;  // (cancelled: the server stops; the caller asks stopping())
}

}  // namespace etcdlab::gateway
