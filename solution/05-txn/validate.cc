// Lab 5, part A: what etcd 3.4 checks before a txn goes into the log (its gRPC layer's
// checkTxnRequest, checkRequestOp and checkIntervals).
#include <algorithm>
#include <set>

#include "etcdlab/broken.h"
#include "etcdlab/mvcc/errors.h"
#include "etcdlab/txn/txn.h"

namespace etcdlab::txn {
namespace {

void check_txn(const TxnRequest& r, size_t max_ops);

void check_op(const RequestOp& op, size_t budget) {
  using mvcc::MvccError;
  if (const auto* range = std::get_if<RangeOp>(&op)) {
    if (range->range.key.empty()) throw MvccError(MvccError::Code::kEmptyKey);
  } else if (const auto* put = std::get_if<PutOp>(&op)) {
    if (put->key.empty()) throw MvccError(MvccError::Code::kEmptyKey);
    if (put->options.ignore_value && !put->value.empty()) {
      throw MvccError(MvccError::Code::kValueProvided);
    }
    if (put->options.ignore_lease && put->lease != 0) {
      throw MvccError(MvccError::Code::kLeaseProvided);
    }
  } else if (const auto* del = std::get_if<DeleteOp>(&op)) {
    if (del->range.key.empty()) throw MvccError(MvccError::Code::kEmptyKey);
  } else if (const auto* nested = std::get_if<NestedTxn>(&op); nested && *nested) {
    check_txn(**nested, budget);
  } else {
    throw TxnError(TxnError::Code::kEmptyOp);
  }
}

void check_txn(const TxnRequest& r, size_t max_ops) {
  size_t longest = std::max({r.compare.size(), r.success.size(), r.failure.size()});
  if (ETCDLAB_BROKEN("op-count-summed")) {
    longest = r.compare.size() + r.success.size() + r.failure.size();
  }
  if (longest > max_ops) throw TxnError(TxnError::Code::kTooManyOps);
  for (const Compare& c : r.compare) {
    if (c.key.empty()) throw mvcc::MvccError(mvcc::MvccError::Code::kEmptyKey);
  }
  size_t budget = ETCDLAB_BROKEN("nested-budget-not-shared") ? max_ops : max_ops - longest;
  for (const RequestOp& op : r.success) check_op(op, budget);
  for (const RequestOp& op : r.failure) check_op(op, budget);
}

// The keys a list (with its nested txns) puts, and the ranges it deletes, as [begin, end).
struct ListWrites {
  std::set<std::string> puts;
  std::vector<mvcc::KeyRange> deletes;

  bool deleted(const std::string& key) const {
    // A range given as [key, "\0") or with its end before its key matches no point here, as
    // in etcd's interval tree: only ranges with begin <= key < end do.
    return std::any_of(deletes.begin(), deletes.end(), [&](const mvcc::KeyRange& d) {
      return d.key <= key && key < d.range_end;
    });
  }
};

[[noreturn]] void duplicate() { throw TxnError(TxnError::Code::kDuplicateKey); }

ListWrites check_list(const std::vector<RequestOp>& ops) {
  ListWrites w;
  for (const RequestOp& op : ops) {
    if (const auto* del = std::get_if<DeleteOp>(&op)) {
      const mvcc::KeyRange& r = del->range;
      // One key is the range [key, key + "\0").
      w.deletes.push_back({r.key, r.range_end.empty() ? r.key + '\0' : r.range_end});
    }
  }
  if (!ETCDLAB_BROKEN("duplicates-skip-nested")) {
    for (const RequestOp& op : ops) {
      const auto* nested = std::get_if<NestedTxn>(&op);
      if (nested == nullptr || !*nested) continue;
      ListWrites then = check_list((*nested)->success);
      ListWrites otherwise = check_list((*nested)->failure);
      for (const std::string& k : then.puts) {
        if (w.puts.count(k) > 0 || w.deleted(k)) duplicate();
        w.puts.insert(k);
      }
      for (const std::string& k : otherwise.puts) {
        // The same key in both lists of one nested txn is fine: only one of them runs.
        if (w.puts.count(k) > 0 && then.puts.count(k) == 0) duplicate();
        if (w.deleted(k)) duplicate();
        w.puts.insert(k);
      }
      w.deletes.insert(w.deletes.end(), then.deletes.begin(), then.deletes.end());
      w.deletes.insert(w.deletes.end(), otherwise.deletes.begin(), otherwise.deletes.end());
    }
  }
  for (const RequestOp& op : ops) {
    const auto* put = std::get_if<PutOp>(&op);
    if (put == nullptr) continue;
    if (w.puts.count(put->key) > 0) duplicate();
    if (w.deleted(put->key) && !ETCDLAB_BROKEN("put-in-delete-allowed")) duplicate();
    w.puts.insert(put->key);
  }
  return w;
}

}  // namespace

void validate(const TxnRequest& request, size_t max_ops) {
  check_txn(request, max_ops);
  check_list(request.success);
  check_list(request.failure);
}

}  // namespace etcdlab::txn
