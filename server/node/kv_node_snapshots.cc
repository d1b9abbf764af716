// KvNode: its snapshots (a header over the durable store, or a whole copy for an in-memory
// store) and the copies of its state written beside it (StateCopy): a snapshot for a member
// that needs one, etcd's maintenance snapshot.
#include <fmt/format.h>

#include <optional>

#include "etcdlab/fs/posix_file_system.h"
#include "etcdlab/sqlite/database.h"
#include "kv_node.h"
#include "kv_node_impl.h"

namespace etcdlab::server {
namespace {

// A file store: a read-only connection pinned now (counted in the node's pinned readers:
// KvNode::copying()); prepare() copies the database through it into a temporary file next
// to the store, releases it, and serves the prefix and that file.
class PinnedCopy final : public StateCopy {
 public:
  PinnedCopy(std::shared_ptr<std::atomic<int>> pinned, std::string prefix,
             const std::string& db_path, std::string tmp_path)
      : pinned_(std::move(pinned)), prefix_(std::move(prefix)), tmp_(std::move(tmp_path)) {
    reader_.emplace(sqlite::Database::open_reader(db_path));
    reader_->begin_read();
    ++*pinned_;  // (last: a constructor that threw leaves no count behind)
  }
  ~PinnedCopy() override {
    release();
    file_.reset();
    PosixFileSystem fs;
    try {
      if (fs.exists(tmp_)) fs.remove(tmp_);
    } catch (...) {  // a leftover temporary file is removed at the next start
    }
  }

  void prepare() override {
    if (file_) return;
    reader_->copy_to_unsynced(tmp_);  // read from here, then removed: the writer syncs
    release();
    file_ = fs_.open(tmp_);
    db_bytes_ = file_->size();
  }
  uint64_t size() const override { return prefix_.size() + db_bytes_; }
  std::string read(uint64_t offset, uint64_t length) const override {
    std::string out;
    if (offset < prefix_.size()) {
      out = prefix_.substr(offset, length);
      length -= out.size();
      offset = prefix_.size();
    }
    if (length > 0 && file_ && offset - prefix_.size() < db_bytes_) {
      out += file_->read_at(offset - prefix_.size(), length);
    }
    return out;
  }

 private:
  void release() {
    if (!reader_) return;
    reader_.reset();  // (ends its read: the node may checkpoint past it again)
    --*pinned_;
  }

  std::shared_ptr<std::atomic<int>> pinned_;
  std::string prefix_;
  std::optional<sqlite::Database> reader_;
  std::string tmp_;
  PosixFileSystem fs_;
  std::unique_ptr<File> file_;
  uint64_t db_bytes_ = 0;
};

// Bytes taken at once: a header, or an in-memory store's whole copy.
class BytesCopy final : public StateCopy {
 public:
  explicit BytesCopy(std::string bytes) : bytes_(std::move(bytes)) {}
  void prepare() override {}
  uint64_t size() const override { return bytes_.size(); }
  std::string read(uint64_t offset, uint64_t length) const override {
    return offset >= bytes_.size() ? std::string() : bytes_.substr(offset, length);
  }

 private:
  std::string bytes_;
};

bool in_memory(const KvNode::Impl& r) {
  const std::string& path = r.options.store.path;
  return path.empty() || path == ":memory:";
}

std::unique_ptr<StateCopy> copy_of(KvNode::Impl& r, std::string prefix) {
  const std::string& path = r.options.store.path;
  if (in_memory(r)) {
    r.sm.store().snapshot([&](std::string_view chunk) { prefix.append(chunk); });
    return std::make_unique<BytesCopy>(std::move(prefix));
  }
  std::string tmp = fmt::format("{}.copy-{}.tmp", path, ++r.copy_serial);
  return std::make_unique<PinnedCopy>(r.copies, std::move(prefix), path, std::move(tmp));
}

}  // namespace

void StateCopy::write(const std::function<void(std::string_view)>& out) {
  prepare();
  constexpr uint64_t kChunk = 1 << 20;
  for (uint64_t at = 0; at < size(); at += kChunk) out(read(at, kChunk));
}

std::unique_ptr<StateCopy> KvNode::begin_snapshot(SnapshotMeta& meta) {
  auto& r = *impl_;
  meta = snapshot_meta();
  std::unique_ptr<StateCopy> copy;
  if (in_memory(r)) {
    copy = copy_of(r, r.sm.snapshot_header());  // nothing durable to point at: a whole copy
  } else {
    // The store is the data (state_machine.h): durable now, before the snapshot lets the log
    // go. A full checkpoint of its WAL (a bounded amount: SQLite checkpoints every 1,000
    // pages), which no reader holds up: wants_snapshot() waits for pinned copies to let go.
    r.sm.store().make_durable();
    copy = std::make_unique<BytesCopy>(r.sm.snapshot_header());
  }
  r.snapshotting = true;
  return copy;
}

std::unique_ptr<StateCopy> KvNode::snapshot_to_send(const SnapshotMeta& meta) {
  auto& r = *impl_;
  auto local = r.storage->open_snapshot();
  if (!local || local->meta().index != meta.index || local->meta().term != meta.term) {
    throw std::runtime_error(fmt::format(
        "the Raft log's snapshot is no longer {}/{} (a newer one replaced it)", meta.index,
        meta.term));
  }
  if (r.store_holds > 0 || r.sm.consistent_index() < meta.index) {
    // Defragmenting, or a leader's snapshot not applied yet: the store is not at or past the
    // header. Raft sends again later.
    throw std::runtime_error(fmt::format(
        "the store (index {}) is held or behind the snapshot at index {}",
        r.sm.consistent_index(), meta.index));
  }
  std::string header = KvStateMachine::snapshot_header_of(
      [&](uint64_t offset, uint64_t length) { return local->read(offset, length); });
  return copy_of(r, std::move(header));
}

void KvNode::snapshot_done(uint64_t index) {
  impl_->snapshotting = false;
  impl_->last_snapshot = std::max(impl_->last_snapshot, index);
}

void KvNode::snapshot_abandoned() { impl_->snapshotting = false; }

std::unique_ptr<StateCopy> KvNode::copy_store() { return copy_of(*impl_, ""); }

bool KvNode::copying() const { return *impl_->copies > 0; }

}  // namespace etcdlab::server
