// bcrypt's bounded thread (bounded_worker.h).
#include "bounded_worker.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "../node/api_error.h"

namespace etcdlab::runtime {

namespace asio = boost::asio;

asio::awaitable<void> BoundedWorker::run(std::function<void()>&& work) {
  std::function<void()> mine = std::move(work);
  // One running plus max_waiting_ waiting.
  if (in_flight_ >= max_waiting_ + 1) {
    throw server::ApiError(server::GrpcCode::kResourceExhausted,
                           server::rpctypes::kTooManyRequests);
  }
  ++in_flight_;
  struct Leave {
    size_t& n;
    ~Leave() { --n; }
  } leave{in_flight_};
  co_await asio::co_spawn(
      pool_,
      [&mine]() -> asio::awaitable<void> {
        mine();
        co_return;
      },
      asio::use_awaitable);
}

}  // namespace etcdlab::runtime
