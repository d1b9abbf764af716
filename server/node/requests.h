#pragma once
// Client requests that go through the Raft log, and their results. A request is encoded into
// an entry's data (the codec of etcdlab/codec.h: a version, the request id, the kind, the
// fields); every member decodes and applies the same bytes, so every member computes the same
// result. Reads (ranges) do not go through the log: they use ReadIndex or are served locally.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api_error.h"
#include "auth/auth_types.h"
#include "etcdlab/lease/errors.h"
#include "etcdlab/mvcc/errors.h"
#include "etcdlab/mvcc/types.h"
#include "etcdlab/txn/txn.h"
#include "etcdlab/types.h"

namespace etcdlab::server {

struct PutRequest {
  std::string key;
  std::string value;
  int64_t lease = 0;
  mvcc::PutOptions options;
};

struct DeleteRangeRequest {
  mvcc::KeyRange range;
  bool prev_kv = false;
};

struct CompactionRequest {
  int64_t revision = 0;
  bool physical = false;  // answer only once superseded versions are gone
};

// A member announces how clients reach it (etcd's "publish"), after it starts.
struct AttributesRequest {
  NodeId member = kNoNode;
  std::string name;
  std::vector<std::string> client_urls;
};

// etcd's alarms: raised by a member (NOSPACE when its backend passes the quota), cleared by an
// operator. Replicated, so every member refuses the same writes.
enum class AlarmType : uint64_t { kNone = 0, kNoSpace = 1, kCorrupt = 2 };
const char* to_string(AlarmType type);  // "NONE", "NOSPACE", "CORRUPT"

struct AlarmRequest {
  bool activate = true;  // false: deactivate
  NodeId member = kNoNode;
  AlarmType alarm = AlarmType::kNoSpace;
};

// A raised alarm: which member raised it, and what.
struct Alarm {
  NodeId member = kNoNode;
  AlarmType type = AlarmType::kNone;
  friend auto operator<=>(const Alarm&, const Alarm&) = default;
};

// A member of the cluster, as the member list holds it.
struct Member {
  NodeId id = kNoNode;
  std::string name;
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool learner = false;
  friend bool operator==(const Member&, const Member&) = default;
};

// etcd's LeaseGrant: `id` is never 0 in the log (the node picks one for a client that asks
// for 0); `ttl` in seconds as asked (the lessor raises it to its minimum).
struct LeaseGrantRequest {
  int64_t id = 0;
  int64_t ttl = 0;
};

// etcd's LeaseRevoke, from a client or from the leader when the lease expired.
struct LeaseRevokeRequest {
  int64_t id = 0;
};

// etcd's Txn (lab 5: etcdlab/txn/txn.h), validated before it is proposed.
using TxnRequest = txn::TxnRequest;

// ---- auth (etcd 3.4's AuthRequests). Admin writes need root once auth is on (except
// AuthEnable while it is off); they are decided at apply, from the entry's stamp, on every
// member. Passwords never reach the log: the rpc layer hashes them on a worker thread.
struct AuthEnableRequest {};
struct AuthDisableRequest {};
struct UserAddRequest {
  std::string name;
  std::string hash;  // bcrypt "$2b$..", never a password
};
struct UserDeleteRequest {
  std::string name;
};
struct UserChangePasswordRequest {
  std::string name;
  std::string hash;
};
struct UserGrantRoleRequest {  // (field names as etcd's proto: user, role)
  std::string user;
  std::string role;
};
struct UserRevokeRoleRequest {  // (name, role)
  std::string name;
  std::string role;
};
struct RoleAddRequest {
  std::string name;
};
struct RoleDeleteRequest {
  std::string role;
};
struct RoleGrantPermissionRequest {  // (name, perm)
  std::string name;
  auth::Permission perm;
};
struct RoleRevokePermissionRequest {  // (role, key, range_end)
  std::string role;
  std::string key;
  std::string range_end;
};
// Registers token "<token_prefix>.<raft index>" on every member if the auth revision is still
// checked_revision (else the result's auth_error is kAuthOldRevision and the rpc retries).
// The rpc layer checked the password against the hash auth_lookup gave it at that revision.
struct AuthenticateRequest {
  std::string name;
  std::string token_prefix;
  uint64_t checked_revision = 0;
};

using Request = std::variant<PutRequest, DeleteRangeRequest, CompactionRequest, AttributesRequest,
                             AlarmRequest, LeaseGrantRequest, LeaseRevokeRequest, TxnRequest,
                             AuthEnableRequest, AuthDisableRequest, UserAddRequest,
                             UserDeleteRequest, UserChangePasswordRequest, UserGrantRoleRequest,
                             UserRevokeRoleRequest, RoleAddRequest, RoleDeleteRequest,
                             RoleGrantPermissionRequest, RoleRevokePermissionRequest,
                             AuthenticateRequest>;

// Whether a request is one of the auth kinds above (AuthEnableRequest to AuthenticateRequest).
bool is_auth_request(const Request& request);

// Errors a request can end with that are neither the store's (mvcc::MvccError) nor the
// lessor's (lease::LeaseError).
enum class RequestError {
  kNone,
  kNoSpace = 2,  // "etcdserver: mvcc: database space exceeded" (a NOSPACE alarm is raised)
};

struct CompactionResult {};
struct AttributesResult {};
// A membership change was applied: the member it concerned.
struct MembershipResult {
  Member member;
};
// An alarm request was answered: the alarms it raised, cleared or (for AlarmType::kNone)
// listed, as etcd's AlarmResponse lists them.
struct AlarmResult {
  std::vector<Alarm> alarms;
};
struct LeaseGrantResult {
  int64_t id = 0;
  int64_t ttl = 0;  // as granted (after the minimum)
};
struct LeaseRevokeResult {};
// A keep-alive's answer (the leader's): the lease and its TTL, 0 when the lease is unknown or
// its time is up (etcd answers the ID alone then).
struct LeaseKeepAliveResult {
  int64_t id = 0;
  int64_t ttl = 0;
};
// A time-to-live answer (the leader's clock): `ttl` the seconds left, -1 for an unknown lease.
struct LeaseTimeToLiveResult {
  int64_t id = 0;
  int64_t ttl = -1;
  int64_t granted_ttl = 0;
  std::vector<std::string> keys;
};
struct LeasesResult {
  std::vector<int64_t> ids;
};
// An auth request applied: Authenticate's token (empty for the others).
struct AuthResult {
  std::string token;
};

// What applying a request produced, as every member computes it.
struct Result {
  int64_t revision = 0;  // the store's revision after the request (the response header's)
  std::optional<mvcc::MvccError::Code> store_error;
  std::optional<lease::LeaseError::Code> lease_error;
  RequestError error = RequestError::kNone;
  // Refused by auth (etcd's code and text): permission denied, a stale stamp, an auth rule.
  std::optional<ApiError> auth_error;
  std::variant<std::monostate, mvcc::PutResult, mvcc::DeleteResult, CompactionResult,
               AttributesResult, MembershipResult, AlarmResult, LeaseGrantResult,
               LeaseRevokeResult, LeaseKeepAliveResult, LeaseTimeToLiveResult, LeasesResult,
               txn::TxnResult, AuthResult>
      value;
  bool ok() const {
    return !store_error && !lease_error && error == RequestError::kNone && !auth_error;
  }
};

// The entry data for a request, and back. decode_request throws DecodeError.
//
// Versions: 1 is the version byte, the request id, the kind and its fields (kinds 1-8);
// 2 adds the auth kinds (9-20) and a trailing stamp (bool present, then bytes user, u64 auth
// revision). An entry is written as version 1 when it can be (a kind 1-8 without a stamp), so
// a cluster with auth off writes the bytes it always wrote; both versions are read.
std::string encode_request(uint64_t id, const Request& request,
                           const std::optional<auth::AuthStamp>& stamp = std::nullopt);
std::pair<uint64_t, Request> decode_request(std::string_view data);
struct DecodedRequest {
  uint64_t id = 0;
  Request request;
  std::optional<auth::AuthStamp> stamp;
};
DecodedRequest decode_stamped_request(std::string_view data);

}  // namespace etcdlab::server
