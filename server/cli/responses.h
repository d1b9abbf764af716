#pragma once
// The responses etcdlabctl prints, decoded from the gateway's JSON into the shape etcdctl's
// printers get them in (clientv3's responses: etcdserverpb and mvccpb messages, plus etcdctl's
// own epStatus/epHealth). Bytes are raw, int64/uint64 are numbers; a field the gateway left out
// is its zero value. Field order is the proto order, which every printer follows.

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace etcdlab::cli {

struct ResponseHeader {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  int64_t revision = 0;
  uint64_t raft_term = 0;
};

struct KeyValue {
  std::string key;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  std::string value;
  int64_t lease = 0;
};

struct RangeResponse {
  ResponseHeader header;
  std::vector<KeyValue> kvs;
  bool more = false;
  int64_t count = 0;
};

struct PutResponse {
  ResponseHeader header;
  std::optional<KeyValue> prev_kv;
};

struct DeleteRangeResponse {
  ResponseHeader header;
  int64_t deleted = 0;
  std::vector<KeyValue> prev_kvs;
};

// One response of a txn's list (pb.ResponseOp), of the request at its place: a range, put or
// delete-range response whose header has the revision only. (A nested txn's cannot come: etcdctl
// cannot ask for one.)
struct TxnOpResponse {
  enum class Kind { kRange, kPut, kDeleteRange };
  Kind kind = Kind::kRange;
  RangeResponse range;
  PutResponse put;
  DeleteRangeResponse delete_range;
};

struct TxnResponse {
  ResponseHeader header;
  bool succeeded = false;
  std::vector<TxnOpResponse> responses;
};

struct CompactionResponse {
  ResponseHeader header;
};

struct Member {
  uint64_t id = 0;
  std::string name;  // empty until the member has started
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool is_learner = false;
};

struct MemberListResponse {
  ResponseHeader header;
  std::vector<Member> members;
};

struct StatusResponse {
  ResponseHeader header;
  std::string version;
  int64_t db_size = 0;
  uint64_t leader = 0;
  uint64_t raft_index = 0;
  uint64_t raft_term = 0;
  uint64_t raft_applied_index = 0;
  std::vector<std::string> errors;
  int64_t db_size_in_use = 0;
  bool is_learner = false;
};

// member add: the new member, and the members after the change.
struct MemberAddResponse {
  ResponseHeader header;
  Member member;
  std::vector<Member> members;
};

// member remove, update and promote: the members after the change.
struct MemberChangeResponse {
  ResponseHeader header;
  std::vector<Member> members;
};

// One raised alarm; `alarm` is the AlarmType's name ("NOSPACE", "CORRUPT").
struct AlarmMember {
  uint64_t member_id = 0;
  std::string alarm;
};

// etcd 3.4 answers alarm requests without a header (a nil one, over gRPC).
struct AlarmResponse {
  std::optional<ResponseHeader> header;
  std::vector<AlarmMember> alarms;
};

// snapshot status: clientv3/snapshot's Status of a saved file.
struct SnapshotStatus {
  uint32_t hash = 0;
  int64_t revision = 0;
  int64_t total_key = 0;
  int64_t total_size = 0;
};

// etcdctl's epStatus: one endpoint's answer to `endpoint status`.
struct EndpointStatus {
  std::string endpoint;
  StatusResponse status;
};

// etcdctl's epHealth: one endpoint's result in `endpoint health`. `took` is a Go duration
// ("1.35ms"); `error` is empty when healthy.
struct EndpointHealth {
  std::string endpoint;
  bool health = false;
  std::string took;
  std::string error;
};

// ---- leases (clientv3's Lease*Response: the header, then the fields etcdctl prints)

struct LeaseGrantResponse {
  ResponseHeader header;
  int64_t id = 0;
  int64_t ttl = 0;
  std::string error;  // clientv3's Error field, empty (json prints it as "Error":"")
};

struct LeaseRevokeResponse {
  ResponseHeader header;
};

// A keep-alive answer; ttl <= 0 means the lease is gone (unknown, expired or revoked).
struct LeaseKeepAliveResponse {
  ResponseHeader header;
  int64_t id = 0;
  int64_t ttl = 0;
};

// ttl is the remaining time (-1: no such lease, and granted_ttl is 0); keys only when asked.
struct LeaseTimeToLiveResponse {
  ResponseHeader header;
  int64_t id = 0;
  int64_t ttl = 0;
  int64_t granted_ttl = 0;
  std::vector<std::string> keys;
};

struct LeaseLeasesResponse {
  ResponseHeader header;
  std::vector<int64_t> ids;
};

// Decoders of the gateway's bodies (../shared/reference/etcd-v3-json-api.md §1). A field of
// the wrong type throws gateway::GatewayError.
// The pieces: a body's "header" (zero when absent), and one key-value object.
ResponseHeader decode_header(const boost::json::object& body);
KeyValue decode_kv(const boost::json::object& o);
RangeResponse decode_range(const boost::json::object& body);
PutResponse decode_put(const boost::json::object& body);
DeleteRangeResponse decode_delete_range(const boost::json::object& body);
// A response of another kind in the list (a nested txn's) throws EtcdError.
TxnResponse decode_txn(const boost::json::object& body);
CompactionResponse decode_compaction(const boost::json::object& body);
MemberListResponse decode_member_list(const boost::json::object& body);
StatusResponse decode_status(const boost::json::object& body);
MemberAddResponse decode_member_add(const boost::json::object& body);
MemberChangeResponse decode_member_change(const boost::json::object& body);
AlarmResponse decode_alarm(const boost::json::object& body);
LeaseGrantResponse decode_lease_grant(const boost::json::object& body);
LeaseRevokeResponse decode_lease_revoke(const boost::json::object& body);
// One line of the keep-alive stream: {"result": {...}}. A stream error ({"error": ...}, in the
// 3.4 or the 3.6 shape) throws EtcdError with its message.
LeaseKeepAliveResponse decode_lease_keep_alive(const boost::json::object& line);
LeaseTimeToLiveResponse decode_lease_time_to_live(const boost::json::object& body);
LeaseLeasesResponse decode_lease_leases(const boost::json::object& body);
// AlarmType's number in etcdserverpb (NONE 0, NOSPACE 1, CORRUPT 2).
int alarm_type_number(const std::string& name);

}  // namespace etcdlab::cli
