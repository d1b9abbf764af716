#pragma once
// What the gateway's handlers need from the server: a plain interface over the node, so the
// handlers stay functions of (service, request) and can be tested without sockets.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../node/kv_node.h"
#include "../node/membership.h"
#include "http_types.h"

namespace etcdlab::gateway {

class ViewStreams;  // view_streams.h

struct ServerStatus {
  std::string version;
  uint64_t db_size = 0;
  uint64_t db_size_in_use = 0;
  uint64_t leader = 0;
  uint64_t raft_index = 0;
  uint64_t raft_term = 0;
  uint64_t raft_applied_index = 0;
  bool is_learner = false;
  std::vector<std::string> errors;  // alarms
};

// A membership request as the gateway parsed it (member/add|remove|update|promote): the
// node's type (server/node/membership.h).
using MemberRequest = server::MemberChange;

// Failpoints (--enable-failpoints): what the peer transport drops or delays.
struct Failpoints {
  std::vector<uint64_t> drop_to;
  std::vector<uint64_t> drop_from;
  uint32_t delay_ms = 0;
};

// Disk failpoints (--enable-failpoints): every sync of the member's WAL and snapshot files waits
// this long first (a slow disk).
struct DiskFailpoints {
  uint32_t sync_delay_ms = 0;
};

// A consistent copy of this member's database, read in pieces (maintenance/snapshot).
class DbSnapshot {
 public:
  virtual ~DbSnapshot() = default;
  virtual uint64_t size() const = 0;
  virtual std::string read(uint64_t offset, uint64_t length) = 0;
};

class KvService {
 public:
  virtual ~KvService() = default;
  // Puts a write through Raft and waits until this member has applied it. Throws GatewayError
  // (no leader, timed out).
  virtual boost::asio::awaitable<server::Result> write(server::Request request) = 0;
  // Waits until this member may serve a linearizable read (ReadIndex). Throws GatewayError.
  virtual boost::asio::awaitable<void> read_barrier() = 0;
  // A txn as the node serves it (KvNode::txn: validated, read-only ones without the log).
  // Throws GatewayError (refused, no leader, timed out); a failed txn's error is in the result.
  virtual boost::asio::awaitable<server::Result> txn(server::TxnRequest request) = 0;
  virtual const mvcc::KvStore& store() const = 0;
  virtual uint64_t cluster_id() const = 0;
  virtual uint64_t member_id() const = 0;
  virtual uint64_t raft_term() const = 0;
  virtual std::vector<server::Member> members() const = 0;
  virtual ServerStatus status() const = 0;
  virtual bool healthy() const = 0;  // a leader is known and no alarm is raised
  virtual uint64_t max_request_bytes() const = 0;

  // ---- operations (the defaults refuse: a service without them answers 501)
  // Whether this member is the leader; the gateway sends leader-only requests (membership)
  // on to the leader with forward_to_leader() when it is not.
  virtual bool is_leader() const { return true; }
  virtual boost::asio::awaitable<HttpResponse> forward_to_leader(HttpRequest request);
  // Applies a membership change (on the leader) and returns the member it concerned; throws
  // GatewayError with etcd's errors (member not found, peer URLs exist, not enough started
  // members, learner not in sync, ...).
  virtual boost::asio::awaitable<server::Member> change_member(MemberRequest request);
  // Raises (activate) or clears an alarm through the log; returns the alarms after.
  virtual boost::asio::awaitable<std::vector<server::Alarm>> change_alarm(bool activate,
                                                                          server::Alarm alarm);
  virtual std::vector<server::Alarm> alarms() const { return {}; }
  // ---- leases (grant and revoke are writes): the leader's clock answers these
  virtual boost::asio::awaitable<server::LeaseKeepAliveResult> lease_keep_alive(int64_t id);
  virtual boost::asio::awaitable<server::LeaseTimeToLiveResult> lease_time_to_live(int64_t id,
                                                                                  bool keys);
  virtual std::vector<int64_t> leases() const { return {}; }
  // ---- watches (etcd's Watch), served from this member's store: one stream per connection.
  // `wake` runs (on the service's thread) whenever the stream has responses to take. The
  // default open refuses (501).
  virtual uint64_t open_watch_stream(std::function<void()> wake);
  virtual void close_watch_stream(uint64_t /*stream*/) {}
  virtual void watch(uint64_t /*stream*/, const watch::WatchRequest& /*request*/) {}
  virtual void cancel_watch(uint64_t /*stream*/, int64_t /*id*/) {}
  virtual void request_watch_progress(uint64_t /*stream*/) {}
  virtual std::vector<watch::WatchResponse> take_watch_responses(uint64_t /*stream*/,
                                                                 size_t /*max*/) {
    return {};
  }
  // This member's store only, as etcd's. Returns once it is done; the node keeps its
  // leadership and its heartbeats meanwhile (its writes wait).
  virtual boost::asio::awaitable<void> defragment();
  // etcd's MoveLeader (on the leader): returns once `to` leads; throws ApiError (not leader,
  // bad leader transferee, took too long).
  virtual boost::asio::awaitable<void> move_leader(uint64_t to);
  virtual bool failpoints_enabled() const { return false; }
  virtual void set_failpoints(const Failpoints& f);
  virtual Failpoints failpoints() const { return {}; }
  virtual void set_disk_failpoints(const DiskFailpoints& f);
  virtual DiskFailpoints disk_failpoints() const { return {}; }
  // A consistent copy of the database, made without stalling the node.
  virtual boost::asio::awaitable<std::unique_ptr<DbSnapshot>> open_db_snapshot();
  // /metrics (Prometheus text, etcd's families); empty: not served.
  virtual std::string metrics_text() const { return {}; }
  // Counted for the metrics: a range served, a /health answered.
  virtual void count_range() {}
  virtual void count_health(bool /*healthy*/) {}

  // ---- the live cluster view (--enable-view; view_handlers.h). Off unless a service has one:
  // nullptr, and the view's paths answer 404. On: the node's view of itself (node_view.h).
  virtual ViewStreams* view_streams() { return nullptr; }
  virtual server::NodeView view_state() const { return {}; }
  virtual std::vector<server::RequestRecord> recent_requests() const { return {}; }

  // ---- auth (etcd 3.4's model: server/node/auth decides every rule; the rpc layer hashes
  // passwords and asks). The defaults are a service without auth: credentials are ignored,
  // auth is never on, and blocking work runs inline.
  // A write or txn with the caller's credentials: resolved by the node now, the permission
  // decided at apply on every member (KvNode::submit / txn with Credentials).
  virtual boost::asio::awaitable<server::Result> write(server::Request request,
                                                       const server::Credentials& who);
  virtual boost::asio::awaitable<server::Result> txn(server::TxnRequest request,
                                                     const server::Credentials& who);
  // What is served without the log, checked on this member's applied auth state (nullopt: go).
  virtual std::optional<server::ApiError> authorize(const server::Credentials& /*who*/,
                                                    server::KvNode::Access /*access*/,
                                                    const mvcc::KeyRange& /*keys*/ = {}) {
    return std::nullopt;
  }
  // A watch created with the caller's credentials: a refusal is a created+canceled response on
  // the stream, as etcd sends it.
  virtual void watch(uint64_t stream, const watch::WatchRequest& request,
                     const server::Credentials& /*who*/) {
    watch(stream, request);
  }
  // Authentication's steps on this member (KvNode::auth_lookup, auth_failed).
  virtual server::KvNode::AuthLookup auth_lookup(const std::string& /*name*/) { return {}; }
  virtual void auth_failed(const std::string& /*name*/) {}
  // Auth reads, from this member's applied auth state; throw ApiError with etcd's texts.
  virtual server::auth::User user_get(const server::Credentials& who, const std::string& name);
  virtual std::vector<std::string> user_list(const server::Credentials& who);
  virtual server::auth::Role role_get(const server::Credentials& who, const std::string& name);
  virtual std::vector<std::string> role_list(const server::Credentials& who);
  // Runs `work` off the node's and the io's threads (bcrypt: ~100 ms at cost 10) and resumes
  // here once it is done, rethrowing what it threw. `work` is moved away before the first
  // suspension (g++ 12 mishandles temporaries in co_await expressions: pass a named one).
  virtual boost::asio::awaitable<void> run_blocking(std::function<void()>&& work);
  // Waits without holding a thread (the throttle's delay before a password is checked).
  virtual boost::asio::awaitable<void> pause(std::chrono::milliseconds how_long);
  // Unpredictable bytes (the runtime: OpenSSL's RAND_bytes), for salts and token prefixes.
  virtual std::string random_bytes(size_t n);
  // --bcrypt-cost: the cost of the hashes this member makes.
  virtual int bcrypt_cost() const { return 10; }
};

}  // namespace etcdlab::gateway
