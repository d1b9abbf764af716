// The snapshot file reader (labs/01-log snapshot_file.h): a file with the right magic,
// version, trailer and checksum around fuzzed metadata and payload (or, as the input chooses,
// a wrong one of them), opened and read in chunks from the simulated disk.
#include "../fuzz_input.h"
#include "etcdlab/errors.h"
#include "etcdlab/fs/sim_file_system.h"
#include "etcdlab/log/snapshot_file.h"

using namespace etcdlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput in(data, size);
  std::string meta;
  if (in.flip()) {
    SnapshotMeta m;
    m.index = in.number(2);
    m.term = in.number(1);
    for (int i = in.byte() % 4; i > 0; --i) m.conf.voters.push_back(in.number(1));
    for (int i = in.byte() % 3; i > 0; --i) m.conf.learners.push_back(in.number(1));
    meta = encode_value(m);
  } else {
    meta = std::string(in.take(64));
  }
  std::string payload(in.take(4096));
  std::string file;
  file += in.byte() == 0xff ? std::string("etcdlab-snapshoT") : std::string(kSnapshotMagic);
  size_t checked_from = file.size();
  Writer w(file);
  w.fixed32(in.byte() == 0xff ? 2 : kSnapshotFormatVersion);
  w.fixed32(static_cast<uint32_t>(in.byte() == 0xff ? in.number(4) : meta.size()));
  file += meta;
  file += payload;
  w.fixed64(in.byte() == 0xff ? in.number(8) : payload.size());
  w.fixed32(crc32c(std::string_view(file).substr(checked_from)));
  file += in.byte() == 0xff ? std::string("SNAQ") : std::string(kSnapshotTrailerMagic);
  fuzz::maybe_damage(in, file);
  if (in.byte() == 0xff) file.resize(in.number(4) % (file.size() + 1));  // cut short

  SimFileSystem fs;
  fs.create_dirs("/snap");
  auto f = fs.create("/snap/0000000000000001-0000000000000002.snap");
  f->append(file);
  f->sync();
  try {
    auto reader = SnapshotFileReader::open(fs, "/snap/0000000000000001-0000000000000002.snap");
    if (reader->size() > file.size()) __builtin_trap();
    std::string back;
    for (uint64_t at = 0; at < reader->size(); at += 1000) back += reader->read(at, 1000);
    if (back.size() != reader->size()) __builtin_trap();
  } catch (const StorageError&) {  // CorruptionError names the file and offset
  }
  return 0;
}
