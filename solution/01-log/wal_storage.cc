// Reference implementation of lab 1, part E: the WAL-backed log storage (see wal_storage.h).
// Memory is a MemoryStorage (part A) holding the snapshot's metadata, the hard state and the
// entries; the WAL and the snapshot files make it durable.
#include "etcdlab/log/wal_storage.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "etcdlab/broken.h"
#include "etcdlab/errors.h"
#include "etcdlab/log/snapshot_file.h"

namespace etcdlab {

struct WalStorage::Impl {
  Impl(FileSystem& f, std::string d, WalStorageOptions o)
      : fs(f), dir(std::move(d)), snap_dir(join_path(dir, "snap")), options(o) {}

  FileSystem& fs;
  std::string dir;
  std::string snap_dir;
  WalStorageOptions options;
  std::unique_ptr<Wal> wal;
  MemoryStorage memory;

  void load_snapshot();
  void commit_snapshot(const SnapshotMeta& meta);
  void remove_old_snapshots();
};

namespace {

// Writes the snapshot file, then tells the storage to make it the latest.
class WalSnapshotWriter final : public SnapshotWriter {
 public:
  WalSnapshotWriter(WalStorage::Impl& storage, const SnapshotMeta& meta)
      : storage_(storage), meta_(meta), file_(storage.fs, storage.snap_dir, meta) {}
  void write(std::string_view chunk) override { file_.write(chunk); }
  // The payload's file is <final path>.tmp until commit() (snapshot_file.h): syncing it through
  // a second handle flushes the same file, so commit()'s own sync finds little to do.
  void sync_payload() override { storage_.fs.open(file_.path() + ".tmp")->sync(); }
  void commit() override {
    if (meta_.index <= storage_.memory.snapshot().index) {
      throw std::invalid_argument(
          fmt::format("snapshot at index {} is not newer than the one at {}", meta_.index,
                      storage_.memory.snapshot().index));
    }
    file_.commit();
    storage_.commit_snapshot(meta_);
  }

 private:
  WalStorage::Impl& storage_;
  SnapshotMeta meta_;
  SnapshotFileWriter file_;
};

struct SnapName {
  std::string name;
  uint64_t index;
};

}  // namespace

void WalStorage::Impl::commit_snapshot(const SnapshotMeta& meta) {
  if (ETCDLAB_BROKEN("release-before-marker-synced")) {
    wal->append_snapshot({meta.index, meta.term});
    memory.begin_snapshot(meta)->commit();
    wal->release_before(meta.index + 1);  // the bug: the marker is not durable yet
    remove_old_snapshots();
    wal->sync();
    return;
  }
  wal->append_snapshot({meta.index, meta.term});
  wal->sync();
  memory.begin_snapshot(meta)->commit();  // drops the entries it covers (or the whole log)
  wal->release_before(meta.index + 1);
  remove_old_snapshots();
}

// Snapshot files newest first, by index (names sort by term, then index; both grow together).
static std::vector<SnapName> snapshot_files(const FileSystem& fs, const std::string& snap_dir) {
  std::vector<SnapName> out;
  for (const auto& name : fs.list(snap_dir)) {
    if (!name.ends_with(".snap") || name.size() != 16 + 1 + 16 + 5) continue;
    out.push_back({name, std::stoull(name.substr(17, 16), nullptr, 16)});
  }
  std::sort(out.begin(), out.end(),
            [](const SnapName& a, const SnapName& b) { return a.index > b.index; });
  return out;
}

void WalStorage::Impl::remove_old_snapshots() {
  auto files = snapshot_files(fs, snap_dir);
  size_t keep = std::max<size_t>(1, options.keep_snapshots);
  // The bug: oldest first, so the newest files (the one the marker names) go.
  if (ETCDLAB_BROKEN("remove-newest-snapshot-file")) std::reverse(files.begin(), files.end());
  for (size_t i = keep; i < files.size(); ++i) fs.remove(join_path(snap_dir, files[i].name));
  // (A file that came back after a crash would only be removed by the next commit.)
  fs.sync_dir(snap_dir);
}

void WalStorage::Impl::load_snapshot() {
  const WalContents& contents = wal->replayed();
  for (const auto& name : fs.list(snap_dir)) {
    // A snapshot whose writing a crash interrupted.
    if (name.ends_with(".tmp")) fs.remove(join_path(snap_dir, name));
  }
  if (ETCDLAB_BROKEN("load-newest-snapshot-file")) {
    auto files = snapshot_files(fs, snap_dir);  // the bug: whatever file is newest
    if (!files.empty()) {
      auto reader = SnapshotFileReader::open(fs, join_path(snap_dir, files.front().name));
      memory.begin_snapshot(reader->meta())->commit();
    }
    return;
  }
  std::optional<SnapshotMark> mark;
  if (!contents.snapshots.empty()) mark = contents.snapshots.back();
  // A file newer than the WAL's newest marker was made durable but never recorded: a crash hit
  // between the two steps. The log still holds everything it covers, so it is dropped. (A
  // snapshot file's index is never 0: with no marker every file goes.)
  uint64_t marked = mark ? mark->index : 0;
  for (const auto& f : snapshot_files(fs, snap_dir)) {
    if (f.index > marked) {
      spdlog::warn("wal storage: removing {} (written but never recorded in the WAL)", f.name);
      fs.remove(join_path(snap_dir, f.name));
    }
  }
  fs.sync_dir(snap_dir);  // the removals above (a file that came back would go again)
  if (!mark) {
    if (contents.base_index != 0) {
      throw CorruptionError(join_path(dir, "wal"), 0,
                            fmt::format("the WAL starts after index {} but no snapshot covers it",
                                        contents.base_index));
    }
    return;
  }
  std::string path =
      join_path(snap_dir, snapshot_file_name(SnapshotMeta{mark->index, mark->term, {}}));
  if (!fs.exists(path)) {
    throw CorruptionError(path, 0, "snapshot file named by the WAL's newest marker is missing");
  }
  auto reader = SnapshotFileReader::open(fs, path);
  if (reader->meta().index != mark->index || reader->meta().term != mark->term) {
    throw CorruptionError(path, 0, "snapshot file metadata does not match its WAL marker");
  }
  memory.begin_snapshot(reader->meta())->commit();
  if (ETCDLAB_BROKEN("payload-loaded-at-open")) {
    std::string payload = reader->read(0, reader->size());  // the bug: held in memory
  }
}

WalStorage::WalStorage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WalStorage::~WalStorage() = default;

std::unique_ptr<WalStorage> WalStorage::open(FileSystem& fs, const std::string& dir,
                                             const WalStorageOptions& options) {
  auto impl = std::make_unique<Impl>(fs, dir, options);
  fs.create_dirs(impl->snap_dir);
  impl->wal = Wal::open(fs, join_path(dir, "wal"), options.wal);
  impl->load_snapshot();
  const WalContents& contents = impl->wal->replayed();
  impl->memory.set_hard_state(contents.hard_state);
  impl->memory.append(contents.entries);
  return std::unique_ptr<WalStorage>(new WalStorage(std::move(impl)));
}

HardState WalStorage::hard_state() const {
  return impl_->memory.hard_state();
}
SnapshotMeta WalStorage::snapshot() const {
  return impl_->memory.snapshot();
}
uint64_t WalStorage::first_index() const {
  return impl_->memory.first_index();
}
uint64_t WalStorage::last_index() const {
  return impl_->memory.last_index();
}
uint64_t WalStorage::term(uint64_t index) const {
  return impl_->memory.term(index);
}

std::vector<Entry> WalStorage::entries(uint64_t lo, uint64_t hi, uint64_t max_bytes) const {
  return impl_->memory.entries(lo, hi, max_bytes);
}

void WalStorage::append(std::vector<Entry> entries) {
  if (entries.empty()) return;
  // The WAL checks the batch before it writes anything (its base is the snapshot's index, its
  // last index the log's), so a rejected batch changes neither the disk nor memory.
  if (ETCDLAB_BROKEN("memory-before-wal")) {
    impl_->memory.append(entries);  // the bug: memory runs ahead if the WAL write throws
    impl_->wal->append_entries(entries);
    return;
  }
  impl_->wal->append_entries(entries);
  impl_->memory.append(std::move(entries));
}

void WalStorage::set_hard_state(const HardState& state) {
  if (state == impl_->memory.hard_state()) return;
  if (ETCDLAB_BROKEN("memory-before-wal")) impl_->memory.set_hard_state(state);
  impl_->wal->append_hard_state(state);
  impl_->memory.set_hard_state(state);
}

void WalStorage::sync() {
  impl_->wal->sync();
}

std::unique_ptr<SnapshotWriter> WalStorage::begin_snapshot(const SnapshotMeta& meta) {
  return std::make_unique<WalSnapshotWriter>(*impl_, meta);
}

std::unique_ptr<SnapshotReader> WalStorage::open_snapshot() const {
  SnapshotMeta meta = impl_->memory.snapshot();
  if (meta.empty()) return nullptr;
  return SnapshotFileReader::open(impl_->fs, join_path(impl_->snap_dir, snapshot_file_name(meta)));
}

uint64_t WalStorage::repaired_bytes() const {
  return impl_->wal->replayed().repaired_bytes;
}

}  // namespace etcdlab
