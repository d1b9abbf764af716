#pragma once
// The node: everything a member decides, with no I/O of its own — the Raft core, the apply of
// committed entries to the MVCC store (KvStateMachine), the tracking of client requests and
// their deadlines, ReadIndex rounds, etcd's membership rules, alarms and the quota, publishing
// this member's client URLs, auto-compaction, when to snapshot, and what happens when this
// member is removed. Time is tick() (options.tick_ms apart); randomness is the Raft seed.
//
// Two drivers run this class: the server runtime (server/runtime: Asio, real disks and
// sockets) and the simulator (sim/: virtual time, a hostile network, crashing disks). Both
// run the same Ready loop (ready_loop.h) over it; the node is its DrivenNode.
//
// Threads. One thread — the driver's node thread — calls every method, and reads store()
// between calls. Nothing here blocks on I/O except the store's own SQLite writes in apply().
//
// Requests. submit(), read_index(), change_member() and change_alarm() return an id at once.
// Every id gets exactly one Completion, from take_completions(), unless the driver forget()s
// it: the result once this member applied the request, or an error (etcd's code and text):
// refused at once (the membership rules, the quota), "no leader" when no leader appeared
// before the deadline, "request timed out" when one did but the request did not apply in
// time. A request waits for a leader (retried every tick) until its deadline.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api_error.h"
#include "auto_compactor.h"
#include "etcdlab/log/log_storage.h"
#include "etcdlab/mvcc/store.h"
#include "etcdlab/raft/raft.h"
#include "membership.h"
#include "etcdlab/node/ready_loop.h"
#include "node_view.h"
#include "requests.h"
#include "state_machine.h"

namespace etcdlab::server {

struct NodeOptions {
  RaftConfig raft;                   // raft.storage is the node's Raft log storage
  // The MVCC store the node opens (its path ":memory:" in the simulator and tests); the lease
  // table lives in its database. A file store is copied beside the node for snapshots
  // (StateCopy); an in-memory one is copied at once.
  mvcc::StoreOptions store;
  std::string name;                  // published with client_urls once a leader is known
  std::vector<std::string> client_urls;  //   (etcd's publish); an empty name never publishes
  std::vector<Member> initial_members;
  std::string cluster_token = "etcd-cluster";  // salts the ids of members added later
  uint64_t snapshot_count = 100000;  // entries applied between snapshots (0: never)
  // Members take their snapshots at different indexes: a voter snapshots when its applied
  // index passes its own phase, k x snapshot_count + rank x snapshot_count / voters (rank: its
  // place among the voters by id). A snapshot pauses a member's node thread for some
  // milliseconds (fsyncs); a write needs the leader and a follower, so three members pausing at
  // once stall every client, one at a time only its own. Off (the simulator's): every
  // snapshot_count entries from the last snapshot.
  bool spread_snapshots = false;
  uint64_t request_epoch = 0;        // makes request ids unique across restarts (a boot time)
  int tick_ms = 100;                 // how long one tick is: the node's only clock
  int request_timeout_ms = 0;        // 0: etcd's, 5 s plus two election timeouts
  uint64_t quota_bytes = 0;          // a put past it raises NOSPACE (0: no quota)
  AutoCompaction auto_compaction;
  // A simple auth token lives this long from its last use (etcd's --auth-token-ttl, 300 s).
  int64_t auth_token_ttl_ms = 300000;
  size_t max_txn_ops = 128;           // etcd's --max-txn-ops: the longest list of a txn
  // Watches: an idle synced watcher that asked for progress notifications gets one this often
  // (etcd's --experimental-watch-progress-notify-interval, 10 minutes); the hub's other limits
  // (etcd's: 128 responses per stream...) are watch::WatchConfig's.
  int64_t watch_progress_notify_ms = 600000;
  watch::WatchConfig watch;  // its progress_interval_ticks is set from the line above
  // Keep the live view's log of recent client requests (recent_requests(); the server's
  // --enable-view). Off, no request is described or remembered: that costs a format and an
  // allocation per request, on the path every put takes.
  bool view_requests = false;
};

// A message between members that is not Raft's: a follower asks the leader, whose clock the
// leases run on, to renew a lease or to say how long it has left; the leader answers. The
// driver carries it (the server's peer transport, the simulator's network) as
// encode_node_message() bytes; a lost one is resent when the leader changes, and a request
// still unanswered at its deadline fails like any other.
struct NodeMessage {
  enum class Kind : uint64_t { kKeepAlive = 1, kKeepAliveAnswer, kTimeToLive, kTimeToLiveAnswer };
  Kind kind = Kind::kKeepAlive;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  uint64_t request = 0;     // the asking member's request id, echoed in the answer
  int64_t lease = 0;
  bool with_keys = false;   // kTimeToLive: the answer lists the lease's keys
  bool not_leader = false;  // an answer: the member asked is not the leader (ask again)
  int64_t ttl = 0;          // an answer: as LeaseKeepAliveResult / LeaseTimeToLiveResult
  int64_t granted_ttl = 0;
  std::vector<std::string> keys;
};
std::string encode_node_message(const NodeMessage& m);
NodeMessage decode_node_message(std::string_view data);  // throws DecodeError

struct Completion {
  enum class Kind { kWrite, kReadReady };
  Kind kind = Kind::kWrite;
  uint64_t id = 0;
  Result result;                 // kWrite without error
  std::optional<ApiError> error;  // the request failed (result is empty)
  bool proposed = false;         // it reached the log: it may still apply (after a timeout)
};

// A copy of the node's state taken on the node thread and made later, once, on any thread:
// the driver copies big ones beside the node. The store's part is read through a read-only
// connection to its database file pinned at the moment of the copy (the SQLite wrapper's
// begin_read), so the node applies on meanwhile; an in-memory store is copied at once. The
// copy does its file I/O in prepare() (a temporary copy of the database next to it, removed
// with the copy; the pin is released there), never when taken. One thread at a time.
class StateCopy {
 public:
  virtual ~StateCopy() = default;
  virtual void prepare() = 0;
  // After prepare(): its bytes, as a file's (fewer than `length` at the end).
  virtual uint64_t size() const = 0;
  virtual std::string read(uint64_t offset, uint64_t length) const = 0;
  // prepare(), then every byte to `out` in chunks.
  void write(const std::function<void(std::string_view chunk)>& out);
};

// What a request served without the log needs (KvNode::authorize): checked on this member's
// applied auth state.
enum class Access {
  kRange,        // READ on the keys (range, serializable or after read_index) - etcdserver: texts
  kAdmin,        // root: member add/remove/update/promote - etcdserver: texts
  kMaintenance,  // root: defragment, hash, hashkv, snapshot - Unknown (2) + "auth: ..." texts
  kAlarm,        // no permission; a bad token is Unknown (2) "auth: invalid auth token"
  kTokenOnly,    // no permission; a bad token is "invalid auth token" (16): compaction, lease grant
};

// The first step of an authentication (bcrypt runs in the rpc layer, on a worker thread).
struct AuthLookup {
  bool enabled = false;
  std::optional<std::string> hash;  // nullopt: no such user (the rpc verifies a dummy hash)
  uint64_t revision = 0;            // the auth revision the answer is from
  int64_t delay_ms = 0;             // the throttle: wait this long before verifying
  // With no hash: the bcrypt cost most stored hashes have (0: none stored), so the rpc's
  // dummy verify for an unknown name costs what a real user's verify costs even when the
  // hashes were made at another --bcrypt-cost than this member's.
  int dummy_cost = 0;
};

class KvNode final : public DrivenNode {
 public:
  explicit KvNode(const NodeOptions& options);  // opens options.store
  ~KvNode() override;

  NodeId id() const;
  const NodeOptions& options() const;

  // ---- inputs
  void tick();
  void step(const Message& m);
  void transfer_leader(NodeId to);
  void report_unreachable(NodeId peer);
  void report_snapshot(NodeId peer, bool ok);
  // A peer refused this member as removed from the cluster (its transport said so).
  void removed_by_peer(NodeId by);

  // ---- client requests (see the top of this file)
  uint64_t submit(Request request);  // a write through the log (put, delete, compaction...)
  uint64_t read_index();             // ready once this member may serve a linearizable read
  // etcd's Txn (lab 5: etcdlab/txn/txn.h). Validated at once: a refused txn never reaches the
  // log (TxnError as InvalidArgument, the store's errors in the result). A txn that can only
  // read needs no log entry: a serializable one is answered at once from this member's store,
  // a linearizable one after a ReadIndex round; any other goes through the log as submit()'s
  // writes do (the quota too). The result is a txn::TxnResult.
  uint64_t txn(TxnRequest request);
  // A membership change, on the leader (others answer "no leader": the gateway forwards such
  // requests to the leader first). Refused at once when etcd's rules say no (membership.h).
  uint64_t change_member(const MemberChange& change);
  // etcd's Alarm: kNone lists the alarms; deactivating one that is not raised answers at once
  // with no alarm; anything else goes through the log. The result is an AlarmResult.
  uint64_t change_alarm(bool activate, const Alarm& alarm);
  // etcd's MoveLeader: on the leader, hands leadership to voter `to` and completes once this
  // member sees `to` lead (at once if it leads already). Refused at once on a follower ("not
  // leader") and for a learner or an unknown member ("bad leader transferee"); past the
  // request deadline, "leader transfer took too long".
  uint64_t move_leader(NodeId to);
  // ---- leases (the lessor: etcdlab/lease/lessor.h). Grant and revoke go through submit()
  // (a LeaseGrantRequest with id 0 gets a positive id here). Keep-alives and time-to-live
  // questions run on the leader's clock: the leader answers them at once, a follower asks the
  // leader (take_messages / receive), a member that knows no leader waits for one. A
  // keep-alive of an unknown or expired lease answers TTL 0; a time-to-live, TTL -1.
  uint64_t keep_alive(int64_t lease);
  uint64_t time_to_live(int64_t lease, bool with_keys);
  std::vector<int64_t> leases() const;  // this member's (replicated) leases, ascending
  std::vector<NodeMessage> take_messages();  // to other members; the driver delivers them
  void receive(const NodeMessage& m);        // from another member

  // ---- watches (lab 4's WatchHub: etcdlab/watch/watch_hub.h). Served by every member from
  // its own applied store, as etcd's: not linearizable, but ordered, unique, atomic, reliable
  // and resumable. A stream is one client connection; the driver opens it, passes its
  // requests, takes its responses when take_watch_ready() names it, and closes it when the
  // client goes. tick() catches up watchers that are behind, a bounded batch at a time, and
  // sends progress notifications.
  watch::StreamId open_watch_stream();
  void close_watch_stream(watch::StreamId stream);
  watch::WatchId watch(watch::StreamId stream, const watch::WatchRequest& request);
  bool cancel_watch(watch::StreamId stream, watch::WatchId id);
  void request_watch_progress(watch::StreamId stream);
  std::vector<watch::WatchResponse> take_watch_responses(watch::StreamId stream, size_t max);
  std::vector<watch::StreamId> take_watch_ready();
  const watch::WatchHub& watches() const;

  // ---- auth (etcd 3.4's model: auth/auth_store.h; the checks of each request: kv_node_auth.cc)
  // Credentials are resolved when a request arrives, on this member's applied auth state:
  // a token while auth is off, or an unknown or expired token, is "invalid auth token" (16);
  // with auth on a token names its user, else a TLS certificate's CN (gRPC door), else no one.
  // Writes and txns that go through the log are stamped with {user, auth revision} and
  // decided at apply on every member: no user is "user name is empty", a stamp older than the
  // auth revision "revision of auth store is old", a key outside the user's permissions
  // "permission denied" (as etcd 3.4 decides them at apply; a lease revoke of a lease with no
  // key needs no one). Auth admin requests (User*/Role*/AuthEnable/AuthDisable) go through
  // this submit too and need root at apply while auth is on. AuthenticateRequest is submitted
  // with empty Credentials (the rpc checked the password).
  using Access = server::Access;
  using AuthLookup = server::AuthLookup;
  uint64_t submit(Request request, const Credentials& who);
  uint64_t txn(TxnRequest request, const Credentials& who);  // read-only txns checked here (READ)
  // What is served without the log; nullopt = go.
  std::optional<ApiError> authorize(const Credentials& who, Access access,
                                    const mvcc::KeyRange& keys = {});
  // Watch create with credentials: a refusal is a created+canceled response on the stream with
  // watch_id -1 and cancel_reason "rpc error: code = PermissionDenied desc = etcdserver:
  // permission denied" (InvalidArgument / user name is empty, Unauthenticated / invalid auth
  // token), as etcd 3.4 sends it. Returns the id, or -1 when refused.
  watch::WatchId watch(watch::StreamId stream, const watch::WatchRequest& request,
                       const Credentials& who);
  // Authentication in three steps: auth_lookup; the rpc verifies the password (after waiting
  // delay_ms), having first called auth_failed (the throttle counts every attempt as a failure
  // when it starts: runs at once see each other); a right one: submit
  // AuthenticateRequest{name, prefix, lookup.revision} with empty Credentials, whose result is
  // an AuthResult with the token "<prefix>.<raft index>" (every member registers it).
  AuthLookup auth_lookup(const std::string& name);
  void auth_failed(const std::string& name);
  // Auth reads, from this member's applied auth state; throw ApiError with etcd's texts. Root
  // only while auth is on, except user_get of oneself and role_get of one's own role.
  auth::User user_get(const Credentials& who, const std::string& name);  // hash left empty
  std::vector<std::string> user_list(const Credentials& who);            // sorted
  auth::Role role_get(const Credentials& who, const std::string& name);
  std::vector<std::string> role_list(const Credentials& who);            // sorted
  bool auth_enabled() const;
  const auth::AuthStore& auth() const;

  // The driver gave up on a request (its client went away): no completion will come for it.
  void forget(uint64_t id);
  std::vector<Completion> take_completions();
  size_t pending_requests() const;  // submitted and not yet completed

  // ---- the Ready cycle (DrivenNode; the driver runs ready_loop.h's ReadyLoop)
  bool has_ready() const override;
  Ready ready() override;
  void apply(const Ready& rd) override;
  void advance(const Ready& rd) override;

  // A physical compaction removes old revisions a bounded step at a time: apply() takes one
  // step, and while compaction_pending() the driver calls compaction_step() between other
  // work (a physical compaction is answered when the last step is done).
  bool compaction_pending() const;
  void compaction_step();
  // Whether request `id` is a physical compaction that applied and waits for its purge: it has
  // no deadline then (etcd answers a physical compaction only once purged, however long that
  // takes), so a driver waiting for it waits on.
  bool waits_for_purge(uint64_t id) const;

  // Whether enough entries were applied since the last snapshot; if so the driver calls
  // write_snapshot() into LogStorage::begin_snapshot(snapshot_meta()), then snapshot_done().
  bool wants_snapshot() const;
  SnapshotMeta snapshot_meta() const;
  void write_snapshot(SnapshotWriter& out);
  void snapshot_done();
  // The server's snapshot, taken now and written later beside the node (into
  // LogStorage::begin_snapshot(meta)). For a file store it is the node's header alone: the
  // store is made durable now and is the snapshot's data (state_machine.h), so nothing that
  // grows with the data is copied (etcd's snapshots are the same). An in-memory store
  // cannot be durable: its copy goes in whole. wants_snapshot() is false until
  // snapshot_done(index) or snapshot_abandoned() (the write failed; the node asks again
  // later), and while a StateCopy pins a reader (making the store durable waits for none).
  std::unique_ptr<StateCopy> begin_snapshot(SnapshotMeta& meta);
  void snapshot_done(uint64_t index);
  void snapshot_abandoned();
  // What a member that needs the Raft log's snapshot `meta` is sent (Raft's kSnapshot
  // message names it): its header, then the store as it is now, at or past meta's index (the
  // receiver's store skips the entries it holds, as after a restart). Taken now, written
  // later beside the node. Throws std::runtime_error when it cannot be taken now (the
  // storage's snapshot is another one, the store is held or behind): the driver reports the
  // snapshot failed and Raft tries again.
  std::unique_ptr<StateCopy> snapshot_to_send(const SnapshotMeta& meta);
  // The store's database alone, taken now (etcd's maintenance snapshot).
  std::unique_ptr<StateCopy> copy_store();
  bool copying() const;  // some StateCopy still pins a reader of the store (not prepared yet)

  // ---- defragmenting the store (etcd's Defragment), beside the node
  // Rewriting a database costs time in proportion to its size: seconds for hundreds of MB,
  // longer than an election timeout. For a file store it runs beside the node, through a
  // connection of its own (StoreJob::run, on any thread), while the node writes nothing to
  // the store. Raft goes on meanwhile (ticks, heartbeats, votes, appends, commits; a
  // configuration change committed meanwhile takes effect in Raft at once, since elections and
  // quorums depend on it), reads are served from the store as it was, and what Raft commits
  // waits in a backlog: writes, the member list's side of configuration changes, a leader's
  // snapshot, compaction steps, and the answers to them. end_defragment() lets writes go
  // again; the backlog is then applied a bounded step at a time (backlog_step(), between other
  // work, as compaction steps are). No snapshot is taken while the store is held or behind.
  // An in-memory store is defragmented at once: begin_defragment() returns nullptr.
  class StoreJob {
   public:
    virtual ~StoreJob() = default;
    virtual void run() = 0;  // throws (the store is then as it was); end_defragment() still
  };
  std::unique_ptr<StoreJob> begin_defragment();
  void end_defragment();
  bool holding_writes() const;   // a defragmentation is running
  bool backlog_pending() const;  // committed entries wait to be applied (writes may go)
  void backlog_step();
  // A leader's snapshot waits in the backlog or is held back: the store is replaced later
  // (the driver lets copies being read from it finish first), not by the next apply().
  bool restore_deferred() const;

  // Why this member must stop (it was removed from the cluster), once it must.
  std::optional<std::string> stop_reason() const;
  // Whether the member list changed since the last call (the driver re-reads its peers).
  bool take_membership_changed();

  // ---- local state (serializable reads, status)
  const mvcc::KvStore& store() const;
  mvcc::KvStore& store();
  const KvStateMachine& state_machine() const;
  RaftStatus status() const;
  NodeId leader() const;
  Role role() const;
  uint64_t term() const;  // as of the last Ready
  uint64_t applied_index() const;
  uint64_t db_size() const;  // the store's size after the last applied batch (the quota's measure)
  std::vector<Member> members() const;
  std::vector<Alarm> alarms() const;
  std::set<NodeId> removed() const;  // members removed from the cluster
  bool healthy() const;  // a leader is known and no alarm is raised (etcd's /health)

  // ---- the live view (node_view.h; the server's --enable-view): this member's Raft state and
  // log tail now, and the last client requests it completed (oldest first, at most
  // kViewRecentRequests), timed on the node's clock. Never a key or a value.
  NodeView view_state() const;
  std::vector<RequestRecord> recent_requests() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdlab::server
