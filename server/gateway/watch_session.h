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
// events}} per response of the node's watch hub (take_lines()). As etcd 3.4's gateway (its
// grpc-gateway v1 handler):
//  - a first object that is not JSON, not an object, or has a field of the wrong type refuses
//    the stream: one answer, 500 and {"error":"<Go's message>","message":...,"code":2}, and
//    nothing else (refusal());
//  - such an object later stops the reading of requests (the gateway stops sending them to
//    the server), not the stream: the answers go on (reading());
//  - null, and an object with none of the three requests, are ignored;
//  - the end of the body ends nothing: the watchers live until the connection closes.
// The session opens its hub stream when made and closes it when destroyed (the connection
// closed: its watchers end). watch_stream.cc does the I/O.

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "service.h"

namespace etcdlab::gateway {

class WatchSession {
 public:
  // `wake` runs whenever lines may be waiting (the node made responses). `who`: the caller's
  // credentials (the Authorization header), checked on every create request (READ on its
  // range); a refused create is a created+canceled line, as etcd 3.4 answers.
  WatchSession(KvService& service, uint64_t max_request_bytes, std::function<void()> wake,
               server::Credentials who = {});
  ~WatchSession();
  WatchSession(const WatchSession&) = delete;
  WatchSession& operator=(const WatchSession&) = delete;

  // More of the request body: every complete object in it is acted on, in order (nothing
  // once reading() is false).
  void received(std::string_view bytes);
  // The body ended: a last object that needs its end to be complete (a number) is acted on.
  void body_ended();
  // Up to `max` lines to send, each ending in "\n"; empty when nothing waits.
  std::vector<std::string> take_lines(size_t max);
  // The first request could not be read: this answer is all the client gets.
  const std::optional<HttpResponse>& refusal() const { return refusal_; }
  // False once a request could not be read: the rest of the body is ignored.
  bool reading() const { return reading_; }

  // The JSON of one response (a result line), as etcd's gateway writes it.
  static std::string result_line(KvService& service, const watch::WatchResponse& r);

 private:
  void act(const boost::json::value& v);
  void fail(const std::string& message);

  KvService& service_;
  server::Credentials who_;
  uint64_t max_object_bytes_;
  uint64_t stream_ = 0;
  boost::json::stream_parser parser_;
  uint64_t pending_bytes_ = 0;  // of the object being parsed
  uint64_t objects_ = 0;        // read so far
  bool reading_ = true;
  std::optional<HttpResponse> refusal_;
};

}  // namespace etcdlab::gateway
