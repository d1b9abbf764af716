// Lab 1, part C: the write-ahead log. wal.h describes the layout, replay and recovery; the
// handout walks through it step by step.
#include "etcdlab/log/wal.h"

#include "etcdlab/codec.h"
#include "etcdlab/errors.h"
#include "etcdlab/log/record.h"
#include "todo.h"

namespace etcdlab {

// Your state goes here. A hint: the file system and directory, the options, what replay found,
// the segments (sequence, first index, name), the open last segment and the offset where the
// next record goes, the latest hard state (each new segment repeats it), the shape of the log
// written so far (base, last index, terms: a new segment's name and a snapshot record's
// "replaced the log" flag need them), and whether a sync has failed.
struct Wal::Impl {};

Wal::Wal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Wal::~Wal() = default;

std::string wal_segment_name(uint64_t /*sequence*/, uint64_t /*first_index*/) {
  todo('C', "wal_segment_name");
}

std::unique_ptr<Wal> Wal::open(FileSystem& /*fs*/, const std::string& /*dir*/,
                               const WalOptions& /*options*/) {
  todo('C', "Wal::open");
}

const WalContents& Wal::replayed() const {
  todo('C', "Wal::replayed");
}

void Wal::append_entries(std::span<const Entry> /*entries*/) {
  todo('C', "Wal::append_entries");
}

void Wal::append_hard_state(const HardState& /*state*/) {
  todo('C', "Wal::append_hard_state");
}

void Wal::append_snapshot(const SnapshotMark& /*mark*/) {
  todo('C', "Wal::append_snapshot");
}

void Wal::sync() {
  todo('C', "Wal::sync");
}

void Wal::release_before(uint64_t /*index*/) {
  todo('C', "Wal::release_before");
}

std::vector<std::string> Wal::segments() const {
  todo('C', "Wal::segments");
}

}  // namespace etcdlab
