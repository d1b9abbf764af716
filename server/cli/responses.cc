#include "responses.h"

#include "../gateway/json_fields.h"
#include "client.h"

namespace etcdlab::cli {
namespace {

namespace json = boost::json;
using gateway::get_array;
using gateway::get_bool;
using gateway::get_bytes;
using gateway::get_int;
using gateway::get_object;
using gateway::get_uint;

std::string get_string(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
}

std::vector<std::string> get_strings(const json::object& o, std::string_view name) {
  std::vector<std::string> out;
  if (const json::array* a = get_array(o, name)) {
    for (const auto& v : *a) out.push_back(v.is_string() ? std::string(v.as_string()) : "");
  }
  return out;
}

}  // namespace

ResponseHeader decode_header(const json::object& body) {
  ResponseHeader h;
  if (const json::object* o = get_object(body, "header")) {
    h.cluster_id = get_uint(*o, "cluster_id");
    h.member_id = get_uint(*o, "member_id");
    h.revision = get_int(*o, "revision");
    h.raft_term = get_uint(*o, "raft_term");
  }
  return h;
}

KeyValue decode_kv(const json::object& o) {
  KeyValue kv;
  kv.key = get_bytes(o, "key");
  kv.create_revision = get_int(o, "create_revision");
  kv.mod_revision = get_int(o, "mod_revision");
  kv.version = get_int(o, "version");
  kv.value = get_bytes(o, "value");
  kv.lease = get_int(o, "lease");
  return kv;
}

namespace {

std::vector<KeyValue> decode_kvs(const json::object& body, std::string_view name) {
  std::vector<KeyValue> out;
  if (const json::array* a = get_array(body, name)) {
    for (const auto& v : *a) {
      if (v.is_object()) out.push_back(decode_kv(v.as_object()));
    }
  }
  return out;
}

Member decode_member(const json::object& o) {
  Member m;
  m.id = get_uint(o, "ID");
  m.name = get_string(o, "name");
  m.peer_urls = get_strings(o, "peerURLs");
  m.client_urls = get_strings(o, "clientURLs");
  m.is_learner = get_bool(o, "isLearner");
  return m;
}

std::vector<Member> decode_members(const json::object& body) {
  std::vector<Member> out;
  if (const json::array* a = get_array(body, "members")) {
    for (const auto& v : *a) {
      if (v.is_object()) out.push_back(decode_member(v.as_object()));
    }
  }
  return out;
}

}  // namespace

RangeResponse decode_range(const json::object& body) {
  RangeResponse r;
  r.header = decode_header(body);
  r.kvs = decode_kvs(body, "kvs");
  r.more = get_bool(body, "more");
  r.count = get_int(body, "count");
  return r;
}

PutResponse decode_put(const json::object& body) {
  PutResponse r;
  r.header = decode_header(body);
  if (const json::object* prev = get_object(body, "prev_kv")) r.prev_kv = decode_kv(*prev);
  return r;
}

DeleteRangeResponse decode_delete_range(const json::object& body) {
  DeleteRangeResponse r;
  r.header = decode_header(body);
  r.deleted = get_int(body, "deleted");
  r.prev_kvs = decode_kvs(body, "prev_kvs");
  return r;
}

TxnResponse decode_txn(const json::object& body) {
  TxnResponse r;
  r.header = decode_header(body);
  r.succeeded = get_bool(body, "succeeded");
  if (const json::array* a = get_array(body, "responses")) {
    for (const auto& v : *a) {
      const json::object* o = v.if_object();
      TxnOpResponse op;
      if (!o) throw EtcdError("unexpected txn response: " + json::serialize(v));
      if (const json::object* range = get_object(*o, "response_range")) {
        op.kind = TxnOpResponse::Kind::kRange;
        op.range = decode_range(*range);
      } else if (const json::object* put = get_object(*o, "response_put")) {
        op.kind = TxnOpResponse::Kind::kPut;
        op.put = decode_put(*put);
      } else if (const json::object* del = get_object(*o, "response_delete_range")) {
        op.kind = TxnOpResponse::Kind::kDeleteRange;
        op.delete_range = decode_delete_range(*del);
      } else {
        throw EtcdError("unexpected txn response: " + json::serialize(v));
      }
      r.responses.push_back(std::move(op));
    }
  }
  return r;
}

CompactionResponse decode_compaction(const json::object& body) {
  return CompactionResponse{decode_header(body)};
}

MemberListResponse decode_member_list(const json::object& body) {
  return MemberListResponse{decode_header(body), decode_members(body)};
}

MemberAddResponse decode_member_add(const json::object& body) {
  MemberAddResponse r;
  r.header = decode_header(body);
  if (const json::object* m = get_object(body, "member")) r.member = decode_member(*m);
  r.members = decode_members(body);
  return r;
}

MemberChangeResponse decode_member_change(const json::object& body) {
  return MemberChangeResponse{decode_header(body), decode_members(body)};
}

AlarmResponse decode_alarm(const json::object& body) {
  AlarmResponse r;
  if (get_object(body, "header")) r.header = decode_header(body);
  if (const json::array* a = get_array(body, "alarms")) {
    for (const auto& v : *a) {
      if (!v.is_object()) continue;
      const json::object& o = v.as_object();
      std::string type = get_string(o, "alarm");
      r.alarms.push_back({get_uint(o, "memberID"), type.empty() ? "NONE" : type});
    }
  }
  return r;
}

int alarm_type_number(const std::string& name) {
  if (name == "NOSPACE") return 1;
  if (name == "CORRUPT") return 2;
  return 0;
}

StatusResponse decode_status(const json::object& body) {
  StatusResponse r;
  r.header = decode_header(body);
  r.version = get_string(body, "version");
  r.db_size = get_int(body, "dbSize");
  r.leader = get_uint(body, "leader");
  r.raft_index = get_uint(body, "raftIndex");
  r.raft_term = get_uint(body, "raftTerm");
  r.raft_applied_index = get_uint(body, "raftAppliedIndex");
  r.errors = get_strings(body, "errors");
  r.db_size_in_use = get_int(body, "dbSizeInUse");
  r.is_learner = get_bool(body, "isLearner");
  return r;
}

LeaseGrantResponse decode_lease_grant(const json::object& body) {
  LeaseGrantResponse r;
  r.header = decode_header(body);
  r.id = get_int(body, "ID");
  r.ttl = get_int(body, "TTL");
  r.error = get_string(body, "error");
  return r;
}

LeaseRevokeResponse decode_lease_revoke(const json::object& body) {
  return LeaseRevokeResponse{decode_header(body)};
}

LeaseKeepAliveResponse decode_lease_keep_alive(const json::object& line) {
  if (auto it = line.find("error"); it != line.end()) {
    // An error after answers: {"error": {"grpc_code": N, "message": "<msg>", ...}} (3.4's
    // gateway, and etcdlab's), {"error": {"code": N, "message": "<msg>"}} (3.6's).
    const json::object* inner = it->value().if_object();
    std::string message = get_string(inner ? *inner : line, "message");
    throw EtcdError(message.empty() ? json::serialize(line) : message);
  }
  const json::object* result = get_object(line, "result");
  if (!result) throw EtcdError("unexpected keep-alive answer: " + json::serialize(line));
  LeaseKeepAliveResponse r;
  r.header = decode_header(*result);
  r.id = get_int(*result, "ID");
  r.ttl = get_int(*result, "TTL");
  return r;
}

LeaseTimeToLiveResponse decode_lease_time_to_live(const json::object& body) {
  LeaseTimeToLiveResponse r;
  r.header = decode_header(body);
  r.id = get_int(body, "ID");
  r.ttl = get_int(body, "TTL");
  r.granted_ttl = get_int(body, "grantedTTL");
  if (const json::array* a = get_array(body, "keys")) {
    for (const auto& v : *a) {
      if (v.is_string()) r.keys.push_back(gateway::base64_decode(v.as_string()));
    }
  }
  return r;
}

LeaseLeasesResponse decode_lease_leases(const json::object& body) {
  LeaseLeasesResponse r;
  r.header = decode_header(body);
  if (const json::array* a = get_array(body, "leases")) {
    for (const auto& v : *a) {
      if (v.is_object()) r.ids.push_back(get_int(v.as_object(), "ID"));
    }
  }
  return r;
}

}  // namespace etcdlab::cli
