#pragma once
// Lab 2: the batch of work a Raft node hands to its driver, and the order it must be done in.

#include <optional>
#include <string>
#include <vector>

#include "etcdlab/raft/config.h"
#include "etcdlab/types.h"

namespace etcdlab {

// A linearizable read is safe at `index`: once the application has applied up to it, the read
// identified by `context` may be served from local state.
struct ReadState {
  uint64_t index = 0;
  std::string context;
  friend bool operator==(const ReadState&, const ReadState&) = default;
};

// What Raft needs done. The driver does it in this order, then calls Raft::advance(ready):
//
//   1. Persist. If `snapshot` is set, install it in the storage (the payload was received with
//      the kSnapshot message that caused it). Append `entries` to the storage (it replaces any
//      conflicting suffix). Save `hard_state` if set. If `must_sync`, sync the storage.
//   2. Send `messages`.
//      A follower or candidate MUST finish step 1 first: its messages acknowledge appends and
//      grant votes, promises that only hold if what they vouch for is durable. A leader's
//      driver may send while its own step 1 is still running (as etcd's server does): Raft
//      counts the leader's own entries toward a commit only after advance() says they are
//      persisted.
//   3. Apply `committed_entries` in order (restoring the state machine from `snapshot` first,
//      if set). Entries are never handed out before they are committed.
//   4. Answer the reads in `read_states` once the applied index reaches each one's index.
//   5. Call advance(ready). Do not call step(), tick() or propose() between ready() and
//      advance().
struct Ready {
  std::optional<SoftState> soft_state;   // set when leader or role changed
  std::optional<HardState> hard_state;   // set when term, vote or commit changed
  std::optional<SnapshotMeta> snapshot;  // a snapshot received from the leader, to install
  std::vector<Entry> entries;            // to append to the storage
  bool must_sync = false;                // term, vote or entries changed: fsync before sending
  std::vector<Message> messages;         // to send (each has `to` set)
  std::vector<Entry> committed_entries;  // to apply, in index order
  std::vector<ReadState> read_states;    // linearizable reads that are now safe to serve

  bool empty() const {
    return !soft_state && !hard_state && !snapshot && entries.empty() && messages.empty() &&
           committed_entries.empty() && read_states.empty();
  }
};

}  // namespace etcdlab
