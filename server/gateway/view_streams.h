#pragma once
// The live view's event streams (GET /etcdlab/events, view_handlers.h): how many are open, at
// most `max_open` at once, and a way to end them all at once when the server stops, so that an
// open stream never delays a shutdown. Lives on the server's io thread (every call is made
// there).

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>

namespace etcdlab::gateway {

class ViewStreams {
 public:
  explicit ViewStreams(size_t max_open);
  ~ViewStreams();
  ViewStreams(const ViewStreams&) = delete;
  ViewStreams& operator=(const ViewStreams&) = delete;

  struct Shared;
  // One open stream: its place among the open ones, given back when it is destroyed (it may
  // outlive this object: a stream's coroutine frame can be destroyed after the server).
  class Slot {
   public:
    explicit Slot(std::shared_ptr<Shared> shared);
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    // Waits `how_long`, or less if stop() is called meanwhile.
    boost::asio::awaitable<void> wait(std::chrono::milliseconds how_long);
    bool stopping() const;

   private:
    std::shared_ptr<Shared> shared_;
  };

  // A slot, or nullptr when max_open streams are open or the server is stopping.
  std::shared_ptr<Slot> open();
  size_t open_count() const;
  size_t max_open() const;
  bool stopping() const;
  void stop();  // every stream's wait ends now; no stream opens any more

 private:
  std::shared_ptr<Shared> shared_;
};

}  // namespace etcdlab::gateway
