// /v3/lock/lock|unlock, as etcd 3.4's gateway answers them: {"header", "key"} once the lock is
// held (the request waits until then), {"header"} for an unlock. The service is rpc::lock and
// rpc::unlock (server/rpc/recipes.h), which the gRPC door calls too.
#include "lock_handlers.h"

#include "../rpc/recipes.h"

namespace etcdlab::gateway {

boost::asio::awaitable<HttpResponse> lock(KvService& s, const json::object& body,
                                          const Credentials& who) {
  std::string name = get_bytes(body, "name");  // (g++ 12: no temporaries inside co_await)
  rpc::LockResult held = co_await rpc::lock(s, std::move(name), get_int(body, "lease"), who);
  json::object out;
  out["header"] = header(s, held.revision);
  put_bytes(out, "key", held.key);
  co_return ok(out);
}

boost::asio::awaitable<HttpResponse> unlock(KvService& s, const json::object& body,
                                            const Credentials& who) {
  std::string key = get_bytes(body, "key");
  int64_t revision = co_await rpc::unlock(s, std::move(key), who);
  json::object out;
  out["header"] = header(s, revision);
  co_return ok(out);
}

}  // namespace etcdlab::gateway
