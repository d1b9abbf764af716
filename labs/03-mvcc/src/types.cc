// Lab 3: the key-range rules of types.h, and etcd's error messages (given).
#include "etcdlab/mvcc/types.h"
#include "etcdlab/mvcc/errors.h"
#include "todo.h"

namespace etcdlab::mvcc {

// Part A: delete_range needs it. Three cases: a single key, "\0" (no upper bound), and the
// half-open [key, range_end) compared bytewise (std::string_view's < does that).
bool KeyRange::contains(std::string_view /*k*/) const {
  todo('A', "KeyRange::contains");
}

// Part B: drop trailing 0xff bytes, then increment the last byte; nothing left means "\0".
std::string prefix_end(std::string_view /*prefix*/) {
  todo('B', "prefix_end");
}

const char* message_of(MvccError::Code code) {
  switch (code) {
    case MvccError::Code::kEmptyKey:
      return "etcdserver: key is not provided";
    case MvccError::Code::kCompacted:
      return "etcdserver: mvcc: required revision has been compacted";
    case MvccError::Code::kFutureRevision:
      return "etcdserver: mvcc: required revision is a future revision";
    case MvccError::Code::kKeyNotFound:
      return "etcdserver: key not found";
    case MvccError::Code::kValueProvided:
      return "etcdserver: value is provided";
    case MvccError::Code::kLeaseProvided:
      return "etcdserver: lease is provided";
  }
  return "etcdserver: unknown mvcc error";
}

MvccError::MvccError(Code code) : std::runtime_error(message_of(code)), code_(code) {}

}  // namespace etcdlab::mvcc
