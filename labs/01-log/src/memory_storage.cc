// Lab 1, part A: the Raft log in memory. Read log_storage.h first: it is the specification.
#include "etcdlab/errors.h"
#include "etcdlab/log/log_storage.h"
#include "todo.h"

namespace etcdlab {

// Your state goes here. A hint: the snapshot's metadata, the hard state, the entries after the
// snapshot (a std::deque makes dropping a prefix cheap), and the snapshot's payload (a
// std::shared_ptr<const std::string>, so a reader stays valid after a newer snapshot).
struct MemoryStorage::Impl {};

MemoryStorage::MemoryStorage() : impl_(std::make_unique<Impl>()) {}
MemoryStorage::~MemoryStorage() = default;

HardState MemoryStorage::hard_state() const {
  todo('A', "MemoryStorage::hard_state");
}
SnapshotMeta MemoryStorage::snapshot() const {
  todo('A', "MemoryStorage::snapshot");
}
uint64_t MemoryStorage::first_index() const {
  todo('A', "MemoryStorage::first_index");
}
uint64_t MemoryStorage::last_index() const {
  todo('A', "MemoryStorage::last_index");
}

uint64_t MemoryStorage::term(uint64_t /*index*/) const {
  todo('A', "MemoryStorage::term");
}

std::vector<Entry> MemoryStorage::entries(uint64_t /*lo*/, uint64_t /*hi*/,
                                          uint64_t /*max_bytes*/) const {
  todo('A', "MemoryStorage::entries");
}

void MemoryStorage::append(std::vector<Entry> /*entries*/) {
  todo('A', "MemoryStorage::append");
}

void MemoryStorage::set_hard_state(const HardState& /*state*/) {
  todo('A', "MemoryStorage::set_hard_state");
}

void MemoryStorage::sync() {
  todo('A', "MemoryStorage::sync");
}

// Return an object of your own SnapshotWriter subclass that collects the chunks and, on
// commit(), replaces the snapshot and drops the entries it covers (log_storage.h says which).
std::unique_ptr<SnapshotWriter> MemoryStorage::begin_snapshot(const SnapshotMeta& /*meta*/) {
  todo('A', "MemoryStorage::begin_snapshot");
}

std::unique_ptr<SnapshotReader> MemoryStorage::open_snapshot() const {
  todo('A', "MemoryStorage::open_snapshot");
}

}  // namespace etcdlab
