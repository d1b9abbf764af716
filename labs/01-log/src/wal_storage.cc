// Lab 1, part E: the durable Raft log storage. wal_storage.h gives the directory layout and
// the order in which a snapshot commits. A hint: keep a MemoryStorage (part A) as the in-memory
// view and make every change durable through the Wal (part C) and snapshot files (part D).
#include "etcdlab/log/wal_storage.h"

#include "etcdlab/errors.h"
#include "etcdlab/log/snapshot_file.h"
#include "todo.h"

namespace etcdlab {

struct WalStorage::Impl {};

WalStorage::WalStorage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WalStorage::~WalStorage() = default;

std::unique_ptr<WalStorage> WalStorage::open(FileSystem& /*fs*/, const std::string& /*dir*/,
                                             const WalStorageOptions& /*options*/) {
  todo('E', "WalStorage::open");
}

HardState WalStorage::hard_state() const {
  todo('E', "WalStorage::hard_state");
}
SnapshotMeta WalStorage::snapshot() const {
  todo('E', "WalStorage::snapshot");
}
uint64_t WalStorage::first_index() const {
  todo('E', "WalStorage::first_index");
}
uint64_t WalStorage::last_index() const {
  todo('E', "WalStorage::last_index");
}
uint64_t WalStorage::term(uint64_t /*index*/) const {
  todo('E', "WalStorage::term");
}

std::vector<Entry> WalStorage::entries(uint64_t /*lo*/, uint64_t /*hi*/,
                                       uint64_t /*max_bytes*/) const {
  todo('E', "WalStorage::entries");
}

void WalStorage::append(std::vector<Entry> /*entries*/) {
  todo('E', "WalStorage::append");
}

void WalStorage::set_hard_state(const HardState& /*state*/) {
  todo('E', "WalStorage::set_hard_state");
}

void WalStorage::sync() {
  todo('E', "WalStorage::sync");
}

std::unique_ptr<SnapshotWriter> WalStorage::begin_snapshot(const SnapshotMeta& /*meta*/) {
  todo('E', "WalStorage::begin_snapshot");
}

std::unique_ptr<SnapshotReader> WalStorage::open_snapshot() const {
  todo('E', "WalStorage::open_snapshot");
}

uint64_t WalStorage::repaired_bytes() const {
  todo('E', "WalStorage::repaired_bytes");
}

}  // namespace etcdlab
