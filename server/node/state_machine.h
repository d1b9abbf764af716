#pragma once
// What every member does with committed entries: the MVCC store plus the member list, fed the
// same entries in the same order by every driver (the server's KvNode, the simulator's KV app),
// so every member computes the same state and the same results.
//
// Snapshot format (a node snapshot, what InstallSnapshot carries and the Raft log's snapshot
// file holds):
//
//   fixed64  header length H
//   H bytes  header (etcdlab/codec.h): u64 version (1), u64 member count, then per member:
//            u64 id, bytes name, u64 n + n x bytes peer url, u64 m + m x bytes client url,
//            bool learner
//   rest     the store's own snapshot (KvStore::snapshot: its SQLite database), to the end
//
// The store's consistent index is inside its snapshot; the Raft index and term are in the
// snapshot's metadata, not here.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "etcdlab/mvcc/store.h"
#include "etcdlab/types.h"
#include "requests.h"

namespace etcdlab::server {

struct Member {
  NodeId id = kNoNode;
  std::string name;
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool learner = false;
};

// One applied request: its id (the proposer's), what it asked and what it produced.
struct AppliedRequest {
  uint64_t id = 0;
  Request request;
  Result result;
};

class KvStateMachine {
 public:
  KvStateMachine(std::unique_ptr<mvcc::KvStore> store, const std::vector<Member>& members);

  // Applies committed entries as one store batch and returns the requests they held. Entries
  // the store already holds (index <= consistent_index(), re-delivered after a restart) are
  // skipped, except for what lives in memory: configuration changes update the member list
  // and are handed to `on_conf_change` (Raft needs them again), and members' published
  // attributes update the member list.
  std::vector<AppliedRequest> apply(const std::vector<Entry>& entries,
                                    const std::function<void(const ConfChange&)>& on_conf_change);

  // A physical compaction runs in steps between apply batches (so a huge compaction never
  // stalls the node): true once the last compaction's work is done.
  bool compaction_pending() const { return compacting_; }
  bool compaction_step();

  // The node snapshot (format above). Makes the store durable first: the snapshot lets the
  // Raft log be released below it.
  void write_snapshot(const std::function<void(std::string_view)>& out);
  // Replaces the state with a node snapshot; `read(offset, length)` returns its bytes.
  void restore(const std::function<std::string(uint64_t offset, uint64_t length)>& read);
  // Only the member list from a node snapshot: a restart over a store that is already past
  // the snapshot still needs the members the snapshot folded in.
  void restore_members(const std::function<std::string(uint64_t offset, uint64_t length)>& read);

  uint64_t consistent_index() const { return store_->consistent_index(); }
  std::vector<Member> members() const;
  const mvcc::KvStore& store() const { return *store_; }
  mvcc::KvStore& store() { return *store_; }

 private:
  void apply_conf_change(const ConfChange& cc);
  AppliedRequest apply_normal(const Entry& e);
  void reapply_membership(const Entry& e);

  std::unique_ptr<mvcc::KvStore> store_;
  std::map<NodeId, Member> members_;
  bool compacting_;
};

// Applies one request to the store (the store part of what every member does).
Result apply_request(mvcc::KvStore& store, const Request& request);

// A membership change's context: the member's name and peer URLs (codec of the snapshot header).
std::string encode_member_context(const Member& m);

}  // namespace etcdlab::server
