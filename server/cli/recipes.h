#pragma once
// etcd's lock and election recipes as clientv3/concurrency (3.4) runs them on the client side,
// here over the gateway's txn, range, delete and watch (etcdctl's lock and elect use them; the
// server's /v3/lock and /v3/election do the same work server-side):
//
//  - every contender puts a key <prefix>/<its session's lease id in hex> on its lease, in a txn
//    that only creates it (create_revision == 0); the key's create revision is its place in
//    line, the lowest holds the lock or leads;
//  - a contender that is not first waits for the delete of the key created last before its
//    own (a range sorted by create revision, descending, limit 1, max_create_revision = its own
//    minus one), and again until none is left: it never waits on more than one key, so a
//    release wakes one contender, not all (no herd);
//  - releasing is deleting the key; a session that ends (its lease expires) deletes it too.
//
// Requests carry the command's context: one made after `ctx` is cancelled fails with "context
// canceled", and a watch it waits on ends. Cleanup requests (unlock, resign) go without one, as
// clientv3's use the client's context. Each request gives up after --command-timeout
// (clientv3's would wait for ever). Failures throw EtcdError with clientv3's wording.

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "cancel.h"
#include "client.h"
#include "responses.h"
#include "session.h"
#include "watch_responses.h"

namespace etcdlab::cli {

// What the recipes talk through.
struct Link {
  const Client& client;
  std::vector<std::string> endpoints;  // for the watches
  std::chrono::nanoseconds dial_timeout;
  std::function<Deadline()> deadline;  // of each request

  // A request, failing at once if `ctx` (may be null) is cancelled.
  boost::json::object call(const std::string& path, const boost::json::object& body,
                           Cancel* ctx) const;
  RangeResponse get(const boost::json::object& range, Cancel* ctx) const;
  TxnResponse txn(const boost::json::object& txn, Cancel* ctx) const;
};

// The pieces the recipes build their requests from (gateway JSON).
namespace recipe {
boost::json::object range(const std::string& key);
// clientv3's WithFirstCreate / WithLastCreate: the key under `prefix` created first / last
// (with a create revision of at most `max_create_revision` when it is not 0).
boost::json::object first_created(const std::string& prefix);
boost::json::object last_created(const std::string& prefix, int64_t max_create_revision);
boost::json::object create_revision_is(const std::string& key, int64_t revision);
boost::json::object put(const std::string& key, const std::string& value, int64_t lease);
boost::json::object get(const boost::json::object& range);
boost::json::object del(const std::string& key);
// A txn body: If(compare) Then(success...) Else(failure...).
boost::json::object txn(boost::json::object compare, boost::json::array success,
                        boost::json::array failure = {});
// A lease id as concurrency writes it in a key: fmt's %x.
std::string lease_key(const std::string& prefix, int64_t lease);

// A watch (its create request) run until `on_response` returns true (kDone), the server
// cancels it (kCanceled, with clientv3's error), it is lost (kLost) or `ctx` is cancelled
// (kContext).
enum class WatchEnd { kDone, kCanceled, kLost, kContext };
struct WatchOutcome {
  WatchEnd end;
  std::string error;
};
WatchOutcome watch(const Link& link, Cancel& ctx, boost::json::object create,
                   const std::function<bool(const WatchResponse&)>& on_response);
}  // namespace recipe

// concurrency's waitDeletes: until no key under `prefix` has a create revision of at most
// `max_create_revision`; returns the header of the last range, which found none.
ResponseHeader wait_deletes(const Link& link, Cancel& ctx, const std::string& prefix,
                            int64_t max_create_revision);

// concurrency.Mutex.
class Mutex {
 public:
  Mutex(Session& session, const std::string& name) : session_(session), prefix_(name + "/") {}
  // Lock: queues this session's key and waits for its turn.
  void lock(const Link& link, Cancel& ctx);
  // Unlock: deletes the key.
  void unlock(const Link& link, Cancel* ctx);
  const std::string& key() const { return key_; }
  // The header of the response that gave the lock (its revision is ETCD_LOCK_REV).
  const ResponseHeader& header() const { return header_; }

 private:
  void release(const Link& link);  // unlock, its failure ignored
  Session& session_;
  std::string prefix_;
  std::string key_;
  int64_t revision_ = -1;
  ResponseHeader header_;
};

// concurrency.Election.
class Election {
 public:
  Election(Session& session, const std::string& name) : session_(session), prefix_(name + "/") {}
  // Campaign: queues this session's key with `value` and waits until it leads.
  void campaign(const Link& link, Cancel& ctx, const std::string& value);
  // Proclaim: a new value for the leader's key, if it still is the leader.
  void proclaim(const Link& link, Cancel* ctx, const std::string& value);
  // Resign: deletes the leader's key, if it still is the leader.
  void resign(const Link& link, Cancel* ctx);
  // Observe: calls `on_leader` with the leader's key-value (as a range response) each time the
  // leader or its value changes, until the context is cancelled or a request or watch fails.
  void observe(const Link& link, Cancel& ctx,
               const std::function<void(const RangeResponse&)>& on_leader);
  const std::string& key() const { return leader_key_; }

 private:
  void quietly_resign(const Link& link, Cancel* ctx);  // resign, its failure ignored
  Session& session_;
  std::string prefix_;
  std::string leader_key_;
  int64_t leader_revision_ = 0;
  bool leading_ = false;  // clientv3's leaderSession != nil
};

}  // namespace etcdlab::cli
