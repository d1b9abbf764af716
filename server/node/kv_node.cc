#include "kv_node.h"

#include <algorithm>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "etcdlab/errors.h"

namespace etcdlab::server {
namespace {

constexpr std::string_view kReadPrefix = "read:";

}  // namespace

struct KvNode::Impl {
  Impl(const NodeOptions& o, std::unique_ptr<mvcc::KvStore> s)
      : options(o), storage(o.raft.storage), sm(std::move(s), o.initial_members) {
    restore_store_if_behind();
    RaftConfig rc = o.raft;
    rc.applied = 0;  // committed entries come again from the snapshot on; the store skips what
                     // it already holds (its consistent index), conf changes are re-applied
    raft = std::make_unique<Raft>(rc);
    applied = storage->snapshot().index;
    last_snapshot = applied;
    // Ids unique across restarts: the epoch (a boot time) and the member pick the high bits.
    next_id = ((o.raft.id * 0x9E3779B97F4A7C15ULL) ^ (o.request_epoch * 0xC2B2AE3D27D4EB4FULL)) &
              0xFFFFFF0000000000ULL;
  }

  // A store that is older than the Raft log's snapshot (a new member, or the simulator's
  // in-memory store after a crash) is rebuilt from the snapshot; the log after it is
  // re-applied.
  void restore_store_if_behind() {
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
    restore_from(*reader);
    spdlog::info("node {:x}: store rebuilt from snapshot {} (its consistent index was behind)",
                 options.raft.id, snap.index);
  }

  void restore_from(const SnapshotReader& reader) {
    sm.restore([&](uint64_t offset, uint64_t length) { return reader.read(offset, length); });
  }

  void finish_reads() {
    for (auto it = pending_reads.begin(); it != pending_reads.end();) {
      if (it->second.has_value() && *it->second <= applied) {
        completions.push_back({Completion::Kind::kReadReady, it->first, {}});
        it = pending_reads.erase(it);
      } else {
        ++it;
      }
    }
  }

  NodeOptions options;
  LogStorage* storage;
  KvStateMachine sm;
  std::unique_ptr<Raft> raft;
  uint64_t next_id = 0;
  uint64_t applied = 0;
  uint64_t applied_term = 0;
  uint64_t last_snapshot = 0;
  std::set<uint64_t> pending_writes;
  std::map<uint64_t, std::optional<uint64_t>> pending_reads;  // id -> read index, once known
  // Reads share confirmation rounds: every read that arrives before the next ready() joins the
  // round the first of them opened (one raft read_index, one heartbeat round for all). A read
  // that joins late is still served correctly: any write acknowledged before it arrived was in
  // a Ready taken before the round opened (so within the round's index) or after it (which
  // closed the round), and the heartbeat quorum that confirms the round is gathered after it.
  std::map<uint64_t, std::vector<uint64_t>> rounds;  // round (its first read's id) -> reads
  uint64_t open_round = 0;                           // 0: none open
  std::vector<std::pair<uint64_t, Result>> physical_waiting;
  std::vector<Completion> completions;
};

KvNode::KvNode(const NodeOptions& options, std::unique_ptr<mvcc::KvStore> store)
    : impl_(std::make_unique<Impl>(options, std::move(store))) {}
KvNode::~KvNode() = default;

NodeId KvNode::id() const { return impl_->options.raft.id; }
void KvNode::tick() { impl_->raft->tick(); }
void KvNode::step(const Message& m) { impl_->raft->step(m); }
void KvNode::transfer_leader(NodeId to) { impl_->raft->transfer_leader(to); }
void KvNode::report_unreachable(NodeId peer) { impl_->raft->report_unreachable(peer); }
void KvNode::report_snapshot(NodeId peer, bool ok) { impl_->raft->report_snapshot(peer, ok); }

uint64_t KvNode::propose(const Request& request) {
  uint64_t id = ++impl_->next_id;
  impl_->raft->propose(encode_request(id, request));  // throws before we track it
  impl_->pending_writes.insert(id);
  return id;
}

uint64_t KvNode::propose_member_change(ConfChange::Type type, const Member& member) {
  uint64_t id = ++impl_->next_id;
  ConfChange cc{type, member.id, encode_member_context(member, id)};
  impl_->raft->propose_conf_change(cc);  // throws before we track it
  impl_->pending_writes.insert(id);
  return id;
}

void KvNode::forget(uint64_t id) {
  impl_->pending_writes.erase(id);
  impl_->pending_reads.erase(id);
}

uint64_t KvNode::read_index() {
  auto& r = *impl_;
  uint64_t id = ++r.next_id;
  if (r.open_round == 0) {
    r.raft->read_index(fmt::format("{}{}", kReadPrefix, id));  // may throw: nothing recorded
    r.open_round = id;
    if (r.rounds.size() > 1024) {  // rounds never answered (a lost leadership): drop the dead
      std::erase_if(r.rounds, [&](const auto& round) {
        return std::none_of(round.second.begin(), round.second.end(),
                            [&](uint64_t read) { return r.pending_reads.count(read) > 0; });
      });
    }
  }
  r.rounds[r.open_round].push_back(id);
  r.pending_reads.emplace(id, std::nullopt);
  return id;
}

bool KvNode::has_ready() const { return impl_->raft->has_ready(); }
Ready KvNode::ready() {
  impl_->open_round = 0;  // its read_index goes out with this Ready: later reads start anew
  return impl_->raft->ready();
}

void KvNode::apply(const Ready& rd) {
  auto& r = *impl_;
  if (rd.snapshot) {
    // The driver installed the leader's snapshot in the Raft storage: the store becomes it.
    auto reader = r.storage->open_snapshot();
    if (!reader) throw std::logic_error("snapshot in the Ready but not in the storage");
    r.restore_from(*reader);
    r.applied = rd.snapshot->index;
    r.applied_term = rd.snapshot->term;
    r.last_snapshot = r.applied;
  }
  if (!rd.committed_entries.empty()) {
    auto applied = r.sm.apply(rd.committed_entries, [&](const ConfChange& cc, uint64_t req) {
      r.raft->apply_conf_change(cc);
      if (req != 0 && r.pending_writes.erase(req) > 0) {
        Result result;
        result.value = MembershipResult{};
        result.revision = r.sm.store().revision();
        r.completions.push_back({Completion::Kind::kWrite, req, std::move(result)});
      }
    });
    r.applied = rd.committed_entries.back().index;
    r.applied_term = rd.committed_entries.back().term;
    for (auto& a : applied) {
      // Only the member that proposed a request answers it.
      if (r.pending_writes.erase(a.id) == 0) continue;
      const auto* compaction = std::get_if<CompactionRequest>(&a.request);
      if (compaction && compaction->physical && a.result.ok()) {
        r.physical_waiting.emplace_back(a.id, std::move(a.result));  // answered once purged
        continue;
      }
      r.completions.push_back({Completion::Kind::kWrite, a.id, std::move(a.result)});
    }
  }
  compaction_step();
  for (const ReadState& rs : rd.read_states) {
    if (!rs.context.starts_with(kReadPrefix)) continue;
    uint64_t round = std::stoull(rs.context.substr(kReadPrefix.size()));
    auto members = r.rounds.find(round);
    if (members == r.rounds.end()) continue;
    for (uint64_t id : members->second) {
      auto it = r.pending_reads.find(id);
      if (it != r.pending_reads.end() && !it->second) it->second = rs.index;
    }
    if (round == r.open_round) r.open_round = 0;
    r.rounds.erase(members);
  }
  r.finish_reads();
}

void KvNode::advance(const Ready& rd) { impl_->raft->advance(rd); }

bool KvNode::compaction_pending() const { return impl_->sm.compaction_pending(); }

void KvNode::compaction_step() {
  auto& r = *impl_;
  if (!r.sm.compaction_pending() || !r.sm.compaction_step()) return;
  // The purge is done: physical compactions are answered now.
  for (auto& [id, result] : r.physical_waiting) {
    r.completions.push_back({Completion::Kind::kWrite, id, std::move(result)});
  }
  r.physical_waiting.clear();
}

std::vector<Completion> KvNode::take_completions() {
  std::vector<Completion> out;
  out.swap(impl_->completions);
  return out;
}

bool KvNode::wants_snapshot() const {
  const auto& r = *impl_;
  return r.options.snapshot_count > 0 && r.applied > r.last_snapshot &&
         r.applied - r.last_snapshot >= r.options.snapshot_count;
}

SnapshotMeta KvNode::snapshot_meta() const {
  return SnapshotMeta{impl_->applied, impl_->applied_term, impl_->raft->status().conf};
}

void KvNode::write_snapshot(SnapshotWriter& out) {
  impl_->sm.write_snapshot([&](std::string_view chunk) { out.write(chunk); });
}

void KvNode::snapshot_done() { impl_->last_snapshot = impl_->applied; }

const mvcc::KvStore& KvNode::store() const { return impl_->sm.store(); }
mvcc::KvStore& KvNode::store() { return impl_->sm.store(); }
const KvStateMachine& KvNode::state_machine() const { return impl_->sm; }
RaftStatus KvNode::status() const { return impl_->raft->status(); }
NodeId KvNode::leader() const { return impl_->raft->status().soft_state.leader; }
uint64_t KvNode::applied_index() const { return impl_->applied; }
std::vector<Member> KvNode::members() const { return impl_->sm.members(); }
std::vector<Alarm> KvNode::alarms() const { return impl_->sm.alarms(); }
std::set<NodeId> KvNode::removed() const { return impl_->sm.removed(); }

}  // namespace etcdlab::server
