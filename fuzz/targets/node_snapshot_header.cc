// The node snapshot's header (server/node/state_machine.h: members, alarms, removed ids, recent
// request ids), read as a restarted member reads it: from a file on the simulated disk, with
// the header's length fixed up to match (or, as the input chooses, any length at all).
#include "../fuzz_input.h"
#include "etcdlab/errors.h"
#include "etcdlab/fs/sim_file_system.h"
#include "state_machine.h"

using namespace etcdlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static server::KvStateMachine* machine =
      new server::KvStateMachine(mvcc::KvStore::open({}), {});
  fuzz::FuzzInput in(data, size);
  bool raw_length = in.byte() == 0xff;
  uint64_t claimed = raw_length ? in.number(8) : 0;
  std::string header(in.rest());
  std::string file;
  Writer w(file);
  w.fixed64(raw_length ? claimed : header.size());
  file += header;
  SimFileSystem fs;
  fs.create_dirs("/s");
  auto f = fs.create("/s/snap");
  f->append(file);
  try {
    machine->restore_members([&](uint64_t offset, uint64_t length) {
      return f->read_at(offset, length);
    });
  } catch (const DecodeError&) {
  } catch (const StorageError&) {
  }
  return 0;
}
