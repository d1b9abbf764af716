#pragma once
// Whether a node snapshot received from a peer is one this member can install (issue 24:
// anything reachable from a socket is hostile until checked). Raft hands an accepted snapshot
// to the apply, which replaces the store with it; a payload that cannot be restored there
// would stop the member, so the transport checks each one before the node is told of it, and
// refuses what fails (peer_transport.h).
//
// A payload passes when (format: state_machine.h):
//   - its header decodes (KvStateMachine::snapshot_header_of: the same checks as the restore);
//   - a store follows it: a header alone is a member's own snapshot over a file store, which
//     only that member can use;
//   - the store part is a whole SQLite database: the magic string, a valid page size, and as
//     many bytes as its header's page count says (a cut or padded stream is caught here, with
//     the offset where the bytes end or the extra ones start);
//   - SQLite's `PRAGMA quick_check` finds its structure sound (sqlite_quick_check.h);
//   - it is a store of this build's store: the same application_id and user_version, and every
//     table a new store has (the store's schema: kv and meta in the reference), with the same
//     columns. What a new store has is read from one made in memory, so a student's store
//     (lab 3) is judged by its own schema. Tables the state machine attaches (leases, auth)
//     are created by the restore if missing, so they are not required.
// What it cannot see: a damaged value inside a sound structure (endpoint hashkv finds those).
//
// I/O: none but `read`. The store part is read in place by SQLite (sqlite_window.h): no copy,
// no file. Its cost grows with the database (quick_check reads every page): run it beside the
// node's thread, never on it.

#include <cstdint>
#include <optional>
#include <string>

#include "sqlite_window.h"

namespace etcdlab::server {

struct SnapshotProblem {
  std::string part;     // "header" or "store"
  uint64_t offset = 0;  // into the payload
  std::string what;
  // One line for a log or a refusal: what is wrong, in which part, at which payload offset.
  std::string describe() const;
};

// nullopt if the node snapshot of `size` bytes that `read(offset, length)` returns could be
// installed here; otherwise the first problem found. What `read` throws is a problem too.
std::optional<SnapshotProblem> check_snapshot_payload(const ReadAt& read, uint64_t size);

}  // namespace etcdlab::server
