// KvNode: transactions (lab 5's txn layer): validation before the log, the read-only path,
// and the quota of the ones that write.
#include <algorithm>

#include "etcdlab/mvcc/errors.h"
#include "kv_node.h"
#include "kv_node_impl.h"
#include "txn_rules.h"

namespace etcdlab::server {
namespace {

constexpr uint64_t kPutOverhead = 64;

uint64_t ops_cost(const std::vector<txn::RequestOp>& ops) {
  uint64_t cost = 0;
  for (const txn::RequestOp& op : ops) {
    if (const auto* put = std::get_if<txn::PutOp>(&op)) {
      cost += put->key.size() + put->value.size() + kPutOverhead;
    } else if (const auto* nested = std::get_if<txn::NestedTxn>(&op); nested && *nested) {
      cost += std::max(ops_cost((*nested)->success), ops_cost((*nested)->failure));
    }
  }
  return cost;
}

}  // namespace

uint64_t quota_cost(const Request& request) {
  if (const auto* put = std::get_if<PutRequest>(&request)) {
    return put->key.size() + put->value.size() + kPutOverhead;
  }
  if (const auto* t = std::get_if<TxnRequest>(&request)) {
    return std::max(ops_cost(t->success), ops_cost(t->failure));
  }
  return 0;
}

TxnPath txn_path(const TxnRequest& t, size_t max_ops) {
  try {
    txn::validate(t, max_ops);
  } catch (const txn::TxnError& e) {
    throw ApiError(GrpcCode::kInvalidArgument, e.what());
  }
  if (!txn::is_read_only(t)) return TxnPath::kLog;
  return txn::is_serializable(t) ? TxnPath::kLocal : TxnPath::kAfterReadIndex;
}

Result read_txn(const mvcc::KvStore& store, const TxnRequest& t) {
  Result result;
  try {
    result.value = txn::execute_read(store, t);
  } catch (const mvcc::MvccError& e) {
    result.store_error = e.code();
  }
  result.revision = store.revision();
  return result;
}

Result txn_without_log(KvStateMachine& sm, const TxnRequest& t, size_t max_ops) {
  try {
    if (txn_path(t, max_ops) == TxnPath::kLog) return sm.apply_request(t);
    return read_txn(sm.store(), t);
  } catch (const mvcc::MvccError& e) {
    Result refused;
    refused.store_error = e.code();
    return refused;
  }
}

void KvNode::Impl::complete_now(uint64_t id, Result result) {
  Completion c;
  c.id = id;
  c.result = std::move(result);
  completions.push_back(std::move(c));
}

uint64_t KvNode::txn(TxnRequest request) {
  auto note = impl_->note_if_viewed([&] { return describe_txn(request); });
  return impl_->noted(impl_->txn_as(std::move(request), std::nullopt, /*check=*/false),
                      std::move(note));
}

uint64_t KvNode::Impl::txn_as(TxnRequest request, std::optional<auth::AuthInfo> who, bool check,
                              uint64_t given_id) {
  auto& r = *this;
  auto take_id = [&] { return given_id != 0 ? given_id : r.new_id(); };
  TxnPath path;
  try {
    path = txn_path(request, r.options.max_txn_ops);
  } catch (const ApiError& e) {
    uint64_t id = take_id();
    r.fail_now(id, e);
    return id;
  } catch (const mvcc::MvccError& e) {
    uint64_t id = take_id();
    Result refused;
    refused.store_error = e.code();
    r.complete_now(id, std::move(refused));
    return id;
  }
  switch (path) {
    case TxnPath::kLog:
      return submit_stamped(std::move(request), std::move(who), given_id);
    case TxnPath::kLocal: {
      uint64_t id = take_id();
      if (auto refused = check ? check_reads(request, who) : std::nullopt) {
        r.fail_now(id, *refused);
      } else {
        r.complete_now(id, read_txn(r.sm.store(), request));
      }
      return id;
    }
    case TxnPath::kAfterReadIndex:
      break;
  }
  PendingRequest p;
  p.what = PendingRequest::What::kRead;
  p.request = std::move(request);
  p.stamp = std::move(who);
  p.check_reads = check;
  return r.track(std::move(p), given_id);
}

}  // namespace etcdlab::server
