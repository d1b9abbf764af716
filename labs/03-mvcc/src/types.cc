// Lab 3: the key-range rules of types.h (etcd's error messages are given in errors.h).
#include "etcdlab/mvcc/types.h"
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

}  // namespace etcdlab::mvcc
