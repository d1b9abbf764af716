#pragma once
// KvNode's private state. kv_node.cc holds the Ready cycle and the apply; kv_node_requests.cc
// the client requests, their deadlines and the node's own requests (publish, NOSPACE,
// auto-compaction).

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/auth_throttle.h"
#include "auth/token_table.h"
#include "kv_node.h"
#include "request_log.h"

namespace etcdlab::server {

// Who asked for a request: a client (it gets a Completion), the node itself, or another
// member (kPeer: a keep-alive or time-to-live question it forwarded; answered by a message).
enum class Origin { kClient, kPublish, kNoSpace, kAutoCompaction, kLeaseExpiry, kPeer };

struct PendingRequest {
  enum class What { kWrite, kRead, kMember, kKeepAlive, kTimeToLive, kMoveLeader };
  What what = What::kWrite;
  Origin origin = Origin::kClient;
  int64_t deadline = 0;  // the tick at which it times out
  bool proposed = false;  // in the log (a write, a member change) or in a read round (a read)
  // Until proposed: what to propose when a leader can take it.
  std::optional<Request> request;
  // Who asked (the entry's stamp; for a read-only txn, checked once the read is ready).
  std::optional<auth::AuthStamp> stamp;
  bool check_reads = false;  // kRead with a request: check the caller's READ permission
  std::optional<ConfChange> conf_change;
  Member member;                          // kMember: the member the change concerns
  // kMember, a leader's own removal from two voters: proposed only once another member
  // leads (kv_node_requests.cc).
  bool after_leadership = false;
  std::optional<uint64_t> read_index;     // kRead: once its round is confirmed
  // (kRead with a request: a read-only TxnRequest, executed once the read is ready.)
  int64_t lease = 0;                       // kKeepAlive, kTimeToLive
  bool with_keys = false;                  // kTimeToLive
  NodeId asked = kNoNode;                  // kKeepAlive, kTimeToLive: the leader asked
  // kKeepAlive on the leader: the term whose leadership a read round is confirming.
  uint64_t confirming_term = 0;
  NodeId reply_to = kNoNode;               // kPeer: the member that asked, and its request id
  uint64_t reply_request = 0;
  NodeId transferee = kNoNode;             // kMoveLeader: the member that should lead
};

struct KvNode::Impl {
  explicit Impl(const NodeOptions& o);

  // kv_node.cc
  void apply_committed(const SnapshotMeta* snapshot, const std::vector<Entry>& entries);
  void restore_store_if_behind();
  void restore_from(const SnapshotReader& reader);
  void on_conf_change(const ConfChange& cc, uint64_t request_id);
  void on_applied(AppliedRequest& a);
  void note_membership();
  void finish_reads();
  // kv_node_txn.cc
  void complete_now(uint64_t id, Result result);  // answered at once, with a result
  // A txn by `who` (the log's are stamped with it; with `check`, read-only ones are checked).
  uint64_t txn_as(TxnRequest request, std::optional<auth::AuthInfo> who, bool check,
                  uint64_t id = 0);
  void read_states(const std::vector<ReadState>& states);

  // kv_node_requests.cc
  uint64_t new_id() { return ++next_id; }
  // Registers a request (under `id`, or a new one), proposes it if it can; returns its id.
  uint64_t track(PendingRequest p, uint64_t id = 0);
  bool try_propose(uint64_t id, PendingRequest& p);  // false: not now (no leader...)
  void join_read_round(uint64_t id);  // the next read round confirms `id` too
  void retry_waiting();
  void expire();
  void complete(uint64_t id, Result result);
  void fail(uint64_t id, const ApiError& error);
  void finished(uint64_t id, Origin origin, bool ok);  // the node's own requests
  void fail_now(uint64_t id, const ApiError& error);   // a client request refused at once
  void own_requests();  // publish and auto-compaction, from tick()
  void hand_over_leadership();  // to the voter whose log is longest
  void leader_moved();          // completes the move_leader() requests whose member leads

  // kv_node_leases.cc
  void role_changed(Role before);     // promote or demote the lessor
  void expire_leases();               // the leader proposes revokes of expired leases
  Result lease_answer(const PendingRequest& p);  // on the leader
  bool ask_leader(uint64_t id, PendingRequest& p);
  NodeMessage question_to_leader(uint64_t id, const PendingRequest& p) const;
  void answer_question(uint64_t id);  // on the leader: answers and forgets it
  void confirmed_keep_alives();       // keep-alives whose leadership round confirmed
  void promote_if_caught_up(const std::vector<Entry>& applied_entries);

  // kv_node_auth.cc
  // The caller as this member knows it now: nullopt when no one (no token, no certificate);
  // throws ApiError "invalid auth token" for a token while auth is off, or an unknown one.
  std::optional<auth::AuthInfo> resolve(const Credentials& who);
  uint64_t submit_stamped(Request request, std::optional<auth::AuthStamp> stamp, uint64_t id = 0);
  // A request whose token names a Raft index this member has not applied yet (a token just
  // issued through another member): held until that index applies, then resolved again.
  // false: the token names no such index (or too many wait): refuse it now.
  bool hold_for_token(uint64_t id, Request& request, const Credentials& who, bool is_txn);
  void release_held();  // from apply() and tick(): what may resolve now, or has waited too long
  // A read (a read-only txn) by `who` on this member's auth state now: nullopt, or the refusal.
  std::optional<ApiError> check_reads(const TxnRequest& t, const std::optional<auth::AuthInfo>& who);
  void on_auth_applied(const AppliedRequest& a);  // tokens and the throttle, on every member
  void refuse_watch(watch::StreamId stream, const ApiError& error);

  // kv_node_defragment.cc
  void hold_back(const Ready& rd);  // what rd commits waits in the backlog
  bool backlogged() const { return !backlog.empty() || backlog_snapshot.has_value(); }
  void reask_leader();                // forwarded questions whose leader changed
  void removal_confirmed();     // a peer says this member was removed
  int64_t now_ms() const { return ticks * options.tick_ms; }

  // The live view's note of a request, made only when the view keeps them
  // (options.view_requests); then noted() logs it: a client handed request `id` in.
  template <class Describe>
  std::optional<RequestNote> note_if_viewed(Describe&& describe) const {
    if (!options.view_requests) return std::nullopt;
    return describe();
  }
  uint64_t noted(uint64_t id, std::optional<RequestNote> note);  // returns `id`
  uint64_t noted(uint64_t id, const char* kind, const char* text) {
    return noted(id, note_if_viewed([&] { return RequestNote{kind, text}; }));
  }

  NodeOptions options;
  LogStorage* storage;
  std::unique_ptr<KvStateMachine> state;
  KvStateMachine& sm;
  std::unique_ptr<Raft> raft;
  AutoCompactor compactor;
  uint64_t next_id = 0;
  int64_t ticks = 0;
  int64_t timeout_ticks = 1;
  uint64_t applied = 0;
  uint64_t applied_term = 0;
  uint64_t last_snapshot = 0;
  uint64_t snapshot_phase = 0;  // options.spread_snapshots: where this member's snapshots fall
  uint64_t db_bytes = 0;

  // As of the last Ready.
  NodeId lead = kNoNode;
  int64_t lead_elected = 0;  // the tick at which the current leader became known
  Role role = Role::kFollower;
  uint64_t term = 0;

  std::map<uint64_t, PendingRequest> pending;
  std::deque<uint64_t> waiting;  // ids not proposed yet, oldest first
  // Reads share confirmation rounds: every read that arrives before the next ready() joins
  // the round the first of them opened (one raft read_index, one heartbeat round for all). A
  // read that joins late is still served correctly: any write acknowledged before it arrived
  // was in a Ready taken before the round opened (so within the round's index) or after it
  // (which closed the round), and the heartbeat quorum that confirms the round is gathered
  // after it.
  std::map<uint64_t, std::vector<uint64_t>> rounds;  // round (its first read's id) -> reads
  uint64_t open_round = 0;                           // 0: none open
  // Physical compactions that applied, answered once purged; they have no deadline.
  std::vector<std::pair<uint64_t, Result>> physical_waiting;
  bool waits_for_purge(uint64_t id) const;
  std::vector<Completion> completions;

  bool snapshotting = false;  // a begin_snapshot() copy is being written
  // StateCopy objects that still pin a reader of the store (released on another thread).
  std::shared_ptr<std::atomic<int>> copies = std::make_shared<std::atomic<int>>(0);
  uint64_t copy_serial = 0;  // names their temporary files

  // Defragmentation (kv_node_defragment.cc): while store_holds > 0 nothing is written to the
  // store; what Raft commits waits here, oldest first, a leader's snapshot before the entries.
  int store_holds = 0;
  std::deque<Entry> backlog;
  std::optional<SnapshotMeta> backlog_snapshot;
  size_t confs_in_raft = 0;  // conf changes of the backlog that Raft has applied already

  std::vector<NodeMessage> outbox;  // to other members
  RequestLog request_log;           // client requests, for the live view (node_view.h)

  // Auth that is this member's alone (not replicated): its tokens, its throttle of failed
  // authentications, and watch refusals waiting to be taken (the hub has no way to queue a
  // response that concerns no watcher of its own; they are sent after the hub's).
  auth::TokenTable tokens;
  auth::AuthThrottle throttle;
  std::map<watch::StreamId, std::deque<watch::WatchResponse>> watch_refusals;
  uint64_t watch_refusals_dropped = 0;  // past a stream's capacity (refuse_watch)
  // The cost of most stored hashes, for the dummy verify of unknown names (kv_node_auth.cc),
  // as of auth revision bcrypt_cost_revision (0: not worked out yet).
  int common_bcrypt_cost();
  int bcrypt_cost = 0;
  uint64_t bcrypt_cost_revision = 0;
  struct HeldForToken {
    Request request;
    Credentials who;
    bool is_txn = false;
    uint64_t index = 0;     // the token's Raft index
    int64_t deadline = 0;   // a tick
  };
  std::map<uint64_t, HeldForToken> held_for_token;  // by request id

  bool published = false;
  uint64_t publishing = 0;  // the publish request in flight (0: none)
  uint64_t raising_nospace = 0;
  uint64_t compacting = 0;  // the auto-compaction in flight
  bool was_member = false;
  std::optional<std::string> stop;
  bool membership_changed = true;
};

}  // namespace etcdlab::server
