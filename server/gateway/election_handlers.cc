// /v3/election/*, as etcd 3.4's gateway reads and answers them; the service is
// server/rpc/recipes.h (rpc::campaign, proclaim, leader, resign, Observer), which the gRPC
// door calls too. Errors come with gRPC code 2, as etcd's service passes them on.
#include "election_handlers.h"

#include <memory>

#include "../rpc/recipes.h"

namespace etcdlab::gateway {
namespace {

std::optional<rpc::LeaderKey> leader_key(const json::object& body) {
  const json::object* l = get_object(body, "leader");
  if (l == nullptr) return std::nullopt;
  return rpc::LeaderKey{get_bytes(*l, "name"), get_bytes(*l, "key"), get_int(*l, "rev"),
                        get_int(*l, "lease")};
}

json::object leader_json(const rpc::LeaderKey& l) {
  json::object o;
  put_bytes(o, "name", l.name);
  put_bytes(o, "key", l.key);
  put_int(o, "rev", l.rev);
  put_int(o, "lease", l.lease);
  return o;
}

json::object header_only(KvService& s, int64_t revision) {
  json::object out;
  out["header"] = header(s, revision);
  return out;
}

}  // namespace

boost::asio::awaitable<HttpResponse> campaign(KvService& s, const json::object& body,
                                              const Credentials& who) {
  std::string name = get_bytes(body, "name");  // (g++ 12: no temporaries inside co_await)
  std::string value = get_bytes(body, "value");
  int64_t lease = get_int(body, "lease");
  rpc::CampaignResult won =
      co_await rpc::campaign(s, std::move(name), lease, std::move(value), who);
  json::object out;
  out["header"] = header(s, won.revision);
  out["leader"] = leader_json(won.leader);
  co_return ok(out);
}

boost::asio::awaitable<HttpResponse> proclaim(KvService& s, const json::object& body,
                                              const Credentials& who) {
  std::optional<rpc::LeaderKey> l = leader_key(body);
  std::string value = get_bytes(body, "value");
  int64_t revision = co_await rpc::proclaim(s, std::move(l), std::move(value), who);
  co_return ok(header_only(s, revision));
}

boost::asio::awaitable<HttpResponse> leader(KvService& s, const json::object& body,
                                            const Credentials& who) {
  std::string name = get_bytes(body, "name");
  rpc::LeaderResult r = co_await rpc::leader(s, std::move(name), who);
  json::object out;
  out["header"] = header(s, r.revision);
  out["kv"] = kv_json(r.kv);
  co_return ok(out);
}

boost::asio::awaitable<HttpResponse> resign(KvService& s, const json::object& body,
                                            const Credentials& who) {
  std::optional<rpc::LeaderKey> l = leader_key(body);
  int64_t revision = co_await rpc::resign(s, std::move(l), who);
  co_return ok(header_only(s, revision));
}

namespace {

// The stream's next line: a named coroutine taking its state by value (a lambda coroutine's
// captures live in the closure, which the caller may copy or drop while it is suspended).
boost::asio::awaitable<std::optional<std::string>> observe_next(KvService& s,
                                                                std::shared_ptr<rpc::Observer> o,
                                                                std::shared_ptr<bool> ended) {
  if (*ended) co_return std::nullopt;
  try {
    rpc::LeaderResult r = co_await o->next();
    json::object result;
    result["header"] = header(s, r.revision);
    result["kv"] = kv_json(r.kv);
    json::object line;
    line["result"] = std::move(result);
    co_return serialize(line) + "\n";
  } catch (const GatewayError& e) {
    *ended = true;  // the error is the stream's last line, as etcd's gateway ends it
    co_return stream_error(e);
  }
}

}  // namespace

boost::asio::awaitable<HttpResponse> observe(KvService& s, const json::object& body,
                                             const Credentials& who) {
  auto observer = std::make_shared<rpc::Observer>(s, get_bytes(body, "name"), who);
  auto ended = std::make_shared<bool>(false);
  HttpResponse r;
  r.grpc_ok = true;
  r.stream = [&s, observer, ended] { return observe_next(s, observer, ended); };
  co_return r;
}

}  // namespace etcdlab::gateway
