// The gateway's lease paths (etcd-v3-json-api.md §6), over KvService.
#include "lease_handlers.h"

#include <cctype>
#include <memory>

namespace etcdlab::gateway {

using boost::asio::awaitable;

awaitable<HttpResponse> lease_grant(KvService& s, const json::object& body) {
  server::LeaseGrantRequest g;
  g.id = get_int(body, "ID");
  g.ttl = get_int(body, "TTL");
  server::Result result = co_await s.write(g);
  check(result);
  const auto& granted = std::get<server::LeaseGrantResult>(result.value);
  json::object out;
  out["header"] = header(s, result.revision);
  put_int(out, "ID", granted.id);
  put_int(out, "TTL", granted.ttl);
  co_return ok(out);
}

awaitable<HttpResponse> lease_revoke(KvService& s, const json::object& body) {
  server::Result result = co_await s.write(server::LeaseRevokeRequest{get_int(body, "ID")});
  check(result);
  json::object out;
  out["header"] = header(s, result.revision);
  co_return ok(out);
}

awaitable<HttpResponse> lease_time_to_live(KvService& s, const json::object& body) {
  server::LeaseTimeToLiveResult ttl =
      co_await s.lease_time_to_live(get_int(body, "ID"), get_bool(body, "keys"));
  json::object out;
  out["header"] = header(s, s.store().revision());
  put_int(out, "ID", ttl.id);
  put_int(out, "TTL", ttl.ttl);
  put_int(out, "grantedTTL", ttl.granted_ttl);
  if (!ttl.keys.empty()) {
    json::array keys;
    for (const auto& k : ttl.keys) keys.push_back(json::string(base64_encode(k)));
    out["keys"] = std::move(keys);
  }
  co_return ok(out);
}

awaitable<HttpResponse> lease_leases(KvService& s, const json::object&) {
  json::object out;
  out["header"] = header(s, s.store().revision());
  std::vector<int64_t> ids = s.leases();
  if (!ids.empty()) {
    json::array leases;
    for (int64_t id : ids) {
      json::object one;
      put_int(one, "ID", id);
      leases.push_back(std::move(one));
    }
    out["leases"] = std::move(leases);
  }
  co_return ok(out);
}

namespace {

// The keep-alive stream: the request body's objects, one answer line each.
struct KeepAliveStream {
  std::string body;
  size_t at = 0;
};

awaitable<std::optional<std::string>> next_keep_alive(KvService& s,
                                                      std::shared_ptr<KeepAliveStream> st) {
  while (st->at < st->body.size() && std::isspace(static_cast<unsigned char>(st->body[st->at]))) {
    ++st->at;
  }
  if (st->at >= st->body.size()) co_return std::nullopt;
  // One JSON object of the body: write_some stops after a complete value.
  json::stream_parser parser;
  boost::system::error_code ec;
  size_t used = parser.write_some(st->body.data() + st->at, st->body.size() - st->at, ec);
  if (!ec && !parser.done()) parser.finish(ec);
  json::value value;
  if (!ec && parser.done()) value = parser.release();
  st->at += used;
  json::object line;
  if (!value.is_object()) {
    st->at = st->body.size();  // the stream ends with the error, as the gateway's does
    json::object error;
    error["code"] = static_cast<int>(GrpcCode::kInvalidArgument);
    error["message"] = "malformed keep-alive request";
    line["error"] = std::move(error);
    co_return serialize(line) + "\n";
  }
  const json::object& request = value.as_object();
  json::object result;
  try {
    server::LeaseKeepAliveResult answer = co_await s.lease_keep_alive(get_int(request, "ID"));
    result["header"] = header(s, s.store().revision());
    put_int(result, "ID", answer.id);
    put_int(result, "TTL", answer.ttl);
  } catch (const GatewayError& e) {
    st->at = st->body.size();
    json::object error;
    error["code"] = static_cast<int>(e.code());
    error["message"] = e.what();
    line["error"] = std::move(error);
    co_return serialize(line) + "\n";
  }
  line["result"] = std::move(result);
  co_return serialize(line) + "\n";
}

}  // namespace

HttpResponse lease_keep_alive(KvService& s, std::string body) {
  auto st = std::make_shared<KeepAliveStream>();
  st->body = std::move(body);
  HttpResponse r;
  r.grpc_ok = true;
  r.stream = [&s, st] { return next_keep_alive(s, st); };
  return r;
}

}  // namespace etcdlab::gateway
