#include "requests.h"

#include "etcdlab/codec.h"
#include "etcdlab/errors.h"
#include "auth_codec.h"
#include "txn_codec.h"

namespace etcdlab::server {
namespace {

constexpr uint64_t kVersionPlain = 1;   // kinds 1-8, no stamp
constexpr uint64_t kVersionStamped = 2;  // kinds 1-20, then the stamp (auth_codec.h)
enum class Kind : uint64_t {
  kPut = 1,
  kDeleteRange = 2,
  kCompaction = 3,
  kAttributes = 4,
  kAlarm = 5,
  kLeaseGrant = 6,
  kLeaseRevoke = 7,
  kTxn = 8,  // txn_codec.h
};

Request decode_plain(Reader& r, uint64_t kind, size_t at);  // kinds 1-8 (below)

struct Encoder {
  Writer& w;
  void operator()(const PutRequest& r) const {
    w.u64(static_cast<uint64_t>(Kind::kPut));
    w.bytes(r.key);
    w.bytes(r.value);
    w.u64(static_cast<uint64_t>(r.lease));
    w.boolean(r.options.prev_kv);
    w.boolean(r.options.ignore_value);
    w.boolean(r.options.ignore_lease);
  }
  void operator()(const DeleteRangeRequest& r) const {
    w.u64(static_cast<uint64_t>(Kind::kDeleteRange));
    w.bytes(r.range.key);
    w.bytes(r.range.range_end);
    w.boolean(r.prev_kv);
  }
  void operator()(const CompactionRequest& r) const {
    w.u64(static_cast<uint64_t>(Kind::kCompaction));
    w.u64(static_cast<uint64_t>(r.revision));
    w.boolean(r.physical);
  }
  void operator()(const AlarmRequest& r) const {
    w.u64(static_cast<uint64_t>(Kind::kAlarm));
    w.boolean(r.activate);
    w.u64(r.member);
    w.u64(static_cast<uint64_t>(r.alarm));
  }
  void operator()(const LeaseGrantRequest& r) const {
    w.u64(static_cast<uint64_t>(Kind::kLeaseGrant));
    w.u64(static_cast<uint64_t>(r.id));
    w.u64(static_cast<uint64_t>(r.ttl));
  }
  void operator()(const LeaseRevokeRequest& r) const {
    w.u64(static_cast<uint64_t>(Kind::kLeaseRevoke));
    w.u64(static_cast<uint64_t>(r.id));
  }
  void operator()(const TxnRequest& r) const {
    w.u64(static_cast<uint64_t>(Kind::kTxn));
    encode_txn(w, r);
  }
  void operator()(const AttributesRequest& r) const {
    w.u64(static_cast<uint64_t>(Kind::kAttributes));
    w.u64(r.member);
    w.bytes(r.name);
    w.u64(r.client_urls.size());
    for (const auto& u : r.client_urls) w.bytes(u);
  }
  template <typename Auth>
  void operator()(const Auth&) const {}  // (the auth kinds: encode_auth_request)
};

}  // namespace

const char* to_string(AlarmType type) {
  switch (type) {
    case AlarmType::kNone: return "NONE";
    case AlarmType::kNoSpace: return "NOSPACE";
    case AlarmType::kCorrupt: return "CORRUPT";
  }
  return "NONE";
}

std::string encode_request(uint64_t id, const Request& request,
                           const std::optional<auth::AuthStamp>& stamp) {
  bool stamped = stamp.has_value() || is_auth_request(request);
  std::string out;
  Writer w(out);
  w.u64(stamped ? kVersionStamped : kVersionPlain);
  w.u64(id);
  if (!encode_auth_request(w, request)) std::visit(Encoder{w}, request);
  if (stamped) encode_stamp(w, stamp);
  return out;
}

std::pair<uint64_t, Request> decode_request(std::string_view data) {
  DecodedRequest d = decode_stamped_request(data);
  return {d.id, std::move(d.request)};
}

DecodedRequest decode_stamped_request(std::string_view data) {
  Reader r(data);
  uint64_t version = r.u64("request version");
  if (version != kVersionPlain && version != kVersionStamped) {
    throw DecodeError("unknown request version " + std::to_string(version) +
                          " (this build reads versions 1 and 2)", 0);
  }
  uint64_t id = r.u64("request id");
  size_t at = r.offset();
  Request request;
  uint64_t kind = r.u64("request kind");
  if (version == kVersionStamped && kind >= kFirstAuthKind && kind <= kLastAuthKind) {
    request = decode_auth_request(r, kind);
  } else {
    request = decode_plain(r, kind, at);
  }
  DecodedRequest out{id, std::move(request), std::nullopt};
  if (version == kVersionStamped) out.stamp = decode_stamp(r);
  r.expect_done("request");
  return out;
}

namespace {

Request decode_plain(Reader& r, uint64_t kind, size_t at) {
  Request request;
  switch (static_cast<Kind>(kind)) {
    case Kind::kPut: {
      PutRequest p;
      p.key = r.bytes("put.key");
      p.value = r.bytes("put.value");
      p.lease = static_cast<int64_t>(r.u64("put.lease"));
      p.options.prev_kv = r.boolean("put.prev_kv");
      p.options.ignore_value = r.boolean("put.ignore_value");
      p.options.ignore_lease = r.boolean("put.ignore_lease");
      request = std::move(p);
      break;
    }
    case Kind::kDeleteRange: {
      DeleteRangeRequest d;
      d.range.key = r.bytes("delete.key");
      d.range.range_end = r.bytes("delete.range_end");
      d.prev_kv = r.boolean("delete.prev_kv");
      request = std::move(d);
      break;
    }
    case Kind::kCompaction: {
      CompactionRequest c;
      c.revision = static_cast<int64_t>(r.u64("compaction.revision"));
      c.physical = r.boolean("compaction.physical");
      request = c;
      break;
    }
    case Kind::kAttributes: {
      AttributesRequest a;
      a.member = r.u64("attributes.member");
      a.name = r.bytes("attributes.name");
      uint64_t n = r.count("attributes.client_urls", 1);
      for (uint64_t i = 0; i < n; ++i) a.client_urls.push_back(r.bytes("attributes.url"));
      request = std::move(a);
      break;
    }
    case Kind::kAlarm: {
      AlarmRequest a;
      a.activate = r.boolean("alarm.activate");
      a.member = r.u64("alarm.member");
      uint64_t type = r.u64("alarm.type");
      if (type > static_cast<uint64_t>(AlarmType::kCorrupt)) {
        throw DecodeError("unknown alarm type " + std::to_string(type), r.offset());
      }
      a.alarm = static_cast<AlarmType>(type);
      request = a;
      break;
    }
    case Kind::kLeaseGrant: {
      LeaseGrantRequest g;
      g.id = static_cast<int64_t>(r.u64("lease_grant.id"));
      g.ttl = static_cast<int64_t>(r.u64("lease_grant.ttl"));
      request = g;
      break;
    }
    case Kind::kLeaseRevoke: {
      LeaseRevokeRequest v;
      v.id = static_cast<int64_t>(r.u64("lease_revoke.id"));
      request = v;
      break;
    }
    case Kind::kTxn:
      request = decode_txn(r);
      break;
    default:
      throw DecodeError("unknown request kind", at);
  }
  return request;
}

}  // namespace

}  // namespace etcdlab::server
