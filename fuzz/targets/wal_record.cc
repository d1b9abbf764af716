// WAL records (labs/01-log record.h): read_record over raw bytes, and over a series of records
// framed with good checksums around fuzzed types and payloads (so the reader's verdicts past
// the checksum are reached: unknown type, length over the limit, torn tails, zero sectors).
#include "../fuzz_input.h"
#include "etcdlab/log/record.h"

using namespace etcdlab;

namespace {

void read_all(std::string_view segment) {
  uint64_t offset = 0;
  for (int i = 0; i < 10000; ++i) {
    RecordRead r = read_record(segment, offset);
    if (r.status != RecordRead::Status::kOk) break;
    if (r.next_offset <= offset || r.next_offset > segment.size()) __builtin_trap();
    if (r.payload.data() < segment.data() ||
        r.payload.data() + r.payload.size() > segment.data() + segment.size()) {
      __builtin_trap();  // the payload points into the segment
    }
    offset = r.next_offset;
  }
  (void)has_unwritten_sector(segment.substr(0, 4096), 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::FuzzInput in(data, size);
  if (in.byte() & 1) {
    read_all(in.rest());
    return 0;
  }
  std::string segment;
  while (!in.empty() && segment.size() < (1 << 20)) {
    uint8_t type = in.byte() % 6;  // 0 and 5 are not record types
    segment += fuzz::wal_record(type, in.take(2048));
    if (in.byte() == 0xff) segment.append(in.number(2) % 1024, '\0');  // a zero-filled gap
  }
  fuzz::maybe_damage(in, segment);
  read_all(segment);
  return 0;
}
