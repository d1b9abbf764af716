// Leader election as etcd's concurrency.Election does it: a candidate owns the key
// <name>/<lease in hex> holding its proposal; candidates queue by create revision, as the
// lock's contenders do; the leader is the candidate whose key is oldest. campaign waits until
// every older key is gone; proclaim and resign act only while the candidate's key still has
// the create revision it had (the leader's "rev": a fencing token again). Errors come with
// gRPC code 2, as etcd's service passes them on.
#include "election_handlers.h"

#include <fmt/format.h>

#include <memory>

#include "recipe_io.h"

namespace etcdlab::gateway {
namespace {

using txn::Compare;
using txn::CompareResult;
using txn::CompareTarget;

constexpr const char* kElectionNotLeader = "election: not leader";
constexpr const char* kElectionNoLeader = "election: no leader";

// A candidate as the requests name it (etcd's LeaderKey).
struct LeaderKey {
  std::string name;
  std::string key;
  int64_t rev = 0;
  int64_t lease = 0;
};

LeaderKey leader_key(const json::object& body) {
  const json::object* l = get_object(body, "leader");
  if (l == nullptr) recipe_error("\"leader\" field must be provided");
  return LeaderKey{get_bytes(*l, "name"), get_bytes(*l, "key"), get_int(*l, "rev"),
                   get_int(*l, "lease")};
}

txn::RangeOp first_created(const std::string& prefix) {
  txn::RangeOp op;
  op.range = {prefix, mvcc::prefix_end(prefix)};
  op.options.sort_target = mvcc::SortTarget::kCreate;
  op.options.sort_order = mvcc::SortOrder::kAscend;
  op.options.limit = 1;
  return op;
}

// The candidate's key still has its create revision: put the value (proclaim).
boost::asio::awaitable<txn::TxnResult> proclaim_value(KvService& s, const LeaderKey& l,
                                                      std::string value) {
  txn::PutOp put;
  put.key = l.key;
  put.value = std::move(value);
  put.lease = l.lease;
  txn::TxnRequest t;
  t.compare.push_back(Compare::of(CompareTarget::kCreate, CompareResult::kEqual, l.key, l.rev));
  t.success.push_back(std::move(put));
  txn::TxnResult r = co_await recipe_txn(s, std::move(t));
  if (!r.succeeded) recipe_error(kElectionNotLeader);
  co_return r;
}

// etcd's waitDeletes: until no key of the prefix created before `before` is left.
boost::asio::awaitable<void> wait_older_gone(KvService& s, const std::string& prefix,
                                             int64_t before) {
  for (;;) {
    mvcc::RangeOptions last_older;
    last_older.sort_target = mvcc::SortTarget::kCreate;
    last_older.sort_order = mvcc::SortOrder::kDescend;
    last_older.limit = 1;
    last_older.max_create_revision = before - 1;
    mvcc::KeyRange keys{prefix, mvcc::prefix_end(prefix)};  // (g++ 12: no temporaries inside
    mvcc::RangeResult r = co_await recipe_range(s, keys, last_older);  // co_await)
    if (r.kvs.empty()) co_return;
    co_await wait_deleted(s, r.kvs[0].key, r.revision + 1);
  }
}

json::object leader_json(const LeaderKey& l) {
  json::object o;
  put_bytes(o, "name", l.name);
  put_bytes(o, "key", l.key);
  put_int(o, "rev", l.rev);
  put_int(o, "lease", l.lease);
  return o;
}

}  // namespace

boost::asio::awaitable<HttpResponse> campaign(KvService& s, const json::object& body) {
  LeaderKey me;
  me.name = get_bytes(body, "name");
  std::string value = get_bytes(body, "value");
  me.lease = co_await session_lease(s, get_int(body, "lease"));
  std::string prefix = me.name + "/";
  me.key = fmt::format("{}{:x}", prefix, static_cast<uint64_t>(me.lease));
  // Join the queue, or find the key this session already has.
  txn::PutOp put;
  put.key = me.key;
  put.value = value;
  put.lease = me.lease;
  txn::RangeOp mine;
  mine.range = {me.key, ""};
  txn::TxnRequest join;
  join.compare.push_back(Compare::of(CompareTarget::kCreate, CompareResult::kEqual, me.key, 0));
  join.success.push_back(std::move(put));
  join.failure.push_back(std::move(mine));
  txn::TxnResult joined = co_await recipe_txn(s, std::move(join));
  me.rev = joined.revision;
  if (!joined.succeeded) {
    const auto& kvs = std::get<mvcc::RangeResult>(joined.responses.at(0)).kvs;
    if (kvs.empty()) recipe_error(kElectionNotLeader);  // the key went between the compare and now
    me.rev = kvs[0].create_revision;
    if (kvs[0].value != value) co_await proclaim_value(s, me, value);
  }
  co_await wait_older_gone(s, prefix, me.rev);
  json::object out;
  out["header"] = header(s, joined.revision);  // etcd keeps the join's header
  out["leader"] = leader_json(me);
  co_return ok(out);
}

boost::asio::awaitable<HttpResponse> proclaim(KvService& s, const json::object& body) {
  LeaderKey l = leader_key(body);
  std::string value = get_bytes(body, "value");
  txn::TxnResult r = co_await proclaim_value(s, l, std::move(value));
  json::object out;
  out["header"] = header(s, r.revision);
  co_return ok(out);
}

boost::asio::awaitable<HttpResponse> leader(KvService& s, const json::object& body) {
  std::string prefix = get_bytes(body, "name") + "/";
  txn::RangeOp first = first_created(prefix);
  mvcc::RangeResult r = co_await recipe_range(s, first.range, first.options);
  if (r.kvs.empty()) recipe_error(kElectionNoLeader);
  json::object out;
  out["header"] = header(s, r.revision);
  out["kv"] = kv_json(r.kvs[0]);
  co_return ok(out);
}

boost::asio::awaitable<HttpResponse> resign(KvService& s, const json::object& body) {
  LeaderKey l = leader_key(body);
  txn::DeleteOp del;
  del.range = {l.key, ""};
  txn::TxnRequest t;
  t.compare.push_back(Compare::of(CompareTarget::kCreate, CompareResult::kEqual, l.key, l.rev));
  t.success.push_back(std::move(del));
  txn::TxnResult r = co_await recipe_txn(s, std::move(t));  // not the leader: nothing to do
  json::object out;
  out["header"] = header(s, r.revision);
  co_return ok(out);
}

}  // namespace etcdlab::gateway

namespace etcdlab::gateway {
namespace {

// etcd's Election.observe: find the leader (or wait for the prefix's first put), send it, then
// follow its key: each put is sent, its delete starts the search again.
struct Observer {
  Observer(KvService& service, std::string name) : s(service), prefix(std::move(name) + "/") {}
  KvService& s;
  std::string prefix;
  bool following = false;
  mvcc::KeyValue leader;
  int64_t seen = 0;  // the revision of the last change sent

  boost::asio::awaitable<std::optional<std::string>> next() {
    for (;;) {
      if (!following) {
        txn::RangeOp first = first_created(prefix);
        mvcc::RangeResult r = co_await recipe_range(s, first.range, first.options);
        int64_t revision = r.revision;
        if (r.kvs.empty()) {
          mvcc::KeyRange keys = first.range;
          WatchedEvent e = co_await next_event(s, keys, r.revision, false, /*no_delete=*/true);
          leader = std::move(e.event.kv);
          revision = leader.mod_revision;
        } else {
          leader = std::move(r.kvs[0]);
        }
        following = true;
        seen = revision;
        co_return line(revision);
      }
      mvcc::KeyRange key{leader.key, ""};
      WatchedEvent e = co_await next_event(s, key, seen + 1, false, false);
      seen = e.event.kv.mod_revision;
      if (e.event.type == mvcc::Event::Type::kDelete) {
        following = false;
        continue;
      }
      leader = std::move(e.event.kv);
      co_return line(e.revision);
    }
  }

  std::string line(int64_t revision) const {
    json::object result;
    result["header"] = header(s, revision);
    result["kv"] = kv_json(leader);
    json::object out;
    out["result"] = std::move(result);
    return serialize(out) + "\n";
  }
};

// The stream's next line: a named coroutine taking its state by value (a lambda coroutine's
// captures live in the closure, which the caller may copy or drop while it is suspended).
boost::asio::awaitable<std::optional<std::string>> observe_next(std::shared_ptr<Observer> o,
                                                                std::shared_ptr<bool> ended) {
  if (*ended) co_return std::nullopt;
  try {
    co_return co_await o->next();
  } catch (const GatewayError& e) {
    *ended = true;  // the error is the stream's last line, as etcd's gateway ends it
    co_return stream_error(e);
  }
}

}  // namespace

boost::asio::awaitable<HttpResponse> observe(KvService& s, const json::object& body) {
  auto observer = std::make_shared<Observer>(s, get_bytes(body, "name"));
  auto ended = std::make_shared<bool>(false);
  HttpResponse r;
  r.grpc_ok = true;
  r.stream = [observer, ended] { return observe_next(observer, ended); };
  co_return r;
}

}  // namespace etcdlab::gateway
