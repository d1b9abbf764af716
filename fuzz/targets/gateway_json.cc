// The JSON gateway's request parsing (server/gateway: handlers over json_fields): a POST of a
// fuzzed body to each of etcd's v3 paths, answered by handle() over an in-memory store. Every
// body must get an answer (200 or etcd's error body, or a stream of JSON lines); an exception
// escaping handle() or a crash is a finding. Beast is not involved: it only moves bytes (http_server.cc).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "../direct_member.h"
#include "../fuzz_input.h"
#include "handlers.h"

using namespace etcdlab;
using namespace etcdlab::gateway;

namespace {

// The member (writes apply at once), answering lease reads too.
class Service final : public fuzz::DirectMember {
 public:
  Service() : DirectMember(4096) {}

  // The lease reads answer from the lessor as it stands (no clock runs here).
  boost::asio::awaitable<server::LeaseKeepAliveResult> lease_keep_alive(int64_t id) override {
    auto info = sm->lessor().info(id, false);
    co_return server::LeaseKeepAliveResult{id, info ? info->granted_ttl : 0};
  }
  boost::asio::awaitable<server::LeaseTimeToLiveResult> lease_time_to_live(int64_t id,
                                                                           bool keys) override {
    server::LeaseTimeToLiveResult out{id, -1, 0, {}};
    if (auto info = sm->lessor().info(id, keys)) {
      out = {id, info->remaining_ttl, info->granted_ttl, info->keys};
    }
    co_return out;
  }
  std::vector<int64_t> leases() const override { return sm->lessor().leases(); }

  void reset() {
    sm = std::make_unique<server::KvStateMachine>(mvcc::KvStore::open({}),
                                                  std::vector<server::Member>{});
  }
};

constexpr const char* kPaths[] = {
    "/v3/kv/range",          "/v3/kv/put",           "/v3/kv/deleterange",
    "/v3/kv/compaction",     "/v3/kv/txn",           "/v3/cluster/member/list",
    "/v3/cluster/member/add", "/v3/cluster/member/remove", "/v3/cluster/member/update",
    "/v3/cluster/member/promote", "/v3/maintenance/alarm", "/v3/maintenance/status",
    "/v3/maintenance/hash",  "/v3beta/kv/range",     "/v3/lease/grant",
    "/v3/lease/revoke",      "/v3/lease/keepalive",  "/v3/lease/timetolive",
    "/v3/lease/leases",      "/v3/kv/lease/revoke",  "/health",
    "/version",              "/v3/lock/lock",        "/v3/lock/unlock",
    "/v3/election/campaign", "/v3/election/proclaim", "/v3/election/leader",
    "/v3/election/resign",   "/v3/election/observe",
};

// (A named coroutine, not a lambda: g++ 12 emits a lambda coroutine inside an extern "C"
// function twice.)
boost::asio::awaitable<void> ask(KvService& service, HttpRequest request, bool& answered) {
  HttpResponse r = co_await handle(service, std::move(request));
  if (r.status < 200 || r.status > 599) __builtin_trap();
  if (r.status >= 400 && r.content_type == "application/json") {
    (void)boost::json::parse(r.body);  // an error body is JSON, as etcd's
  }
  // A streamed answer (the keep-alive stream, an election's observer): every line is one JSON
  // object ended by a newline, except a closing error, which etcd's gateway writes without.
  while (r.stream) {
    std::optional<std::string> line = co_await r.stream();
    if (!line) break;
    if (line->empty()) __builtin_trap();
    boost::json::value message = boost::json::parse(*line);
    if (line->back() != '\n' && !message.as_object().contains("error")) __builtin_trap();
  }
  answered = true;
}

void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);  // escaped handle(): a finding
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Service* service = new Service;
  static uint64_t runs = 0;
  if (runs++ % 1000 == 0) service->reset();  // bounded memory
  fuzz::FuzzInput in(data, size);
  const char* path = kPaths[in.byte() % std::size(kPaths)];
  HttpRequest request{in.byte() < 240 ? "POST" : "GET", path, std::string(in.rest()), {}};
  boost::asio::io_context io;
  bool answered = false;
  boost::asio::co_spawn(io, ask(*service, std::move(request), answered), rethrow);
  io.run();
  if (!answered) __builtin_trap();
  return 0;
}
