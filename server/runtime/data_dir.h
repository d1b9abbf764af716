#pragma once
// A member's data directory, and the offline work done on one (etcdlabctl snapshot restore and
// snapshot status use this without a server):
//
//   <data-dir>/member/LOCK       held while a process uses the directory
//   <data-dir>/member/cluster    which cluster and member this is (below), written once
//   <data-dir>/member/raft/      the Raft log: WAL segments and snapshot files (lab 1)
//   <data-dir>/member/db         the MVCC store: a SQLite database (lab 3)
//   <data-dir>/member/snap-incoming/  snapshots being received from the leader
//
// member/cluster (etcdlab/codec.h): u64 version (1), u64 cluster id, u64 member id. A restart
// reads it; the --initial-* flags matter only the first time, as with etcd.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../node/membership.h"
#include "../node/state_machine.h"
#include "etcdlab/fs/file_system.h"

namespace etcdlab::runtime {

struct DataDir {
  explicit DataDir(std::string path) : root(std::move(path)) {}
  std::string member() const { return root + "/member"; }
  std::string lock() const { return member() + "/LOCK"; }
  std::string cluster_file() const { return member() + "/cluster"; }
  std::string raft() const { return member() + "/raft"; }
  std::string db() const { return member() + "/db"; }
  std::string root;
};

struct ClusterIds {
  uint64_t cluster = 0;
  uint64_t member = 0;
};

std::optional<ClusterIds> read_cluster_file(FileSystem& fs, const std::string& path);
void write_cluster_file(FileSystem& fs, const std::string& path, const ClusterIds& ids);

// Member and cluster ids are the node's rules (server/node/membership.h).
using server::cluster_id_of;
using server::member_id_of;

// "n1=http://a:1,n1=http://b:2,n2=..." -> (name, peer URLs), in the order given; throws
// std::invalid_argument with the item that is not name=url.
std::vector<std::pair<std::string, std::vector<std::string>>> parse_initial_cluster(
    const std::string& text);
std::vector<std::string> split(const std::string& s, char sep);

// ---- snapshots of the database (maintenance/snapshot, etcdlabctl snapshot ...)
// A saved snapshot is the SQLite database followed by the SHA-256 of its bytes, as etcdctl
// saves etcd's.

struct SnapshotFileStatus {
  uint32_t hash = 0;  // as maintenance/hash computes it, so a live member can be compared
  int64_t revision = 0;
  int64_t total_keys = 0;
  uint64_t total_size = 0;  // the database's bytes (without the hash)
};

// Reads a saved snapshot (a copy of it; the file is not changed). Throws StorageError naming
// the file when it is not a snapshot, or its hash does not match (unless skip_hash_check).
SnapshotFileStatus snapshot_file_status(const std::string& path, bool skip_hash_check = false);

struct RestoreOptions {
  std::string snapshot_path;
  std::string name = "default";
  std::string data_dir;  // default: <name>.etcdlab
  std::string initial_cluster;  // default: name=<the first advertise peer URL>
  std::string initial_cluster_token = "etcd-cluster";
  std::vector<std::string> initial_advertise_peer_urls = {"http://localhost:2380"};
  bool skip_hash_check = false;
};

struct RestoreResult {
  std::string data_dir;
  uint64_t cluster = 0;
  uint64_t member = 0;
  uint64_t index = 0;  // the Raft index the new cluster starts after
  int64_t revision = 0;
};

// Makes a data dir for one member of a NEW cluster holding the snapshot's data (etcdctl
// snapshot restore): every member restored from the same file starts from the same Raft
// snapshot, whose configuration is --initial-cluster. Refuses an existing data dir.
RestoreResult restore_snapshot(const RestoreOptions& options);

// Gives the unused pages of a data dir's database back to the file system (etcdctl defrag
// --data-dir), holding the directory's lock so a running member cannot share it.
void defragment_data_dir(const std::string& data_dir);

}  // namespace etcdlab::runtime
