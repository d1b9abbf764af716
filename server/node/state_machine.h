#pragma once
// What every member does with committed entries: the MVCC store (lab 3), the lessor (lab 4),
// the member list and the alarms, fed the same entries in the same order by every driver, so
// every member computes the same state and the same results.
//
// Leases. The lessor's leases live in a table of the store's own database (SqliteLeaseTable,
// attached when open() opens the store), written in the same transaction as each batch; a
// put attaches its key to its lease, a delete detaches it (from the write's events), a revoke
// deletes the lease's keys in one write. A put naming an unknown lease changes nothing and
// fails with "requested lease not found".
//
// Watches. Every write's events — a put's, a delete's, a revoke's — go to the watch hub
// (lab 4's WatchHub) once the write is in the store, in revision order, on every member: each
// member serves the watches of its own clients from its own applied store (etcd's watches are
// not linearizable). A restored snapshot makes every watcher catch up from the new store's
// history. The hub's streams and watchers live in memory only: a restart ends them, as a
// restart of etcd closes its watch streams.
//
// Snapshot format (a node snapshot, what InstallSnapshot carries and the Raft log's snapshot
// file holds):
//
//   fixed64  header length H
//   H bytes  header (etcdlab/codec.h): u64 version (3), u64 member count, then per member:
//            u64 id, bytes name, u64 n + n x bytes peer url, u64 m + m x bytes client url,
//            bool learner; then u64 alarm count, per alarm: u64 member, u64 type; then u64
//            count of removed member ids, each u64 (a removed id is never a member again);
//            then (version 3) u64 count of recent request ids, each u64, oldest first
//   rest     the store's own snapshot (KvStore::snapshot: its SQLite database), to the end
//
// A member whose store is a file keeps no copy of it in its own snapshots: there the rest is
// empty, and the store's database, made durable before the snapshot lets the Raft log go, is
// the snapshot's data (as etcd's backend is; KvNode::begin_snapshot). Its consistent index is
// then at or past the snapshot's index. A member that needs the data from the leader gets
// the header of the leader's snapshot followed by its store as it is when sent
// (KvNode::snapshot_to_send): a store ahead of the header, whose entries the receiver skips
// as after a restart.
//
// Version 2 (no recent request ids) is still read: its window starts empty.
//
// The store's consistent index is inside its snapshot; the Raft index and term are in the
// snapshot's metadata, not here.
//
// The member list and the alarms live in memory, rebuilt on restart from the snapshot header
// and the log after it (every member re-applies those entries; the store skips what it holds).
//
// Applied at most once. A request reaches the log once per proposal, but the network may
// deliver a follower's forwarded proposal twice (the simulator's does; TCP between members
// does not, but nothing here relies on it). The ids of the last kRecentRequests requests
// applied are remembered, and a request whose id is among them is skipped: it has no effect
// and no result. The window is part of the replicated state (in the snapshot header, rebuilt
// from the log after it), so every member skips the same entries.
//
// Auth (auth/auth_store.h). The users, roles, permissions, the enabled flag and the auth
// revision live in tables of the store's database too (auth/auth_table.h: SqliteAuthTable,
// attached with the lease table through a sqlite::CompanionSet), so they commit with each
// batch, come back on restart and travel inside every node snapshot (no header change). An
// entry's stamp (requests.h: the proposer's {user, auth revision}) is checked at apply, on
// every member, against the auth state at that entry (state_machine_auth.cc): a write the
// user may not make is refused with "permission denied" and changes nothing; an auth admin
// request needs root while auth is on. Tokens are not replicated state: the node keeps them.
//
// A configuration change's context (ConfChange::context) is: u64 request id (0: none, as in
// a new cluster's first entries), then the member as in the header.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "auth/auth_store.h"
#include "auth/auth_table.h"
#include "etcdlab/lease/lessor.h"
#include "etcdlab/mvcc/store.h"
#include "etcdlab/types.h"
#include "etcdlab/watch/watch_hub.h"
#include "requests.h"

namespace etcdlab::server {

// One applied request: its id (the proposer's), what it asked and what it produced.
struct AppliedRequest {
  uint64_t id = 0;
  Request request;
  Result result;
  std::optional<auth::AuthStamp> stamp;  // who proposed it (absent: auth was off, or the node)
};

// How many recently applied request ids every member remembers to skip duplicates.
inline constexpr size_t kRecentRequests = 10000;

class KvStateMachine {
 public:
  // Opens the store at `store` with the lease table in its database, and the lessor over both.
  static std::unique_ptr<KvStateMachine> open(const mvcc::StoreOptions& store,
                                              const std::vector<Member>& members,
                                              const lease::LessorConfig& leases = {},
                                              const watch::WatchConfig& watches = {});
  // Over a store already open (tests): its leases are kept in memory, and do not come back
  // with a restore.
  // Its auth state likewise, unless `auth` is given.
  KvStateMachine(std::unique_ptr<mvcc::KvStore> store, const std::vector<Member>& members,
                 std::shared_ptr<lease::LeaseTable> leases = nullptr,
                 const lease::LessorConfig& lessor = {}, const watch::WatchConfig& watches = {},
                 std::shared_ptr<auth::AuthTable> auth = nullptr);
  ~KvStateMachine();

  // Applies one request to the store and the lessor at once, outside any batch and without
  // the log (what every member does with it; the gateway's tests use it directly).
  // With a stamp, the write is checked as at apply (state_machine_auth.cc); `index` names an
  // Authenticate's token ("<prefix>.<index>").
  Result apply_request(const Request& request);
  Result apply_request(const Request& request, const std::optional<auth::AuthStamp>& stamp,
                       uint64_t index = 0);

  // Applies committed entries as one store batch and returns the requests they held (not the
  // duplicates it skipped). Entries the store already holds (index <= consistent_index(),
  // re-delivered after a restart) are skipped, except for what lives in memory: configuration
  // changes update the member list and are handed to `on_conf_change` (Raft needs them
  // again), members' published attributes update the member list, alarms the alarm list, and
  // every request id the window of recent ones.
  // `on_conf_change` gets the change and the request id of its context (0: none).
  std::vector<AppliedRequest> apply(
      const std::vector<Entry>& entries,
      const std::function<void(const ConfChange&, uint64_t request_id)>& on_conf_change);

  // A physical compaction runs in steps between apply batches (so a huge compaction never
  // stalls the node): true once the last compaction's work is done.
  bool compaction_pending() const { return compacting_; }
  bool compaction_step();

  // The node snapshot (format above). Makes the store durable first: the snapshot lets the
  // Raft log be released below it.
  void write_snapshot(const std::function<void(std::string_view)>& out);
  // The node snapshot's first part: the fixed64 header length and the header, as of now (the
  // store's snapshot follows it).
  std::string snapshot_header() const;
  // A node snapshot's first part, read back from a whole snapshot: its header length and
  // header, as written (checked: a DecodeError names what is wrong). What follows it in a
  // snapshot of `size` bytes is the store's part, if size is larger.
  static std::string snapshot_header_of(
      const std::function<std::string(uint64_t offset, uint64_t length)>& read);
  // Replaces the state with a node snapshot of `size` bytes; `read(offset, length)` returns
  // its bytes. A DecodeError if it holds no store (a header alone, as a file store's own
  // snapshots are: see the top of this file).
  void restore(const std::function<std::string(uint64_t offset, uint64_t length)>& read,
               uint64_t size);
  // Only the member list and the alarms from a node snapshot: a restart over a store that is
  // already past the snapshot still needs what the snapshot folded in.
  void restore_members(const std::function<std::string(uint64_t offset, uint64_t length)>& read);

  uint64_t consistent_index() const { return store_->consistent_index(); }
  std::vector<Member> members() const;
  std::vector<Alarm> alarms() const { return {alarms_.begin(), alarms_.end()}; }
  const std::set<NodeId>& removed() const { return removed_; }
  bool has_alarm(AlarmType type) const;
  // Puts and deletes this member has applied since it started (etcd_mvcc_put_total, ...).
  uint64_t puts_applied() const { return puts_applied_; }
  uint64_t deletes_applied() const { return deletes_applied_; }
  // Requests skipped because the window had their id (a duplicated proposal).
  uint64_t duplicates_skipped() const { return duplicates_skipped_; }
  const mvcc::KvStore& store() const { return *store_; }
  mvcc::KvStore& store() { return *store_; }
  const lease::Lessor& lessor() const { return *lessor_; }
  lease::Lessor& lessor() { return *lessor_; }
  const auth::AuthStore& auth() const { return *auth_; }
  // Whether `stamp` may make `request` (a put, delete, txn or lease revoke; others need nothing)
  // on the auth state as it is now: nullopt, or the refusal (state_machine_auth.cc).
  std::optional<ApiError> check_write(const Request& request,
                                      const std::optional<auth::AuthStamp>& stamp) const;
  const watch::WatchHub& watches() const { return watches_; }
  watch::WatchHub& watches() { return watches_; }

  struct SnapshotHeader;  // what a node snapshot's header holds (state_machine.cc)

 private:
  uint64_t apply_conf_change(const ConfChange& cc);  // returns the context's request id
  std::optional<AppliedRequest> apply_normal(const Entry& e);  // nullopt: a duplicate
  void adopt(SnapshotHeader&& header);
  void reapply_membership(const Entry& e);
  bool apply_node_state(const Request& request);  // attributes and alarms: true if it was one
  bool first_time(uint64_t request_id);  // notes the id in the window; false if already there
  // A write is in the store: its keys attach to / detach from leases, and watchers hear of it.
  void written(int64_t revision, const std::vector<mvcc::Event>& events);
  // Ends a put's or a delete's write. The events carry prev_kv only while someone watches: a
  // watcher asking for prev_kv may be among them, and without watchers no one reads it, so
  // the read per event (the largest single cost of a put) is skipped.
  std::vector<mvcc::Event> end_write(mvcc::Write& w) const;
  static bool adds_data(const Request& request);  // refused under a NOSPACE alarm
  void count_writes(const txn::TxnResult& t);
  // state_machine_auth.cc: an auth request (admin checks, then the change), and the permission
  // check of a write (nullopt: it may go).
  Result apply_auth(const Request& request, const std::optional<auth::AuthStamp>& stamp,
                    uint64_t index);

  std::unique_ptr<mvcc::KvStore> store_;
  std::shared_ptr<lease::LeaseTable> lease_table_;
  lease::LessorConfig lessor_config_;
  std::unique_ptr<lease::Lessor> lessor_;
  std::shared_ptr<auth::AuthTable> auth_table_;
  std::unique_ptr<auth::AuthStore> auth_;
  watch::WatchHub watches_;
  uint64_t puts_applied_ = 0;
  uint64_t deletes_applied_ = 0;
  std::map<NodeId, Member> members_;
  std::set<Alarm> alarms_;
  std::set<NodeId> removed_;
  std::deque<uint64_t> recent_;  // the window of recent request ids, oldest first
  std::unordered_set<uint64_t> recent_set_;
  uint64_t duplicates_skipped_ = 0;
  bool compacting_;
};

// A membership change's context (the format above), and back (throws DecodeError).
std::string encode_member_context(const Member& m, uint64_t request_id = 0);
std::pair<uint64_t, Member> decode_member_context(std::string_view context);

}  // namespace etcdlab::server
