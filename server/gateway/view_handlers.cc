#include "view_handlers.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <memory>
#include <optional>

#include "handler_support.h"
#include "view_assets.h"
#include "view_json.h"
#include "view_streams.h"

namespace etcdlab::gateway {
namespace {

using boost::asio::awaitable;
using namespace std::chrono_literals;

// An event at most this often (a busy cluster changes every millisecond; a page redraws at a
// human pace), and at least this often, so a page (and any proxy) sees the stream is alive.
constexpr auto kMinGap = 100ms;
constexpr auto kHeartbeat = 2s;
// How soon a browser's EventSource reconnects after the stream ends (a member restarting).
constexpr std::string_view kRetry = "retry: 1000\n";

constexpr std::string_view kViewDir = "/etcdlab/view/";

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

HttpResponse no_cache(HttpResponse r) {
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

// The caller's token: the Authorization header, else ?token= (EventSource sends no headers).
Credentials credentials(const HttpRequest& r) {
  Credentials who;
  if (!r.authorization.empty()) {
    who.token = r.authorization;
    return who;
  }
  if (r.target.find('?') == std::string::npos) return who;
  auto url = boost::urls::parse_origin_form(r.target);
  if (!url) return who;
  auto params = url->params();
  if (auto it = params.find("token"); it != params.end() && (*it).has_value) {
    who.token = std::string((*it).value);
  }
  return who;
}

// With auth on, only root may watch the cluster (the view shows its members, their logs and
// who asks what): nullopt, or the refusal, always 401 with etcd's error body (whether the token
// is missing, unknown or a non-root user's).
std::optional<HttpResponse> refusal(KvService& s, const Credentials& who) {
  auto refused = s.authorize(who, server::KvNode::Access::kAdmin);
  if (!refused) return std::nullopt;
  HttpResponse r = error_response(*refused);
  r.status = 401;
  return r;
}

HttpResponse page_file(std::string_view file) {
  if (file.empty()) file = "index.html";
  for (const ViewAsset& a : view_assets()) {
    if (a.path != file) continue;
    HttpResponse r;
    r.content_type = std::string(a.content_type);
    r.body = std::string(a.bytes);
    return no_cache(std::move(r));
  }
  return plain(404, view_assets().empty()
                        ? "404 page not found (this etcdlab was built without the view's page)\n"
                        : "404 page not found\n");
}

// One open event stream.
struct EventStream {
  EventStream(KvService& s, std::shared_ptr<ViewStreams::Slot> sl, Credentials w)
      : service(s), slot(std::move(sl)), who(std::move(w)) {}
  KvService& service;
  std::shared_ptr<ViewStreams::Slot> slot;
  Credentials who;
  bool started = false;
  std::string last;  // the last state sent, without its time
  std::chrono::steady_clock::time_point sent;
};

// The state as an event, if it is due: it changed, or the heartbeat is (or `now`).
std::optional<std::string> due_event(EventStream& es, bool now) {
  boost::json::object state = view_state_json(es.service);
  std::string body = boost::json::serialize(state);
  state.erase("t_ms");
  std::string without_time = boost::json::serialize(state);
  auto at = std::chrono::steady_clock::now();
  if (!now && without_time == es.last && at - es.sent < kHeartbeat) return std::nullopt;
  es.last = std::move(without_time);
  es.sent = at;
  return fmt::format("data: {}\n\n", body);
}

// The stream's next piece; nullopt ends it (the server stops, or the caller's root access went).
awaitable<std::optional<std::string>> next_event(std::shared_ptr<EventStream> es) {
  if (!es->started) {
    es->started = true;
    co_return std::string(kRetry) + *due_event(*es, true);
  }
  for (;;) {
    co_await es->slot->wait(kMinGap);
    if (es->slot->stopping()) co_return std::nullopt;
    std::optional<std::string> event = due_event(*es, false);
    if (!event) continue;
    if (refusal(es->service, es->who)) co_return std::nullopt;
    co_return event;
  }
}

HttpResponse events(KvService& s, ViewStreams& streams, Credentials who) {
  if (streams.stopping()) {
    return error_response(
        server::ApiError(server::GrpcCode::kUnavailable, server::rpctypes::kStopped));
  }
  auto slot = streams.open();
  if (!slot) {
    return error_response(server::ApiError(
        server::GrpcCode::kResourceExhausted,
        fmt::format("etcdlab: too many view event streams open (at most {}: --view-max-streams)",
                    streams.max_open())));
  }
  auto es = std::make_shared<EventStream>(s, std::move(slot), std::move(who));
  HttpResponse r;
  r.content_type = "text/event-stream";
  r.stream = [es] { return next_event(es); };
  return no_cache(std::move(r));
}

}  // namespace

bool is_view_path(std::string_view path) {
  return path == "/etcdlab/state" || path == "/etcdlab/events" || path == "/etcdlab/view" ||
         path.starts_with(kViewDir);
}

HttpResponse handle_view(KvService& s, const HttpRequest& request) {
  ViewStreams* streams = s.view_streams();
  std::string_view path = path_of(request.target);
  if (streams == nullptr || !is_view_path(path)) return plain(404, "404 page not found\n");
  if (request.method != "GET") return plain(405, "Method Not Allowed\n");
  if (path == "/etcdlab/view") {  // (the page's files are named relative to the folder)
    HttpResponse r = plain(301, "");
    r.headers.emplace_back("Location",
                           std::string(kViewDir) + std::string(request.target.substr(path.size())));
    return r;
  }
  if (path.starts_with(kViewDir)) return page_file(path.substr(kViewDir.size()));
  Credentials who = credentials(request);
  if (auto refused = refusal(s, who)) return *refused;
  if (path == "/etcdlab/events") return events(s, *streams, std::move(who));
  HttpResponse r;
  r.body = boost::json::serialize(view_state_json(s));
  return no_cache(std::move(r));
}

}  // namespace etcdlab::gateway
