#pragma once
// Opening a member's data dir at start: the first boot of a new cluster's member, a member
// joining an existing cluster, or a restart.
//
// The first boot commits in a fixed order, so a crash at any step restarts cleanly:
//   1. the Raft log's first entries: one AddVoter per member of --initial-cluster (a new
//      cluster only), written and synced;
//   2. member/cluster (data_dir.h): which cluster and member this is, written to a temporary
//      file, synced, renamed, the directory synced. Its presence is what makes the next start
//      a restart.
// A crash before 2 starts over from the flags: a new cluster's member writes its first entries
// and hard state again (the same bytes at the same indexes: a crash may have kept the entries
// and lost the hard state, or kept a prefix); a joining member asks the cluster again.
// server/tests/bootstrap_crash_test.cc crashes the first boot after each of its steps.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../node/state_machine.h"
#include "config.h"
#include "etcdlab/fs/file_system.h"
#include "etcdlab/fs/posix_file_system.h"
#include "etcdlab/log/wal_storage.h"
#include "etcdlab/mvcc/store.h"

namespace etcdlab::runtime {

struct OpenedMember {
  uint64_t cluster = 0;
  uint64_t id = 0;
  std::unique_ptr<DirectoryLock> lock;  // held while the process uses the data dir
  std::unique_ptr<WalStorage> storage;
  std::string db;  // the MVCC store's database file (the node opens it)
  std::vector<server::Member> members;  // the first boot's members (empty on a restart)
  std::vector<NodeId> voters;           // a new cluster's first boot: its voters
};

// Opens (creating on first boot) the member's data dir for `config` (already resolved).
// Throws std::invalid_argument for flags that name no member, std::runtime_error when an
// existing cluster cannot be joined, StorageError for a damaged data dir. `wal` is the Raft
// log's options (tests that boot many times use small segments: each new one is zero-filled).
OpenedMember open_member(const ServerConfig& config, FileSystem& fs,
                         const WalStorageOptions& wal = {});

// What a member answers a joining member (the peer transport's members frame): the cluster
// id and every member, each as a membership context (state_machine.h) with its id, name and
// peer URLs (a member about to start needs no more).
std::string encode_members_answer(uint64_t cluster, const std::vector<server::Member>& members);
// The answer to a members request from a member with `peer_urls`: empty (refused) unless a
// member has exactly those peer URLs.
std::string answer_members_request(uint64_t cluster, const std::vector<server::Member>& members,
                                   const std::vector<std::string>& peer_urls);
std::pair<uint64_t, std::vector<server::Member>> decode_members_answer(std::string_view data);

}  // namespace etcdlab::runtime
