#pragma once
// One function per RPC of etcd's v3 API, shared by both doors: the JSON gateway
// (server/gateway) and the gRPC services (server/grpc) each only translate their wire form to
// these arguments and the results back, so a request takes the same path into the node
// whichever door it came in by, and gets the same answer or the same ApiError. No JSON and no
// protobuf here. The concurrency recipes (Lock, Election) are in recipes.h, the Auth service's
// RPCs in auth_rpcs.h.
//
// Every RPC that etcd 3.4 checks takes the caller's Credentials (server/node/auth/auth_types.h)
// and has the node decide (design: /work/notes/issue-19-design.md §5): reads on this member
// before reading, writes at apply on every member, member changes and maintenance before the
// work. Those 3.4 leaves open stay open and take none: status, member list, move-leader, lease
// keep-alive, time-to-live and leases (docs/security.md says so).

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

using boost::asio::awaitable;
using gateway::KvService;
using server::Credentials;

// ---- KV. Each write returns its result checked (a failed one throws etcd's error).
// range: READ on the range (after the read barrier); put, delete: WRITE (and READ for
// prev_kv), at apply; compact: none, but a bad token is refused (as 3.4 looks it up); txn:
// every compare and op of both branches, nested ones too (3.4 skips those: not copied).
awaitable<mvcc::RangeResult> range(KvService& s, mvcc::KeyRange keys, mvcc::RangeOptions options,
                                   bool serializable, const Credentials& who);
awaitable<server::Result> put(KvService& s, server::PutRequest request, const Credentials& who);
awaitable<server::Result> delete_range(KvService& s, server::DeleteRangeRequest request,
                                       const Credentials& who);
awaitable<server::Result> compact(KvService& s, server::CompactionRequest request,
                                  const Credentials& who);
awaitable<server::Result> txn(KvService& s, server::TxnRequest request, const Credentials& who);
// The store's revision now: the header of answers that read no revision of their own.
int64_t current_revision(KvService& s);

// ---- Lease. grant: none, a bad token refused; revoke: WRITE on every key attached, at apply.
awaitable<server::Result> lease_grant(KvService& s, server::LeaseGrantRequest request,
                                      const Credentials& who);
awaitable<server::Result> lease_revoke(KvService& s, int64_t id, const Credentials& who);
awaitable<server::LeaseTimeToLiveResult> lease_time_to_live(KvService& s, int64_t id, bool keys);
awaitable<server::LeaseKeepAliveResult> lease_keep_alive(KvService& s, int64_t id);
std::vector<int64_t> lease_leases(KvService& s);

// ---- Cluster. A change is made by the leader: on a follower each door sends it on
// (KvService::forward_to_leader, the caller's token along) before calling this. A change needs
// root.
std::vector<server::Member> member_list(KvService& s);
awaitable<server::Member> member_change(KvService& s, gateway::MemberRequest request,
                                        const Credentials& who);

// ---- Maintenance
enum class AlarmAction { kGet = 0, kActivate = 1, kDeactivate = 2 };
// `action` and `type` as the request's numbers: unknown ones are refused here. No permission
// (3.4: anyone may raise or clear one); a bad token is Unknown "auth: invalid auth token".
awaitable<std::vector<server::Alarm>> alarm(KvService& s, int action, uint64_t member, int type,
                                            const Credentials& who);
// The status, its errors including one line per raised alarm, as etcd words them.
gateway::ServerStatus status(KvService& s);
// The visible key space at the current revision plus the revisions: members that applied the
// same log agree. Hash, HashKV, Defragment and Snapshot need root; refusals are Unknown with
// the auth package's texts ("auth: permission denied"), as 3.4 answers them.
uint32_t hash(KvService& s, const Credentials& who);
// etcd's HashKV: a hash of the key space at `revision` (0: now), with the current and the
// compact revision. Throws etcd's compacted / future revision errors.
struct KvHash {
  uint32_t hash = 0;
  int64_t revision = 0;
  int64_t compact_revision = 0;
};
KvHash hash_kv(KvService& s, int64_t revision, const Credentials& who);
awaitable<void> defragment(KvService& s, const Credentials& who);
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
awaitable<std::unique_ptr<SnapshotReader>> snapshot(KvService& s, const Credentials& who);

// Throws the node's refusal of `who` for `access` (KvService::authorize), if any.
void authorize(KvService& s, const Credentials& who, server::KvNode::Access access,
               const mvcc::KeyRange& keys = {});

}  // namespace etcdlab::rpc
