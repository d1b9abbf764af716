#pragma once
// File descriptors: the process's limit, and the share kept for the storage.
//
// Out of descriptors, a member used to die: the next file the storage opened (a snapshot's
// .tmp, a WAL segment) failed with EMFILE, which is a storage failure, which stops the member.
// Now the listeners refuse a connection whose descriptor is too close to the limit: the last
// `reserve` descriptors are only ever used by files, so storage does not fail for lack of one
// while clients and peers are refused (and counted) instead.

#include <cstdint>

namespace etcdlab::runtime {

struct DescriptorBudget {
  uint64_t limit = 0;    // RLIMIT_NOFILE's soft limit (0: unknown, nothing refused)
  uint64_t reserve = 0;  // descriptors below the limit kept for files

  // Whether a freshly accepted connection with descriptor `fd` may be kept. Descriptors are
  // handed out lowest first, so `fd` is about how many are open.
  bool allows(int fd) const {
    return limit == 0 || static_cast<uint64_t>(fd) + reserve < limit;
  }
};

// Raises the soft RLIMIT_NOFILE to the hard limit (a thousand clients need a thousand
// descriptors) and returns the budget: the limit now in force, and a reserve of a quarter of it
// (at most 64, at least 8): the WAL, SQLite's three files, a snapshot being written, a copy for
// a snapshot download, staged snapshots.
DescriptorBudget raise_open_file_limit();

}  // namespace etcdlab::runtime
