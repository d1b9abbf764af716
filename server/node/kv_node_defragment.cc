// KvNode: defragmenting the store beside the node (kv_node.h, "defragmenting the store").
//
// Why a backlog and not a pause: the node's thread also runs Raft. Stopping it for the
// seconds a VACUUM of a big database takes would stop heartbeats, and the cluster would elect
// another leader (etcd 3.4 keeps its Raft loop going during a defragmentation too; only its
// applies wait). So Raft goes on, and what it commits waits here until the store may be
// written again. Configuration changes are the exception: Raft's own configuration must not
// lag behind what it committed (elections and quorums depend on it), so Raft applies them at
// once and the store's side of them (the member list) waits with the rest.
#include "etcdlab/codec.h"
#include "etcdlab/sqlite/database.h"
#include "kv_node.h"
#include "kv_node_impl.h"

namespace etcdlab::server {
namespace {

// Entries applied in one step of the backlog: bounded, so that a long backlog does not stall
// the node's thread once writes may go again (one SQLite transaction per step).
constexpr size_t kBacklogStep = 1000;

class VacuumJob final : public KvNode::StoreJob {
 public:
  explicit VacuumJob(std::string path) : path_(std::move(path)) {}
  void run() override { sqlite::Database::vacuum_beside_writer(path_); }

 private:
  std::string path_;
};

}  // namespace

void KvNode::Impl::hold_back(const Ready& rd) {
  if (rd.snapshot) {
    // The leader's snapshot holds everything before it: what waited is superseded, and Raft
    // took its configuration from it.
    backlog.clear();
    confs_in_raft = 0;
    backlog_snapshot = *rd.snapshot;
  }
  for (const Entry& e : rd.committed_entries) {
    if (e.type == EntryType::kConfChange) {
      raft->apply_conf_change(decode_value<ConfChange>(e.data, "conf change entry"));
      ++confs_in_raft;
    }
    backlog.push_back(e);
  }
}

std::unique_ptr<KvNode::StoreJob> KvNode::begin_defragment() {
  auto& r = *impl_;
  const std::string& path = r.options.store.path;
  if (path.empty() || path == sqlite::Database::kInMemory) {
    r.sm.store().defragment();
    r.db_bytes = r.sm.store().db_size();
    return nullptr;
  }
  ++r.store_holds;
  return std::make_unique<VacuumJob>(path);
}

void KvNode::end_defragment() {
  auto& r = *impl_;
  if (r.store_holds == 0) throw std::logic_error("end_defragment() without begin_defragment()");
  if (--r.store_holds == 0) r.db_bytes = r.sm.store().db_size();
}

bool KvNode::holding_writes() const { return impl_->store_holds > 0; }

bool KvNode::backlog_pending() const {
  return impl_->store_holds == 0 && impl_->backlogged();
}

bool KvNode::restore_deferred() const { return impl_->backlog_snapshot.has_value(); }

void KvNode::backlog_step() {
  auto& r = *impl_;
  if (!backlog_pending()) return;
  std::optional<SnapshotMeta> snapshot = std::move(r.backlog_snapshot);
  r.backlog_snapshot.reset();
  size_t n = std::min(r.backlog.size(), kBacklogStep);
  std::vector<Entry> entries(r.backlog.begin(), r.backlog.begin() + static_cast<ptrdiff_t>(n));
  r.backlog.erase(r.backlog.begin(), r.backlog.begin() + static_cast<ptrdiff_t>(n));
  r.apply_committed(snapshot ? &*snapshot : nullptr, entries);
  r.finish_reads();
  r.confirmed_keep_alives();
}

}  // namespace etcdlab::server
