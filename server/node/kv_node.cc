// KvNode: construction, the Ready cycle, the apply of committed entries and snapshots.
#include "kv_node.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sqlite3.h>

#include <algorithm>

#include "etcdlab/errors.h"
#include "etcdlab/log/snapshot_file.h"
#include "etcdlab/sqlite/database.h"
#include "kv_node_impl.h"
#include "txn_rules.h"

namespace etcdlab::server {
namespace {

constexpr std::string_view kReadPrefix = "read:";

}  // namespace

namespace {

// etcd's lease settings for this node's clock: the minimum TTL is 1.5 election timeouts, at
// most 1000 revokes a second, an expired lease not revoked within 3 s is tried again.
lease::LessorConfig lessor_config(const NodeOptions& o) {
  lease::LessorConfig c;
  c.tick_ms = std::max(1, o.tick_ms);
  int64_t election_ms = static_cast<int64_t>(o.raft.election_ticks) * c.tick_ms;
  c.min_ttl_seconds = (3 * election_ms + 1999) / 2000;  // ceil(1.5 x election timeout)
  c.max_revokes_per_tick = static_cast<size_t>(std::max(1, c.tick_ms));
  c.expired_retry_ticks = std::max(1, 3000 / c.tick_ms);
  return c;
}

watch::WatchConfig watch_config(const NodeOptions& o) {
  watch::WatchConfig c = o.watch;
  c.progress_interval_ticks = o.watch_progress_notify_ms <= 0
                                  ? 0
                                  : std::max<int64_t>(1, o.watch_progress_notify_ms /
                                                             std::max(1, o.tick_ms));
  return c;
}

}  // namespace

KvNode::Impl::Impl(const NodeOptions& o)
    : options(o), storage(o.raft.storage),
      state(KvStateMachine::open(o.store, o.initial_members, lessor_config(o), watch_config(o))),
      sm(*state),
      compactor(o.auto_compaction),
      tokens(std::max<int64_t>(1, o.auth_token_ttl_ms / std::max(1, o.tick_ms))),
      throttle(o.tick_ms) {
  restore_store_if_behind();
  RaftConfig rc = o.raft;
  rc.applied = 0;  // committed entries come again from the snapshot on; the store skips what
                   // it already holds (its consistent index), conf changes are re-applied
  raft = std::make_unique<Raft>(rc);
  applied = storage->snapshot().index;
  applied_term = storage->snapshot().term;
  last_snapshot = applied;
  term = raft->status().hard_state.term;
  db_bytes = sm.store().db_size();
  int timeout_ms = o.request_timeout_ms > 0
                       ? o.request_timeout_ms
                       : 5000 + 2 * o.raft.election_ticks * std::max(1, o.tick_ms);
  timeout_ticks = std::max<int64_t>(1, timeout_ms / std::max(1, o.tick_ms));
  // Ids unique across restarts: the epoch (a boot time) and the member pick the high bits.
  next_id = ((o.raft.id * 0x9E3779B97F4A7C15ULL) ^ (o.request_epoch * 0xC2B2AE3D27D4EB4FULL)) &
            0xFFFFFF0000000000ULL;
  note_membership();  // a restarted member is in its own restored configuration: note it
}

// A store that is older than the Raft log's snapshot (a new member, or the simulator's
// in-memory store after a crash) is rebuilt from the snapshot; the log after it is re-applied.
void KvNode::Impl::restore_store_if_behind() {
  SnapshotMeta snap = storage->snapshot();
  if (snap.empty()) return;
  auto reader = storage->open_snapshot();
  if (!reader) return;
  if (sm.consistent_index() >= snap.index) {
    // The store is ahead; the member list (in memory) still comes from the snapshot.
    sm.restore_members([&](uint64_t offset, uint64_t length) {
      return reader->read(offset, length);
    });
    return;
  }
  std::string header = KvStateMachine::snapshot_header_of(
      [&](uint64_t offset, uint64_t length) { return reader->read(offset, length); });
  if (reader->size() <= header.size()) {
    // This member's own snapshot: the store was its data, and the store is not there.
    throw StorageError(fmt::format(
        "the store {} is at index {}, behind this member's Raft snapshot at index {}, and "
        "that snapshot holds no copy of it (the store, made durable first, is the snapshot's "
        "data): the database was replaced or lost. Restore the member from a backup "
        "(etcdlabctl snapshot restore) or remove it and add it again as a new member",
        options.store.path, sm.consistent_index(), snap.index));
  }
  restore_from(*reader);
  spdlog::info("node {:x}: store rebuilt from snapshot {} (its consistent index was behind)",
               options.raft.id, snap.index);
}

namespace {

// A snapshot in the Raft storage that cannot be restored: it was checked when it arrived
// (snapshot_check.h), so the disk damaged it since, or the check missed something. The store
// may be half replaced, so the member stops; the message says which file and what to do.
CorruptionError snapshot_damaged(const SnapshotMeta& meta, uint64_t offset,
                                 const std::string& what) {
  return CorruptionError(
      "snap/" + snapshot_file_name(meta) + " (in the Raft log's directory)", offset,
      fmt::format("snapshot {} (term {}) cannot be restored: {}. The store may be half "
                  "replaced, so this member stops. Remove the member (member remove), delete "
                  "its data directory and add it again (member add) to be sent a new snapshot, "
                  "or restore it from a backup (etcdlabctl snapshot restore)",
                  meta.index, meta.term, what));
}

}  // namespace

void KvNode::Impl::restore_from(const SnapshotReader& reader) {
  try {
    sm.restore([&](uint64_t offset, uint64_t length) { return reader.read(offset, length); },
               reader.size());
  } catch (const DecodeError& e) {
    throw snapshot_damaged(reader.meta(), e.offset(), e.what());
  } catch (const sqlite::SchemaError& e) {
    throw snapshot_damaged(reader.meta(), 0, e.what());
  } catch (const sqlite::SqliteError& e) {
    // What the bytes are (not a database, damaged, without the store's tables); a disk that
    // fails or fills up stays the storage failure it is.
    int primary = e.code() & 0xff;
    if (primary != SQLITE_CORRUPT && primary != SQLITE_NOTADB && primary != SQLITE_ERROR &&
        primary != SQLITE_MISMATCH && primary != SQLITE_CONSTRAINT) {
      throw;
    }
    throw snapshot_damaged(reader.meta(), 0, e.what());
  }
  // The entries the snapshot folds in never apply here: a password change, a deleted user or
  // an auth disable among them would not drop the tokens they kill. So every token goes (its
  // clients authenticate again, as after a restart).
  tokens.clear();
}

void KvNode::Impl::note_membership() {
  // A member that applied its own removal stops, as etcd's does. A new member that has not
  // yet received its configuration is not "removed": it was never a member.
  ConfState conf = raft->status().conf;
  NodeId self = options.raft.id;
  bool member = std::count(conf.voters.begin(), conf.voters.end(), self) > 0 ||
                std::count(conf.learners.begin(), conf.learners.end(), self) > 0;
  if (member) {
    was_member = true;
  } else if (was_member && !stop) {
    stop = "the member has been permanently removed from the cluster";
  }
  if (options.spread_snapshots && std::count(conf.voters.begin(), conf.voters.end(), self) > 0) {
    auto rank = static_cast<uint64_t>(std::count_if(conf.voters.begin(), conf.voters.end(),
                                                    [&](NodeId v) { return v < self; }));
    snapshot_phase = rank * options.snapshot_count / conf.voters.size();
  }
}

void KvNode::Impl::on_conf_change(const ConfChange& cc, uint64_t request_id) {
  if (confs_in_raft > 0) {
    --confs_in_raft;  // Raft took it when it was committed, the store held (hold_back)
  } else {
    raft->apply_conf_change(cc);
  }
  membership_changed = true;
  auto it = request_id != 0 ? pending.find(request_id) : pending.end();
  if (it == pending.end() || it->second.what != PendingRequest::What::kMember) return;
  Result result;
  result.value = MembershipResult{it->second.member};
  result.revision = sm.store().revision();
  complete(request_id, std::move(result));
}

void KvNode::Impl::on_applied(AppliedRequest& a) {
  if (std::holds_alternative<AttributesRequest>(a.request)) membership_changed = true;
  if (is_auth_request(a.request)) on_auth_applied(a);
  // Only the member that proposed a request answers it.
  auto it = pending.find(a.id);
  if (it == pending.end() || it->second.what != PendingRequest::What::kWrite) return;
  const auto* compaction = std::get_if<CompactionRequest>(&a.request);
  if (compaction && compaction->physical && a.result.ok()) {
    // Answered once purged, however long that takes, as etcd's physical compaction is (its
    // 1M-revision purge took 33 s in bench/scale.py): the request deadline no longer applies.
    physical_waiting.emplace_back(a.id, std::move(a.result));
    return;
  }
  complete(a.id, std::move(a.result));
}

void KvNode::Impl::read_states(const std::vector<ReadState>& states) {
  for (const ReadState& rs : states) {
    if (!rs.context.starts_with(kReadPrefix)) continue;
    uint64_t round = std::stoull(rs.context.substr(kReadPrefix.size()));
    auto members = rounds.find(round);
    if (members == rounds.end()) continue;
    for (uint64_t id : members->second) {
      auto it = pending.find(id);
      if (it != pending.end() && !it->second.read_index) it->second.read_index = rs.index;
    }
    if (round == open_round) open_round = 0;
    rounds.erase(members);
  }
}

void KvNode::Impl::finish_reads() {
  for (auto it = pending.begin(); it != pending.end();) {
    auto& p = it->second;
    if (p.what == PendingRequest::What::kRead && p.read_index && *p.read_index <= applied) {
      Completion c;
      c.kind = Completion::Kind::kReadReady;
      c.id = it->first;
      c.proposed = true;
      if (p.request) {  // a read-only txn: served now, from the store as of the read index
        const auto& t = std::get<TxnRequest>(*p.request);
        if (auto refused = p.check_reads ? check_reads(t, p.stamp) : std::nullopt) {
          c.error = std::move(refused);  // (its permission, on the auth state as of now)
        } else {
          c.kind = Completion::Kind::kWrite;
          c.result = read_txn(sm.store(), t);
        }
      }
      completions.push_back(std::move(c));
      it = pending.erase(it);
    } else {
      ++it;
    }
  }
}

KvNode::KvNode(const NodeOptions& options) : impl_(std::make_unique<Impl>(options)) {}
KvNode::~KvNode() = default;

NodeId KvNode::id() const { return impl_->options.raft.id; }
const NodeOptions& KvNode::options() const { return impl_->options; }
void KvNode::step(const Message& m) { impl_->raft->step(m); }
void KvNode::transfer_leader(NodeId to) { impl_->raft->transfer_leader(to); }
void KvNode::report_unreachable(NodeId peer) { impl_->raft->report_unreachable(peer); }
void KvNode::report_snapshot(NodeId peer, bool ok) { impl_->raft->report_snapshot(peer, ok); }

void KvNode::removed_by_peer(NodeId by) {
  impl_->removal_confirmed();
  if (impl_->stop) return;
  impl_->stop = fmt::format(
      "member {:x} says the member has been permanently removed from the cluster", by);
}

bool KvNode::has_ready() const { return impl_->raft->has_ready(); }

Ready KvNode::ready() {
  auto& r = *impl_;
  r.open_round = 0;  // its read_index goes out with this Ready: later reads start anew
  Ready rd = r.raft->ready();
  if (rd.soft_state) {
    Role before = r.role;
    if (rd.soft_state->leader != r.lead && rd.soft_state->leader != kNoNode) {
      r.lead_elected = r.ticks;
    }
    r.lead = rd.soft_state->leader;
    r.role = rd.soft_state->role;
    if (r.role != before) r.role_changed(before);
  }
  if (rd.hard_state) r.term = rd.hard_state->term;
  return rd;
}

void KvNode::apply(const Ready& rd) {
  auto& r = *impl_;
  if (r.store_holds > 0 || r.backlogged()) {
    r.hold_back(rd);  // after what waits already, in commit order; the driver drains it
  } else {
    r.apply_committed(rd.snapshot ? &*rd.snapshot : nullptr, rd.committed_entries);
    compaction_step();
  }
  r.read_states(rd.read_states);
  r.finish_reads();
  r.confirmed_keep_alives();
  if (!r.held_for_token.empty()) r.release_held();
}

void KvNode::Impl::apply_committed(const SnapshotMeta* snapshot, const std::vector<Entry>& entries) {
  if (snapshot) {
    // The driver installed the leader's snapshot in the Raft storage: the store becomes it.
    auto reader = storage->open_snapshot();
    if (!reader) throw std::logic_error("snapshot in the Ready but not in the storage");
    restore_from(*reader);
    applied = snapshot->index;
    applied_term = snapshot->term;
    last_snapshot = applied;
    membership_changed = true;
  }
  if (!entries.empty()) {
    auto done = sm.apply(entries, [&](const ConfChange& cc, uint64_t req) {
      on_conf_change(cc, req);
    });
    applied = entries.back().index;
    applied_term = entries.back().term;
    for (auto& a : done) on_applied(a);
    promote_if_caught_up(entries);
  }
  if (snapshot || !entries.empty()) {
    // What the quota check reads: the store's size, measured once per batch, not per put.
    db_bytes = sm.store().db_size();
    note_membership();
  }
}

void KvNode::advance(const Ready& rd) {
  auto& r = *impl_;
  r.raft->advance(rd);
  // A leader may have appeared: what waited for one goes now (ready.h allows proposing after
  // advance()).
  if (r.lead != kNoNode && !r.waiting.empty()) r.retry_waiting();
}

bool KvNode::waits_for_purge(uint64_t id) const { return impl_->waits_for_purge(id); }

bool KvNode::Impl::waits_for_purge(uint64_t id) const {
  return std::any_of(physical_waiting.begin(), physical_waiting.end(),
                     [&](const auto& w) { return w.first == id; });
}

bool KvNode::compaction_pending() const {
  return impl_->store_holds == 0 && impl_->sm.compaction_pending();
}

void KvNode::compaction_step() {
  auto& r = *impl_;
  if (!compaction_pending() || !r.sm.compaction_step()) return;
  // The purge is done: physical compactions are answered now.
  auto waiting = std::move(r.physical_waiting);
  r.physical_waiting.clear();
  for (auto& [id, result] : waiting) r.complete(id, std::move(result));
}

std::vector<Completion> KvNode::take_completions() {
  auto& r = *impl_;
  std::vector<Completion> out;
  out.swap(r.completions);
  if (r.options.view_requests) {
    for (const Completion& c : out) r.request_log.completed(c, r.now_ms(), r.sm.store().revision());
  }
  return out;
}

bool KvNode::wants_snapshot() const {
  const auto& r = *impl_;
  // No copy may be reading the store: making it durable (begin_snapshot) waits for none.
  if (r.options.snapshot_count == 0 || r.snapshotting || r.store_holds > 0 || *r.copies > 0 ||
      r.backlogged() || r.applied <= r.last_snapshot) {
    return false;
  }
  if (!r.options.spread_snapshots) return r.applied - r.last_snapshot >= r.options.snapshot_count;
  // Due once the applied index passed one of this member's phases since the last snapshot.
  auto period = [&](uint64_t index) -> int64_t {
    return index < r.snapshot_phase
               ? -1
               : static_cast<int64_t>((index - r.snapshot_phase) / r.options.snapshot_count);
  };
  return period(r.applied) > period(r.last_snapshot);
}

SnapshotMeta KvNode::snapshot_meta() const {
  return SnapshotMeta{impl_->applied, impl_->applied_term, impl_->raft->status().conf};
}

void KvNode::write_snapshot(SnapshotWriter& out) {
  impl_->sm.write_snapshot([&](std::string_view chunk) { out.write(chunk); });
}

void KvNode::snapshot_done() { impl_->last_snapshot = impl_->applied; }

std::optional<std::string> KvNode::stop_reason() const { return impl_->stop; }

bool KvNode::take_membership_changed() {
  bool changed = impl_->membership_changed;
  impl_->membership_changed = false;
  return changed;
}

const mvcc::KvStore& KvNode::store() const { return impl_->sm.store(); }
mvcc::KvStore& KvNode::store() { return impl_->sm.store(); }
const KvStateMachine& KvNode::state_machine() const { return impl_->sm; }
RaftStatus KvNode::status() const { return impl_->raft->status(); }
NodeId KvNode::leader() const { return impl_->lead; }
Role KvNode::role() const { return impl_->role; }
uint64_t KvNode::term() const { return impl_->term; }
uint64_t KvNode::applied_index() const { return impl_->applied; }
uint64_t KvNode::db_size() const { return impl_->db_bytes; }
std::vector<Member> KvNode::members() const { return impl_->sm.members(); }
std::vector<Alarm> KvNode::alarms() const { return impl_->sm.alarms(); }
std::set<NodeId> KvNode::removed() const { return impl_->sm.removed(); }
bool KvNode::healthy() const { return impl_->lead != kNoNode && impl_->sm.alarms().empty(); }

}  // namespace etcdlab::server
