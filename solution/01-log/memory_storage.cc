// Reference implementation of lab 1, part A: the in-memory log storage.
#include <fmt/format.h>

#include <deque>
#include <stdexcept>

#include "etcdlab/broken.h"
#include "etcdlab/errors.h"
#include "etcdlab/log/log_storage.h"

namespace etcdlab {

struct MemoryStorage::Impl {
  HardState hard_state;
  SnapshotMeta snapshot;
  std::shared_ptr<const std::string> payload = std::make_shared<const std::string>();
  std::deque<Entry> entries;  // invariant: entries[i].index == snapshot.index + 1 + i

  uint64_t last_index() const { return snapshot.index + entries.size(); }
  const Entry& at(uint64_t index) const { return entries[index - snapshot.index - 1]; }
};

namespace {

class MemorySnapshotReader final : public SnapshotReader {
 public:
  MemorySnapshotReader(SnapshotMeta meta, std::shared_ptr<const std::string> payload)
      : meta_(std::move(meta)), payload_(std::move(payload)) {}
  const SnapshotMeta& meta() const override { return meta_; }
  uint64_t size() const override { return payload_->size(); }
  std::string read(uint64_t offset, uint64_t max_bytes) const override {
    if (offset >= payload_->size()) return {};
    return payload_->substr(offset, max_bytes);
  }

 private:
  SnapshotMeta meta_;
  std::shared_ptr<const std::string> payload_;
};

class MemorySnapshotWriter final : public SnapshotWriter {
 public:
  MemorySnapshotWriter(MemoryStorage::Impl& storage, SnapshotMeta meta)
      : storage_(storage), meta_(std::move(meta)) {}
  void write(std::string_view chunk) override { payload_.append(chunk); }
  void commit() override {
    auto& s = storage_;
    if (meta_.index <= s.snapshot.index) {
      if (ETCDLAB_BROKEN("snapshot-at-same-index-accepted") && meta_.index == s.snapshot.index) {
        s.snapshot = meta_;  // the bug: the same index replaces the current snapshot
        s.payload = std::make_shared<const std::string>(std::move(payload_));
        return;
      }
      throw std::invalid_argument(fmt::format(
          "snapshot at index {} is not newer than the one at {}", meta_.index, s.snapshot.index));
    }
    bool matches =
        meta_.index <= s.last_index() && (ETCDLAB_BROKEN("keep-log-after-disagreeing-snapshot") ||
                                          s.at(meta_.index).term == meta_.term);
    if (matches) {
      s.entries.erase(s.entries.begin(), s.entries.begin() + static_cast<std::ptrdiff_t>(
                                                                 meta_.index - s.snapshot.index));
    } else {
      s.entries.clear();  // the log disagrees with the snapshot: the snapshot replaces it
    }
    s.snapshot = meta_;
    s.payload = std::make_shared<const std::string>(std::move(payload_));
  }

 private:
  MemoryStorage::Impl& storage_;
  SnapshotMeta meta_;
  std::string payload_;
};

}  // namespace

MemoryStorage::MemoryStorage() : impl_(std::make_unique<Impl>()) {}
MemoryStorage::~MemoryStorage() = default;

HardState MemoryStorage::hard_state() const {
  return impl_->hard_state;
}
SnapshotMeta MemoryStorage::snapshot() const {
  return impl_->snapshot;
}
uint64_t MemoryStorage::first_index() const {
  return impl_->snapshot.index + 1;
}
uint64_t MemoryStorage::last_index() const {
  if (ETCDLAB_BROKEN("last-index-ignores-snapshot")) return impl_->entries.size();
  return impl_->last_index();
}

uint64_t MemoryStorage::term(uint64_t index) const {
  if (ETCDLAB_BROKEN("term-at-snapshot-throws") && index < first_index()) {
    throw CompactedError(index);
  }
  if (index < impl_->snapshot.index) throw CompactedError(index);
  if (index == impl_->snapshot.index) return impl_->snapshot.term;
  if (index > impl_->last_index()) throw UnavailableError(index);
  return impl_->at(index).term;
}

std::vector<Entry> MemoryStorage::entries(uint64_t lo, uint64_t hi, uint64_t max_bytes) const {
  if (lo < first_index()) throw CompactedError(lo);
  if (hi > impl_->last_index() + 1) throw UnavailableError(hi - 1);
  std::vector<Entry> out;
  uint64_t bytes = 0;
  for (uint64_t i = lo; i < hi; ++i) {
    const Entry& e = impl_->at(i);
    bytes += entry_size(e);
    if ((!out.empty() || ETCDLAB_BROKEN("no-entry-over-byte-limit")) && bytes > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

void MemoryStorage::append(std::vector<Entry> entries) {
  if (entries.empty()) return;
  uint64_t start = entries.front().index;
  if (start < first_index() || start > impl_->last_index() + 1) {
    throw std::invalid_argument(fmt::format("append at index {} but the log is [{}, {}]", start,
                                            first_index(), impl_->last_index()));
  }
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].index != start + i) {
      throw std::invalid_argument(
          fmt::format("append: entry {} follows entry {}", entries[i].index, entries[i - 1].index));
    }
  }
  impl_->entries.resize(start - first_index());  // drop the suffix being replaced
  for (auto& e : entries) impl_->entries.push_back(std::move(e));
}

void MemoryStorage::set_hard_state(const HardState& state) {
  impl_->hard_state = state;
}
void MemoryStorage::sync() {}

std::unique_ptr<SnapshotWriter> MemoryStorage::begin_snapshot(const SnapshotMeta& meta) {
  return std::make_unique<MemorySnapshotWriter>(*impl_, meta);
}

std::unique_ptr<SnapshotReader> MemoryStorage::open_snapshot() const {
  if (impl_->snapshot.empty()) return nullptr;
#ifdef ETCDLAB_BROKEN_VARIANTS
  if (ETCDLAB_BROKEN("reader-follows-current-payload")) {
    // The bug: the reader reads whatever the storage holds now, not its own snapshot.
    struct Live final : SnapshotReader {
      explicit Live(const Impl& s) : storage(s), meta_(s.snapshot) {}
      const SnapshotMeta& meta() const override { return meta_; }
      uint64_t size() const override { return storage.payload->size(); }
      std::string read(uint64_t offset, uint64_t max_bytes) const override {
        return offset >= size() ? std::string() : storage.payload->substr(offset, max_bytes);
      }
      const Impl& storage;
      SnapshotMeta meta_;
    };
    return std::make_unique<Live>(*impl_);
  }
#endif
  return std::make_unique<MemorySnapshotReader>(impl_->snapshot, impl_->payload);
}

}  // namespace etcdlab
