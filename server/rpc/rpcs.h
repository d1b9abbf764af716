#pragma once
// One function per RPC of etcd's v3 API, shared by both doors: the JSON gateway
// (server/gateway) and the gRPC services (server/grpc) each only translate their wire form to
// these arguments and the results back, so a request takes the same path into the node
// whichever door it came in by, and gets the same answer or the same ApiError. No JSON and no
// protobuf here. The concurrency recipes (Lock, Election) are in recipes.h.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../gateway/service.h"
#include "etcdlab/sha256.h"
#include "errors.h"

namespace etcdlab::rpc {

using gateway::KvService;
using boost::asio::awaitable;

// ---- KV. Each write returns its result checked (a failed one throws etcd's error).
awaitable<mvcc::RangeResult> range(KvService& s, mvcc::KeyRange keys, mvcc::RangeOptions options,
                                   bool serializable);
awaitable<server::Result> put(KvService& s, server::PutRequest request);
awaitable<server::Result> delete_range(KvService& s, server::DeleteRangeRequest request);
awaitable<server::Result> compact(KvService& s, server::CompactionRequest request);
awaitable<server::Result> txn(KvService& s, server::TxnRequest request);
// The store's revision now: the header of answers that read no revision of their own.
int64_t current_revision(KvService& s);

// ---- Lease
awaitable<server::Result> lease_grant(KvService& s, server::LeaseGrantRequest request);
awaitable<server::Result> lease_revoke(KvService& s, int64_t id);
awaitable<server::LeaseTimeToLiveResult> lease_time_to_live(KvService& s, int64_t id, bool keys);
awaitable<server::LeaseKeepAliveResult> lease_keep_alive(KvService& s, int64_t id);
std::vector<int64_t> lease_leases(KvService& s);

// ---- Cluster. A change is made by the leader: on a follower each door sends it on
// (KvService::forward_to_leader) before calling this.
std::vector<server::Member> member_list(KvService& s);
awaitable<server::Member> member_change(KvService& s, gateway::MemberRequest request);

// ---- Maintenance
enum class AlarmAction { kGet = 0, kActivate = 1, kDeactivate = 2 };
// `action` and `type` as the request's numbers: unknown ones are refused here.
awaitable<std::vector<server::Alarm>> alarm(KvService& s, int action, uint64_t member, int type);
// The status, its errors including one line per raised alarm, as etcd words them.
gateway::ServerStatus status(KvService& s);
// The visible key space at the current revision plus the revisions: members that applied the
// same log agree.
uint32_t hash(KvService& s);
// etcd's HashKV: a hash of the key space at `revision` (0: now), with the current and the
// compact revision. Throws etcd's compacted / future revision errors.
struct KvHash {
  uint32_t hash = 0;
  int64_t revision = 0;
  int64_t compact_revision = 0;
};
KvHash hash_kv(KvService& s, int64_t revision);
awaitable<void> defragment(KvService& s);
// etcd's MoveLeader: this member (the leader) hands leadership to `to` and waits until it leads.
awaitable<void> move_leader(KvService& s, uint64_t to);

// Snapshot: the database in pieces, then its SHA-256 (as etcd's Snapshot stream sends it).
class SnapshotReader {
 public:
  explicit SnapshotReader(std::unique_ptr<gateway::DbSnapshot> db);
  struct Piece {
    std::string blob;
    uint64_t remaining_bytes = 0;
  };
  // The next piece (at most `max` bytes), the digest after the last one, then nullopt.
  std::optional<Piece> next(uint64_t max);

 private:
  std::unique_ptr<gateway::DbSnapshot> db_;
  uint64_t offset_ = 0;
  Sha256 sha_;
  bool done_ = false;
};
awaitable<std::unique_ptr<SnapshotReader>> snapshot(KvService& s);

}  // namespace etcdlab::rpc
