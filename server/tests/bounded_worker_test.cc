// bcrypt's bounded worker (runtime/bounded_worker.h): one running, at most max_waiting behind
// it, the rest answered at once with etcd's overload error (security review, finding 3). The
// worker is held by a promise, not by time.
#include "../runtime/bounded_worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <future>
#include <string>
#include <vector>

#include "../node/api_error.h"

namespace etcdlab::runtime {
namespace {

namespace asio = boost::asio;

TEST(BoundedWorker, PastMaxWaitingACallIsRefusedAtOnceWithEtcdsTooManyRequests) {
  asio::io_context io;
  BoundedWorker worker(2);  // one running + two waiting
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  std::atomic<int> ran{0};
  std::vector<std::string> outcome(5);  // "" while pending, "ok" or the error's text
  std::vector<server::GrpcCode> codes(5, server::GrpcCode::kOk);
  auto start = [&](size_t i) {
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          std::function<void()> work = [&] {
            open.wait();
            ++ran;
          };
          co_await worker.run(std::move(work));
        },
        [&, i](std::exception_ptr e) {
          if (!e) {
            outcome[i] = "ok";
            return;
          }
          try {
            std::rethrow_exception(e);
          } catch (const server::ApiError& a) {
            outcome[i] = a.what();
            codes[i] = a.code();
          }
        });
  };
  for (size_t i = 0; i < 4; ++i) start(i);
  io.poll();  // every call has started; the first holds the thread
  EXPECT_EQ(worker.in_flight(), 3u);
  EXPECT_EQ(outcome[3], "etcdserver: too many requests");
  EXPECT_EQ(codes[3], server::GrpcCode::kResourceExhausted);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(outcome[i], "") << i << " is still waiting";

  auto guard = asio::make_work_guard(io);
  gate.set_value();
  while (outcome[0].empty() || outcome[1].empty() || outcome[2].empty()) io.run_one();
  EXPECT_EQ(ran.load(), 3);
  EXPECT_EQ(worker.in_flight(), 0u);
  start(4);  // room again
  while (outcome[4].empty()) io.run_one();
  EXPECT_EQ(outcome[4], "ok");
  EXPECT_EQ(ran.load(), 4);
}

}  // namespace
}  // namespace etcdlab::runtime
