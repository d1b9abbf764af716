#pragma once
// One /v3/watch connection as etcd 3.4's gateway serves it (etcd-v3-json-api.md §5), without
// the sockets: the request body is a stream of JSON objects —
//
//   {"create_request":{key, range_end, start_revision, filters, prev_kv, watch_id,
//                      progress_notify, fragment}}
//   {"cancel_request":{"watch_id":N}}
//   {"progress_request":{}}
//
// — arriving in pieces of any size (received()), and the answer a stream of lines, one
// {"result":{header, watch_id, created, canceled, compact_revision, cancel_reason, fragment,
// events}} per response of the node's watch hub (take_lines()). An object that is not JSON, or
// a field of the wrong type, ends the stream with etcd's error line
// {"error":"<Go's message>","message":"<same>","code":2}; an object with none of the three
// requests is ignored, as etcd's. The session opens its hub stream when made and closes it
// when destroyed (the connection closed: its watchers end). http_server.cc does the I/O.

#include <boost/json.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "service.h"

namespace etcdlab::gateway {

class WatchSession {
 public:
  // `wake` runs whenever lines may be waiting (the node made responses).
  WatchSession(KvService& service, uint64_t max_request_bytes, std::function<void()> wake);
  ~WatchSession();
  WatchSession(const WatchSession&) = delete;
  WatchSession& operator=(const WatchSession&) = delete;

  // More of the request body: every complete object in it is acted on, in order.
  void received(std::string_view bytes);
  // Up to `max` lines to send, each ending in "\n"; empty when nothing waits.
  std::vector<std::string> take_lines(size_t max);
  // The stream ended with an error line: once it is taken, nothing more is sent.
  bool ended() const { return ended_ && errors_.empty(); }

  // The JSON of one response (a result line), as etcd's gateway writes it.
  static std::string result_line(KvService& service, const watch::WatchResponse& r);

 private:
  void act(const boost::json::value& v);
  void fail(const std::string& message);

  KvService& service_;
  uint64_t max_object_bytes_;
  uint64_t stream_ = 0;
  boost::json::stream_parser parser_;
  uint64_t pending_bytes_ = 0;  // of the object being parsed
  std::deque<std::string> errors_;  // the error line, sent after the results before it
  bool ended_ = false;
};

}  // namespace etcdlab::gateway
