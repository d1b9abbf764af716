#include "kv_outputs.h"

#include "etcdlab/codec.h"
#include "etcdlab/errors.h"
#include "state_machine.h"

namespace etcdlab::sim {
namespace {

enum class ValueKind : uint64_t { kNone = 0, kPut = 1, kDelete = 2, kCompaction = 3,
                                  kMember = 4, kAlarms = 5, kLeaseGrant = 6, kLeaseRevoke = 7,
                                  kKeepAlive = 8, kTimeToLive = 9, kLeases = 10, kTxn = 11 };

}  // namespace

void encode_kv(Writer& w, const mvcc::KeyValue& kv) {
  w.bytes(kv.key);
  w.u64(static_cast<uint64_t>(kv.create_revision));
  w.u64(static_cast<uint64_t>(kv.mod_revision));
  w.u64(static_cast<uint64_t>(kv.version));
  w.bytes(kv.value);
  w.u64(static_cast<uint64_t>(kv.lease));
}

mvcc::KeyValue decode_kv(Reader& r) {
  mvcc::KeyValue kv;
  kv.key = r.bytes("kv.key");
  kv.create_revision = static_cast<int64_t>(r.u64("kv.create_revision"));
  kv.mod_revision = static_cast<int64_t>(r.u64("kv.mod_revision"));
  kv.version = static_cast<int64_t>(r.u64("kv.version"));
  kv.value = r.bytes("kv.value");
  kv.lease = static_cast<int64_t>(r.u64("kv.lease"));
  return kv;
}

void encode_kvs(Writer& w, const std::vector<mvcc::KeyValue>& kvs) {
  w.u64(kvs.size());
  for (const auto& kv : kvs) encode_kv(w, kv);
}

std::vector<mvcc::KeyValue> decode_kvs(Reader& r) {
  uint64_t n = r.count("kvs", 1);
  std::vector<mvcc::KeyValue> kvs;
  kvs.reserve(n);
  for (uint64_t i = 0; i < n; ++i) kvs.push_back(decode_kv(r));
  return kvs;
}

namespace {

void encode_error(Writer& w, const std::optional<mvcc::MvccError::Code>& e) {
  w.u64(e ? static_cast<uint64_t>(*e) + 1 : 0);
}

std::optional<mvcc::MvccError::Code> decode_error(Reader& r) {
  uint64_t v = r.u64("error");
  if (v == 0) return std::nullopt;
  return static_cast<mvcc::MvccError::Code>(v - 1);
}

void encode_member(Writer& w, const server::Member& m) {
  // The membership context's layout (state_machine.h), without its request id.
  std::string context = server::encode_member_context(m);
  w.bytes(context);
}

server::Member decode_member(Reader& r) {
  return server::decode_member_context(r.bytes("member")).second;
}

void encode_value(Writer& w, const server::Result& result) {
  using server::AlarmResult;
  using server::MembershipResult;
  if (const auto* put = std::get_if<mvcc::PutResult>(&result.value)) {
    w.u64(static_cast<uint64_t>(ValueKind::kPut));
    w.boolean(put->prev_kv.has_value());
    if (put->prev_kv) encode_kv(w, *put->prev_kv);
  } else if (const auto* del = std::get_if<mvcc::DeleteResult>(&result.value)) {
    w.u64(static_cast<uint64_t>(ValueKind::kDelete));
    w.u64(static_cast<uint64_t>(del->deleted));
    encode_kvs(w, del->prev_kvs);
  } else if (std::holds_alternative<server::CompactionResult>(result.value)) {
    w.u64(static_cast<uint64_t>(ValueKind::kCompaction));
  } else if (const auto* member = std::get_if<MembershipResult>(&result.value)) {
    w.u64(static_cast<uint64_t>(ValueKind::kMember));
    encode_member(w, member->member);
  } else if (const auto* alarms = std::get_if<AlarmResult>(&result.value)) {
    w.u64(static_cast<uint64_t>(ValueKind::kAlarms));
    w.u64(alarms->alarms.size());
    for (const auto& a : alarms->alarms) {
      w.u64(a.member);
      w.u64(static_cast<uint64_t>(a.type));
    }
  } else if (const auto* grant = std::get_if<server::LeaseGrantResult>(&result.value)) {
    w.u64(static_cast<uint64_t>(ValueKind::kLeaseGrant));
    w.u64(static_cast<uint64_t>(grant->id));
    w.u64(static_cast<uint64_t>(grant->ttl));
  } else if (std::holds_alternative<server::LeaseRevokeResult>(result.value)) {
    w.u64(static_cast<uint64_t>(ValueKind::kLeaseRevoke));
  } else if (const auto* k = std::get_if<server::LeaseKeepAliveResult>(&result.value)) {
    w.u64(static_cast<uint64_t>(ValueKind::kKeepAlive));
    w.u64(static_cast<uint64_t>(k->id));
    w.u64(static_cast<uint64_t>(k->ttl));
  } else if (const auto* t = std::get_if<server::LeaseTimeToLiveResult>(&result.value)) {
    w.u64(static_cast<uint64_t>(ValueKind::kTimeToLive));
    w.u64(static_cast<uint64_t>(t->id));
    w.u64(static_cast<uint64_t>(t->ttl));
    w.u64(static_cast<uint64_t>(t->granted_ttl));
    w.u64(t->keys.size());
    for (const auto& key : t->keys) w.bytes(key);
  } else if (const auto* l = std::get_if<server::LeasesResult>(&result.value)) {
    w.u64(static_cast<uint64_t>(ValueKind::kLeases));
    w.u64(l->ids.size());
    for (int64_t id : l->ids) w.u64(static_cast<uint64_t>(id));
  } else if (const auto* txn_result = std::get_if<txn::TxnResult>(&result.value)) {
    w.u64(static_cast<uint64_t>(ValueKind::kTxn));
    encode_txn_result(w, *txn_result);
  } else {
    w.u64(static_cast<uint64_t>(ValueKind::kNone));
  }
}

void decode_value(Reader& r, server::Result& result) {
  switch (static_cast<ValueKind>(r.u64("value kind"))) {
    case ValueKind::kPut: {
      mvcc::PutResult put;
      put.revision = result.revision;
      if (r.boolean("has prev_kv")) put.prev_kv = decode_kv(r);
      result.value = std::move(put);
      break;
    }
    case ValueKind::kDelete: {
      mvcc::DeleteResult del;
      del.revision = result.revision;
      del.deleted = static_cast<int64_t>(r.u64("deleted"));
      del.prev_kvs = decode_kvs(r);
      result.value = std::move(del);
      break;
    }
    case ValueKind::kCompaction:
      result.value = server::CompactionResult{};
      break;
    case ValueKind::kMember:
      result.value = server::MembershipResult{decode_member(r)};
      break;
    case ValueKind::kAlarms: {
      server::AlarmResult alarms;
      uint64_t n = r.count("alarms", 2);
      for (uint64_t i = 0; i < n; ++i) {
        server::Alarm a;
        a.member = r.u64("alarm.member");
        a.type = static_cast<server::AlarmType>(r.u64("alarm.type"));
        alarms.alarms.push_back(a);
      }
      result.value = std::move(alarms);
      break;
    }
    case ValueKind::kLeaseGrant: {
      server::LeaseGrantResult g;
      g.id = static_cast<int64_t>(r.u64("lease id"));
      g.ttl = static_cast<int64_t>(r.u64("lease ttl"));
      result.value = g;
      break;
    }
    case ValueKind::kLeaseRevoke:
      result.value = server::LeaseRevokeResult{};
      break;
    case ValueKind::kKeepAlive: {
      server::LeaseKeepAliveResult k;
      k.id = static_cast<int64_t>(r.u64("lease id"));
      k.ttl = static_cast<int64_t>(r.u64("lease ttl"));
      result.value = k;
      break;
    }
    case ValueKind::kTimeToLive: {
      server::LeaseTimeToLiveResult t;
      t.id = static_cast<int64_t>(r.u64("lease id"));
      t.ttl = static_cast<int64_t>(r.u64("lease ttl"));
      t.granted_ttl = static_cast<int64_t>(r.u64("lease granted ttl"));
      uint64_t n = r.count("lease keys", 1);
      for (uint64_t i = 0; i < n; ++i) t.keys.push_back(r.bytes("lease key"));
      result.value = std::move(t);
      break;
    }
    case ValueKind::kLeases: {
      server::LeasesResult l;
      uint64_t n = r.count("leases", 1);
      for (uint64_t i = 0; i < n; ++i) l.ids.push_back(static_cast<int64_t>(r.u64("lease")));
      result.value = std::move(l);
      break;
    }
    case ValueKind::kTxn: {
      txn::TxnResult t = decode_txn_result(r);
      t.revision = result.revision;
      result.value = std::move(t);
      break;
    }
    case ValueKind::kNone:
      break;
    default:
      throw DecodeError("unknown KV output value kind", r.offset());
  }
}

}  // namespace

std::string encode_query(const KvQuery& q) {
  std::string out;
  Writer w(out);
  w.u64(static_cast<uint64_t>(q.kind));
  switch (q.kind) {
    case KvQuery::Kind::kRange:
      w.bytes(q.range.key);
      w.bytes(q.range.range_end);
      w.u64(static_cast<uint64_t>(q.options.limit));
      w.u64(static_cast<uint64_t>(q.options.revision));
      w.u64(static_cast<uint64_t>(q.options.sort_order));
      w.u64(static_cast<uint64_t>(q.options.sort_target));
      w.boolean(q.options.keys_only);
      w.boolean(q.options.count_only);
      break;
    case KvQuery::Kind::kKeepAlive:
      w.u64(static_cast<uint64_t>(q.lease));
      break;
    case KvQuery::Kind::kTimeToLive:
      w.u64(static_cast<uint64_t>(q.lease));
      w.boolean(q.with_keys);
      break;
    case KvQuery::Kind::kLeases:
      break;
  }
  return out;
}

KvQuery decode_query(std::string_view data) {
  Reader r(data);
  KvQuery q;
  uint64_t kind = r.u64("query kind");
  if (kind < 1 || kind > 4) throw DecodeError("unknown query kind", 0);
  q.kind = static_cast<KvQuery::Kind>(kind);
  switch (q.kind) {
    case KvQuery::Kind::kRange:
      q.range.key = r.bytes("query.key");
      q.range.range_end = r.bytes("query.range_end");
      q.options.limit = static_cast<int64_t>(r.u64("query.limit"));
      q.options.revision = static_cast<int64_t>(r.u64("query.revision"));
      q.options.sort_order = static_cast<mvcc::SortOrder>(r.u64("query.sort_order"));
      q.options.sort_target = static_cast<mvcc::SortTarget>(r.u64("query.sort_target"));
      q.options.keys_only = r.boolean("query.keys_only");
      q.options.count_only = r.boolean("query.count_only");
      break;
    case KvQuery::Kind::kKeepAlive:
      q.lease = static_cast<int64_t>(r.u64("query.lease"));
      break;
    case KvQuery::Kind::kTimeToLive:
      q.lease = static_cast<int64_t>(r.u64("query.lease"));
      q.with_keys = r.boolean("query.with_keys");
      break;
    case KvQuery::Kind::kLeases:
      break;
  }
  r.expect_done("query");
  return q;
}

std::string encode_write_output(const server::Result& result) {
  std::string out;
  Writer w(out);
  w.u64(static_cast<uint64_t>(KvOutput::Kind::kWrite));
  w.u64(static_cast<uint64_t>(result.revision));
  encode_error(w, result.store_error);
  w.u64(result.lease_error ? static_cast<uint64_t>(*result.lease_error) + 1 : 0);
  w.u64(static_cast<uint64_t>(result.error));
  encode_value(w, result);
  return out;
}

std::string encode_read_output(const KvReadOutput& o) {
  std::string out;
  Writer w(out);
  w.u64(static_cast<uint64_t>(KvOutput::Kind::kRead));
  encode_error(w, o.error);
  w.u64(static_cast<uint64_t>(o.result.revision));
  w.u64(static_cast<uint64_t>(o.result.count));
  w.boolean(o.result.more);
  encode_kvs(w, o.result.kvs);
  return out;
}

std::string encode_error_output(const server::ApiError& error) {
  std::string out;
  Writer w(out);
  w.u64(static_cast<uint64_t>(KvOutput::Kind::kError));
  w.u64(static_cast<uint64_t>(error.code()));
  w.bytes(error.what());
  return out;
}

KvOutput decode_output(std::string_view data) {
  Reader r(data);
  KvOutput o;
  o.kind = static_cast<KvOutput::Kind>(r.u64("output kind"));
  switch (o.kind) {
    case KvOutput::Kind::kWrite:
      o.write.revision = static_cast<int64_t>(r.u64("revision"));
      o.write.store_error = decode_error(r);
      if (uint64_t le = r.u64("lease error"); le != 0) {
        o.write.lease_error = static_cast<lease::LeaseError::Code>(le - 1);
      }
      o.write.error = static_cast<server::RequestError>(r.u64("request error"));
      decode_value(r, o.write);
      break;
    case KvOutput::Kind::kRead: {
      o.read.error = decode_error(r);
      o.read.result.revision = static_cast<int64_t>(r.u64("revision"));
      o.read.result.count = static_cast<int64_t>(r.u64("count"));
      o.read.result.more = r.boolean("more");
      o.read.result.kvs = decode_kvs(r);
      break;
    }
    case KvOutput::Kind::kError:
      o.code = static_cast<server::GrpcCode>(r.u64("code"));
      o.error = r.bytes("message");
      break;
    default:
      throw DecodeError("unknown KV output kind", 0);
  }
  r.expect_done("KV output");
  return o;
}

}  // namespace etcdlab::sim
