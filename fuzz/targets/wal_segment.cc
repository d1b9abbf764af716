// The WAL's segment reader and replay (labs/01-log wal.h): one or two segment files on the
// simulated disk, built from well-framed records (a segment header first, then entries, hard
// states and snapshot markers with fuzzed fields, or raw payloads), then Wal::open. Damage is
// refused with CorruptionError (a StorageError); anything else escaping is a finding.
#include "../fuzz_input.h"
#include "etcdlab/errors.h"
#include "etcdlab/fs/sim_file_system.h"
#include "etcdlab/log/record.h"
#include "etcdlab/log/wal.h"

using namespace etcdlab;

namespace {

std::string segment_header(fuzz::FuzzInput& in, uint64_t sequence, uint64_t first_index) {
  std::string p;
  Writer w(p);
  w.bytes(in.byte() == 0xfe ? std::string_view("etcdlab-wax") : kWalMagic);
  w.u64(in.byte() == 0xfe ? 2 : kWalFormatVersion);
  w.u64(sequence);
  w.u64(first_index);
  return fuzz::wal_record(static_cast<uint8_t>(RecordType::kSegmentHeader), p);
}

std::string record(fuzz::FuzzInput& in, uint64_t& next_index) {
  std::string p;
  Writer w(p);
  switch (in.byte() % 5) {
    case 0: {  // an entry, usually the next one
      Entry e;
      e.index = in.byte() < 230 ? next_index++ : in.number(2);
      e.term = in.number(1);
      e.type = static_cast<EntryType>(in.byte() % 3);
      e.data = std::string(in.take(64));
      w.u64(kCodecVersion);
      w.u64(e.index);
      w.u64(e.term);
      w.u64(static_cast<uint64_t>(e.type));
      w.bytes(e.data);
      return fuzz::wal_record(static_cast<uint8_t>(RecordType::kEntry), p);
    }
    case 1: {
      w.u64(kCodecVersion);
      w.u64(in.number(1));
      w.u64(in.number(1));
      w.u64(in.number(2));
      return fuzz::wal_record(static_cast<uint8_t>(RecordType::kHardState), p);
    }
    case 2: {
      w.u64(in.number(2));
      w.u64(in.number(1));
      w.u64(in.byte() % 3);  // a boolean, or not
      return fuzz::wal_record(static_cast<uint8_t>(RecordType::kSnapshot), p);
    }
    case 3:  // any type, any payload
      return fuzz::wal_record(in.byte() % 6, in.take(256));
    default:
      return std::string(in.take(32));  // raw bytes: a torn or garbage tail
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput in(data, size);
  SimFileSystem fs;
  fs.create_dirs("/wal");
  int segments = 1 + in.byte() % 2;
  uint64_t next_index = 1 + in.number(1) % 4;
  for (int s = 1; s <= segments; ++s) {
    uint64_t first = next_index;
    std::string bytes = segment_header(in, s, first);
    int records = in.byte() % 16;
    for (int i = 0; i < records && !in.empty(); ++i) bytes += record(in, next_index);
    fuzz::maybe_damage(in, bytes);
    auto f = fs.create("/wal/" + wal_segment_name(s, first));
    f->append(bytes);
    f->sync();
  }
  fs.sync_dir("/wal");
  try {
    WalOptions options;
    options.preallocate = false;
    options.segment_bytes = 1 << 16;
    auto wal = Wal::open(fs, "/wal", options);
    const WalContents& c = wal->replayed();
    for (size_t i = 1; i < c.entries.size(); ++i) {
      if (c.entries[i].index != c.entries[i - 1].index + 1) __builtin_trap();  // replay's promise
    }
  } catch (const StorageError&) {  // CorruptionError names the file and offset
  }
  return 0;
}
