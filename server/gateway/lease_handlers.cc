// The gateway's lease paths (etcd-v3-json-api.md §6), over KvService.
#include "lease_handlers.h"

#include <spdlog/spdlog.h>

#include <memory>
#include <optional>

#include "../rpc/rpcs.h"

namespace etcdlab::gateway {

using boost::asio::awaitable;

awaitable<HttpResponse> lease_grant(KvService& s, const json::object& body,
                                    const Credentials& who) {
  server::LeaseGrantRequest g;
  g.id = get_int(body, "ID");
  g.ttl = get_int(body, "TTL");
  server::Result result = co_await rpc::lease_grant(s, g, who);
  const auto& granted = std::get<server::LeaseGrantResult>(result.value);
  json::object out;
  out["header"] = header(s, result.revision);
  put_int(out, "ID", granted.id);
  put_int(out, "TTL", granted.ttl);
  co_return ok(out);
}

awaitable<HttpResponse> lease_revoke(KvService& s, const json::object& body,
                                     const Credentials& who) {
  server::Result result = co_await rpc::lease_revoke(s, get_int(body, "ID"), who);
  json::object out;
  out["header"] = header(s, result.revision);
  co_return ok(out);
}

awaitable<HttpResponse> lease_time_to_live(KvService& s, const json::object& body,
                                           const Credentials& /*who*/) {
  server::LeaseTimeToLiveResult ttl =
      co_await rpc::lease_time_to_live(s, get_int(body, "ID"), get_bool(body, "keys"));
  json::object out;
  out["header"] = header(s, rpc::current_revision(s));
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

awaitable<HttpResponse> lease_leases(KvService& s, const json::object& /*body*/,
                                     const Credentials& /*who*/) {
  json::object out;
  out["header"] = header(s, rpc::current_revision(s));
  std::vector<int64_t> ids = rpc::lease_leases(s);
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

// The keep-alive stream: the request body, read one request at a time as the client stream it
// stands for; the first answer, made before the stream starts; whether the stream has ended.
struct KeepAliveStream {
  std::string body;
  size_t at = 0;
  std::optional<std::string> first;
  bool done = false;
};

// The next request's lease id; nullopt at the end of the body. Throws GatewayError (400) for a
// malformed request.
std::optional<int64_t> next_id(KeepAliveStream& st) {
  std::optional<json::object> request = parse_next(st.body, st.at);
  if (!request) return std::nullopt;
  return get_int(*request, "ID");
}

// One answer line: the lease's TTL, renewed; the id alone when it is unknown or expired.
awaitable<std::string> answer_line(KvService& s, int64_t id) {
  server::LeaseKeepAliveResult answer;
  try {
    answer = co_await rpc::lease_keep_alive(s, id);
  } catch (const GatewayError&) {
    throw;
  } catch (const std::exception& e) {
    spdlog::error("gateway: lease keep-alive of {}: {}", id, e.what());
    throw GatewayError(GrpcCode::kUnknown, e.what());
  }
  json::object result;
  result["header"] = header(s, rpc::current_revision(s));
  put_int(result, "ID", answer.id);
  put_int(result, "TTL", answer.ttl);
  json::object line;
  line["result"] = std::move(result);
  co_return serialize(line) + "\n";
}

// The stream after its first answer. As etcd's gateway: a malformed request ends the client
// stream, so the answers so far are all (no error); a failed keep-alive ends it with the error.
awaitable<std::optional<std::string>> next_line(KvService& s, std::shared_ptr<KeepAliveStream> st) {
  if (st->first) {
    std::optional<std::string> first = std::move(st->first);
    st->first.reset();
    co_return first;
  }
  if (st->done) co_return std::nullopt;
  std::optional<int64_t> id;
  try {
    id = next_id(*st);
  } catch (const GatewayError&) {
    id.reset();
  }
  if (!id) {
    st->done = true;
    co_return std::nullopt;
  }
  try {
    co_return co_await answer_line(s, *id);
  } catch (const GatewayError& e) {
    st->done = true;
    co_return stream_error(e);
  }
}

}  // namespace

awaitable<HttpResponse> lease_keep_alive(KvService& s, std::string body) {
  auto st = std::make_shared<KeepAliveStream>();
  st->body = std::move(body);
  std::optional<int64_t> id;
  try {
    id = next_id(*st);
  } catch (const GatewayError& e) {
    // etcd's gateway decodes the first request before the call starts: a malformed one fails
    // the call with a plain error, code 2 (a decoding error is no gRPC status), 500.
    co_return error_response(GatewayError(GrpcCode::kUnknown, e.what()));
  }
  HttpResponse r;
  r.stream = [&s, st] { return next_line(s, st); };
  // An empty body: an empty stream, without Grpc-Metadata-Content-Type (the server sent no
  // headers before it ended the call).
  if (!id) co_return r;
  // The gateway writes the status with the first answer: 200, or the first failure's status
  // (no leader: 503) followed by the stream error alone.
  try {
    st->first = co_await answer_line(s, *id);
    r.grpc_ok = true;
  } catch (const GatewayError& e) {
    st->first = stream_error(e);
    st->done = true;
    r.status = http_status(e.code());
  }
  co_return r;
}

}  // namespace etcdlab::gateway
