// /v3/lock/lock|unlock, as etcd 3.4's lock service answers them: {"header", "key"} once the
// lock is held (the request waits until then), {"header"} for an unlock (a delete of the key),
// every error with gRPC code 2 (the service passes its client's errors on as they are).
//
// Unlike etcd, a waiting lock does not notice its client leaving (the HTTP server reads no
// more of a connection while a request is served): its key stays until its lease ends.
#include "lock_handlers.h"

#include "etcdlab/txn/lock.h"
#include "recipe_io.h"

namespace etcdlab::gateway {

boost::asio::awaitable<HttpResponse> lock(KvService& s, const json::object& body) {
  std::string name = get_bytes(body, "name");
  int64_t lease = co_await session_lease(s, get_int(body, "lease"));
  txn::LockRecipe recipe(name, lease);
  txn::LockStep step = recipe.start();
  int64_t revision = 0;  // the header of the last answer, as etcd's Mutex keeps it
  for (;;) {
    switch (step.kind) {
      case txn::LockStep::Kind::kTxn: {
        txn::TxnResult r = co_await recipe_txn(s, std::move(step.txn));
        revision = r.revision;
        step = recipe.on_txn(r);
        break;
      }
      case txn::LockStep::Kind::kRange: {
        mvcc::RangeResult r = co_await recipe_range(s, step.range, step.options);
        revision = r.revision;
        step = recipe.on_range(r);
        break;
      }
      case txn::LockStep::Kind::kWaitDelete:
        co_await wait_deleted(s, step.key, step.from_revision);
        step = recipe.on_deleted();
        break;
      case txn::LockStep::Kind::kHeld: {
        json::object out;
        out["header"] = header(s, revision);
        put_bytes(out, "key", recipe.key());
        co_return ok(out);
      }
      case txn::LockStep::Kind::kFailed:
        recipe_error(step.error);
    }
  }
}

boost::asio::awaitable<HttpResponse> unlock(KvService& s, const json::object& body) {
  std::string key = get_bytes(body, "key");
  if (key.empty()) recipe_error(mvcc::message_of(mvcc::MvccError::Code::kEmptyKey));
  server::Result r;
  server::Request del = server::DeleteRangeRequest{{key, ""}, false};  // (g++ 12: no temporary
  try {                                                               // inside co_await)
    r = co_await write(s, std::move(del));
    check(r);
  } catch (const GatewayError& e) {
    recipe_error(e.what());
  }
  json::object out;
  out["header"] = header(s, r.revision);
  co_return ok(out);
}

}  // namespace etcdlab::gateway
