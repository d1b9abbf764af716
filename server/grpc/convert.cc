// Between protobuf and server/rpc's types (convert.h).
#include "convert.h"

#include "../node/api_error.h"

namespace etcdlab::grpc_door {

using server::ApiError;
using server::GrpcCode;

void fill_header(pb::ResponseHeader* h, gateway::KvService& s, int64_t revision) {
  h->set_cluster_id(s.cluster_id());
  h->set_member_id(s.member_id());
  h->set_revision(revision);
  h->set_raft_term(s.raft_term());
}

void fill_kv(mvccpb::KeyValue* out, const mvcc::KeyValue& kv) {
  out->set_key(kv.key);
  out->set_create_revision(kv.create_revision);
  out->set_mod_revision(kv.mod_revision);
  out->set_version(kv.version);
  out->set_value(kv.value);
  out->set_lease(kv.lease);
}

void fill_event(mvccpb::Event* out, const mvcc::Event& e) {
  out->set_type(e.type == mvcc::Event::Type::kDelete ? mvccpb::Event::DELETE : mvccpb::Event::PUT);
  fill_kv(out->mutable_kv(), e.kv);
  if (e.prev_kv) fill_kv(out->mutable_prev_kv(), *e.prev_kv);
}

mvcc::RangeOptions range_options(const pb::RangeRequest& r) {
  mvcc::RangeOptions o;
  o.limit = r.limit();
  o.revision = r.revision();
  // etcd 3.4 takes numbers outside the enums as their defaults.
  int order = r.sort_order();
  int target = r.sort_target();
  o.sort_order = order >= 0 && order <= 2 ? static_cast<mvcc::SortOrder>(order) : mvcc::SortOrder::kNone;
  o.sort_target = target >= 0 && target <= 4 ? static_cast<mvcc::SortTarget>(target)
                                             : mvcc::SortTarget::kKey;
  o.keys_only = r.keys_only();
  o.count_only = r.count_only();
  o.min_mod_revision = r.min_mod_revision();
  o.max_mod_revision = r.max_mod_revision();
  o.min_create_revision = r.min_create_revision();
  o.max_create_revision = r.max_create_revision();
  return o;
}

server::PutRequest put_request(const pb::PutRequest& r) {
  server::PutRequest p;
  p.key = r.key();
  p.value = r.value();
  p.lease = r.lease();
  p.options.prev_kv = r.prev_kv();
  p.options.ignore_value = r.ignore_value();
  p.options.ignore_lease = r.ignore_lease();
  return p;
}

server::DeleteRangeRequest delete_request(const pb::DeleteRangeRequest& r) {
  server::DeleteRangeRequest d;
  d.range = {r.key(), r.range_end()};
  d.prev_kv = r.prev_kv();
  return d;
}

namespace {

constexpr int kMaxDepth = 200;  // as the JSON door's (txn_handlers.cc)

txn::Compare compare(const pb::Compare& c) {
  using txn::CompareResult;
  using txn::CompareTarget;
  txn::Compare out;
  int result = c.result();
  int target = c.target();
  if (result < 0 || result > 3 || target < 0 || target > 4) {
    // etcd stores any number and its compare then holds (an unknown operator) or reads a
    // zero (an unknown target); etcdlab refuses numbers it has no meaning for.
    throw ApiError(GrpcCode::kInvalidArgument, "etcdlab: unknown compare result or target");
  }
  out.result = static_cast<CompareResult>(result);
  out.target = static_cast<CompareTarget>(target);
  out.key = c.key();
  out.range_end = c.range_end();
  switch (c.target_union_case()) {
    case pb::Compare::kVersion:
      out.operand = CompareTarget::kVersion;
      out.number = c.version();
      break;
    case pb::Compare::kCreateRevision:
      out.operand = CompareTarget::kCreate;
      out.number = c.create_revision();
      break;
    case pb::Compare::kModRevision:
      out.operand = CompareTarget::kMod;
      out.number = c.mod_revision();
      break;
    case pb::Compare::kValue:
      out.operand = CompareTarget::kValue;
      out.value = c.value();
      break;
    case pb::Compare::kLease:
      out.operand = CompareTarget::kLease;
      out.number = c.lease();
      break;
    case pb::Compare::TARGET_UNION_NOT_SET:
      break;
  }
  return out;
}

server::TxnRequest txn_at(const pb::TxnRequest& r, int depth);

txn::RequestOp op(const pb::RequestOp& o, int depth) {
  switch (o.request_case()) {
    case pb::RequestOp::kRequestRange: {
      txn::RangeOp range;
      range.range = {o.request_range().key(), o.request_range().range_end()};
      range.options = range_options(o.request_range());
      range.serializable = o.request_range().serializable();
      return range;
    }
    case pb::RequestOp::kRequestPut: {
      server::PutRequest p = put_request(o.request_put());
      txn::PutOp put;
      put.key = std::move(p.key);
      put.value = std::move(p.value);
      put.lease = p.lease;
      put.options = p.options;
      return put;
    }
    case pb::RequestOp::kRequestDeleteRange: {
      txn::DeleteOp del;
      del.range = {o.request_delete_range().key(), o.request_delete_range().range_end()};
      del.prev_kv = o.request_delete_range().prev_kv();
      return del;
    }
    case pb::RequestOp::kRequestTxn:
      if (depth >= kMaxDepth) {
        throw ApiError(GrpcCode::kInvalidArgument,
                       txn::message_of(txn::TxnError::Code::kTooManyOps));
      }
      return std::make_shared<const txn::TxnRequest>(txn_at(o.request_txn(), depth + 1));
    case pb::RequestOp::REQUEST_NOT_SET:
      break;
  }
  return std::monostate{};  // validation answers etcd's "key not found"
}

server::TxnRequest txn_at(const pb::TxnRequest& r, int depth) {
  server::TxnRequest t;
  t.compare.reserve(r.compare_size());
  for (const auto& c : r.compare()) t.compare.push_back(compare(c));
  t.success.reserve(r.success_size());
  for (const auto& o : r.success()) t.success.push_back(op(o, depth));
  t.failure.reserve(r.failure_size());
  for (const auto& o : r.failure()) t.failure.push_back(op(o, depth));
  return t;
}

}  // namespace

server::TxnRequest txn_request(const pb::TxnRequest& r) { return txn_at(r, 0); }

void fill_range(pb::RangeResponse* out, const mvcc::RangeResult& r) {
  out->mutable_kvs()->Reserve(static_cast<int>(r.kvs.size()));
  for (const auto& kv : r.kvs) fill_kv(out->add_kvs(), kv);
  out->set_more(r.more);
  out->set_count(r.count);
}

void fill_put(pb::PutResponse* out, const mvcc::PutResult& r) {
  if (r.prev_kv) fill_kv(out->mutable_prev_kv(), *r.prev_kv);
}

void fill_delete(pb::DeleteRangeResponse* out, const mvcc::DeleteResult& r) {
  out->set_deleted(r.deleted);
  for (const auto& kv : r.prev_kvs) fill_kv(out->add_prev_kvs(), kv);
}

void fill_txn(pb::TxnResponse* out, const txn::TxnResult& r) {
  out->set_succeeded(r.succeeded);
  for (const txn::ResponseOp& op : r.responses) {
    pb::ResponseOp* one = out->add_responses();
    // A sub-response's header carries the revision alone; a nested txn's is empty (etcd
    // never fills it).
    if (const auto* range = std::get_if<mvcc::RangeResult>(&op)) {
      pb::RangeResponse* x = one->mutable_response_range();
      x->mutable_header()->set_revision(range->revision);
      fill_range(x, *range);
    } else if (const auto* put = std::get_if<mvcc::PutResult>(&op)) {
      pb::PutResponse* x = one->mutable_response_put();
      x->mutable_header()->set_revision(put->revision);
      fill_put(x, *put);
    } else if (const auto* del = std::get_if<mvcc::DeleteResult>(&op)) {
      pb::DeleteRangeResponse* x = one->mutable_response_delete_range();
      x->mutable_header()->set_revision(del->revision);
      fill_delete(x, *del);
    } else if (const auto* nested = std::get_if<std::shared_ptr<txn::TxnResult>>(&op)) {
      pb::TxnResponse* x = one->mutable_response_txn();
      x->mutable_header();
      fill_txn(x, **nested);
    }
  }
}

void fill_member(pb::Member* out, const server::Member& m) {
  out->set_id(m.id);
  out->set_name(m.name);
  for (const auto& u : m.peer_urls) out->add_peerurls(u);
  for (const auto& u : m.client_urls) out->add_clienturls(u);
  out->set_islearner(m.learner);
}

}  // namespace etcdlab::grpc_door
