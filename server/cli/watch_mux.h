#pragma once
// The watchers of one etcdlabctl watch command on one /v3/watch stream, as clientv3's watcher
// keeps them (etcdctl's watches all share one gRPC stream): creates are answered in order, so
// each `created` answer names the next pending watcher's id; a response goes to the watcher of
// its id; a progress response (id -1) to every watcher. When the connection is lost, the
// stream is made again on the next endpoint (for ever, pausing between rounds, as clientv3
// retries) and every live watcher is created again from the revision after the last one it
// delivered: nothing lost, nothing twice.

#include <boost/json.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "watch_responses.h"
#include "watch_stream.h"

namespace etcdlab::cli {

struct Watcher {
  boost::json::object create;     // its create_request
  std::vector<std::string> exec;  // the command run per event (etcdctl's "-- cmd ...")
  int64_t id = -1;                // on the current stream; -1 until created
  int64_t next_revision = 0;      // where a new stream resumes it (0: its own start)
  bool done = false;              // cancelled
};

class WatchMux {
 public:
  using Deliver = std::function<void(Watcher&, const WatchResponse&)>;

  // `token`: sent with every stream (the signed-in client's, Client::token()); `dial`: TLS
  // as the client dials (Client::stream_dial()).
  WatchMux(std::vector<std::string> endpoints, std::chrono::nanoseconds dial_timeout,
           std::string token = "", StreamDial dial = {});

  // Adds a watcher, from any thread: created on the stream now, or once there is one.
  void add(std::shared_ptr<Watcher> w);
  // clientv3's RequestProgress: sent if a stream serves watchers; nothing otherwise.
  void request_progress();
  // Reads the stream and hands each response to `deliver` (created answers and quiet
  // cancellations are not delivered), outside the lock. Returns once no watcher is left, or
  // never with `forever` (interactive mode: more may come), or once close() was called.
  void run(const Deliver& deliver, bool forever);
  // Ends the watch, from any thread (a `deliver` too): run() returns without delivering more.
  // (A watch the lock and election recipes no longer need, as clientv3's cancelled context.)
  void close();

 private:
  // Makes the stream (on the next endpoint that answers) and creates the live watchers on it.
  void connect();
  // What one answer line means; the responses to deliver go to `out`.
  void route(const WatchResponse& r,
             std::vector<std::pair<std::shared_ptr<Watcher>, WatchResponse>>& out);
  bool any_live() const;

  std::vector<std::string> endpoints_;
  std::chrono::nanoseconds dial_timeout_;
  std::string token_;
  StreamDial dial_;
  size_t next_endpoint_ = 0;

  std::mutex mutex_;  // everything below; stream_ is replaced only by run()'s thread
  std::condition_variable added_;
  std::vector<std::shared_ptr<Watcher>> watchers_;  // live
  std::deque<std::shared_ptr<Watcher>> pending_;    // created on the stream, not answered yet
  std::map<int64_t, std::shared_ptr<Watcher>> by_id_;
  std::unique_ptr<WatchStream> stream_;
  bool closed_ = false;
};

}  // namespace etcdlab::cli
