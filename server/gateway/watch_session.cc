// One /v3/watch connection's requests and answers (watch_session.h).
#include "watch_session.h"

#include <cctype>

#include "handler_support.h"
#include "json_fields.h"

namespace etcdlab::gateway {

namespace {

// A create_request as the node's hub takes it (etcd's v3rpc watch server: an empty key is
// "\0", a range_end of "\0" means every key from key on).
watch::WatchRequest create_request(const json::object& o) {
  watch::WatchRequest r;
  r.range.key = get_bytes(o, "key");
  r.range.range_end = get_bytes(o, "range_end");
  if (r.range.key.empty()) r.range.key = std::string(1, '\0');
  r.start_revision = get_int(o, "start_revision");
  r.id = get_int(o, "watch_id");
  r.prev_kv = get_bool(o, "prev_kv");
  r.progress_notify = get_bool(o, "progress_notify");
  r.fragment = get_bool(o, "fragment");
  if (const json::array* filters = get_array(o, "filters")) {
    for (const json::value& f : *filters) {
      json::object one;
      one["f"] = f;
      int filter = get_enum(one, "f", {"NOPUT", "NODELETE"}, "etcdserverpb.WatchCreateRequest_FilterType");
      if (filter == 0) r.no_put = true;
      if (filter == 1) r.no_delete = true;
    }
  }
  return r;
}

json::object event_json(const mvcc::Event& e) {
  json::object o;
  if (e.type == mvcc::Event::Type::kDelete) o["type"] = "DELETE";  // PUT (0) is left out
  o["kv"] = kv_json(e.kv);
  if (e.prev_kv) o["prev_kv"] = kv_json(*e.prev_kv);
  return o;
}

}  // namespace

WatchSession::WatchSession(KvService& service, uint64_t max_request_bytes,
                           std::function<void()> wake, server::Credentials who)
    : service_(service),
      who_(std::move(who)),
      // An object larger than a request etcd would take, as base64 in JSON, ends the stream.
      max_object_bytes_((max_request_bytes + kGrpcOverheadBytes) / 3 * 4 + 64 * 1024) {
  stream_ = service_.open_watch_stream(std::move(wake));
}

WatchSession::~WatchSession() { service_.close_watch_stream(stream_); }

void WatchSession::fail(const std::string& message) {
  // etcd's gateway: the first request's error is the call's (runtime.HTTPError of a plain
  // error: code 2, HTTP 500); a later one only stops its sending goroutine.
  if (objects_ == 0) refusal_ = error_response(GatewayError(GrpcCode::kUnknown, message));
  reading_ = false;
}

void WatchSession::received(std::string_view bytes) {
  while (!bytes.empty() && reading_) {
    if (pending_bytes_ == 0) {  // between objects: whitespace is nothing
      size_t skip = 0;
      while (skip < bytes.size() && std::isspace(static_cast<unsigned char>(bytes[skip]))) ++skip;
      bytes.remove_prefix(skip);
      if (bytes.empty()) return;
    }
    boost::system::error_code ec;
    size_t used = parser_.write_some(bytes.data(), bytes.size(), ec);
    if (ec) {
      fail(ec.message());
      return;
    }
    bytes.remove_prefix(used);
    pending_bytes_ += used;
    if (!parser_.done()) {
      if (pending_bytes_ > max_object_bytes_) fail("grpc: received message larger than max");
      return;  // the object goes on in the next piece
    }
    json::value v = parser_.release();
    parser_.reset();
    pending_bytes_ = 0;
    act(v);
    ++objects_;
  }
}

void WatchSession::body_ended() {
  if (!reading_ || pending_bytes_ == 0) return;
  boost::system::error_code ec;
  parser_.finish(ec);
  if (ec) {
    fail(ec.message());  // (Go: "unexpected EOF")
    return;
  }
  json::value v = parser_.release();
  pending_bytes_ = 0;
  act(v);
  ++objects_;
}

void WatchSession::act(const json::value& v) {
  if (v.is_null()) return;  // Go decodes null into the message as nothing
  if (!v.is_object()) {
    const char* kind = v.is_array() ? "array" : v.is_string() ? "string" : v.is_bool() ? "bool"
                                                                                         : "number";
    fail(std::string("json: cannot unmarshal ") + kind +
         " into Go value of type map[string]json.RawMessage");
    return;
  }
  const json::object& o = v.as_object();
  try {
    if (const json::object* create = get_object(o, "create_request")) {
      service_.watch(stream_, create_request(*create), who_);
    } else if (const json::object* cancel = get_object(o, "cancel_request")) {
      service_.cancel_watch(stream_, get_int(*cancel, "watch_id"));
    } else if (get_object(o, "progress_request") != nullptr) {
      service_.request_watch_progress(stream_);
    }
    // Anything else is a WatchRequest with no request in it: etcd ignores it.
  } catch (const GatewayError& e) {
    fail(e.what());
  }
}

std::vector<std::string> WatchSession::take_lines(size_t max) {
  std::vector<std::string> out;
  if (refusal_) return out;
  for (auto& r : service_.take_watch_responses(stream_, max)) {
    out.push_back(result_line(service_, r));
  }
  return out;
}

std::string WatchSession::result_line(KvService& service, const watch::WatchResponse& r) {
  json::object result;
  result["header"] = header(service, r.revision, r.revision != 0);
  put_int(result, "watch_id", r.watch_id);
  put_bool(result, "created", r.created);
  put_bool(result, "canceled", r.canceled);
  put_int(result, "compact_revision", r.compact_revision);
  if (!r.cancel_reason.empty()) result["cancel_reason"] = r.cancel_reason;
  put_bool(result, "fragment", r.fragment);
  if (!r.events.empty()) {
    json::array events;
    events.reserve(r.events.size());
    for (const mvcc::Event& e : r.events) events.push_back(event_json(e));
    result["events"] = std::move(events);
  }
  json::object line;
  line["result"] = std::move(result);
  return serialize(line) + "\n";
}

}  // namespace etcdlab::gateway
