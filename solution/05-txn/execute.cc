// Lab 5, parts B and C: a txn applied at one revision (etcd 3.4's applierV3backend.Txn), and
// the read-only path.
#include <stdexcept>

#include "etcdlab/broken.h"
#include "etcdlab/mvcc/errors.h"
#include "etcdlab/txn/txn.h"

namespace etcdlab::txn {
namespace {

using mvcc::MvccError;

const std::vector<RequestOp>& chosen(const TxnRequest& r, bool succeeded) {
  return succeeded ? r.success : r.failure;
}

// Which list each level takes, decided before anything runs, against the store as it was:
// this level's, then its chosen nested txns' in order (etcd's compareToPath).
void decide(const TxnRequest& r, const RangeReader& read, std::vector<bool>& path) {
  bool ok = true;
  for (const Compare& c : r.compare) {
    if (!compare_holds(c, read)) {
      ok = false;
      break;
    }
  }
  path.push_back(ok);
  for (const RequestOp& op : chosen(r, ok)) {
    if (const auto* nested = std::get_if<NestedTxn>(&op)) decide(**nested, read, path);
  }
}

// The store's state before the txn, for the checks.
struct Before {
  const RangeReader& read;
  int64_t revision;
  int64_t first_revision;  // etcd's FirstRev: the compact revision, -1 when never compacted
  const LeaseExists* lease_exists;
};

// etcd's checkRequests: the chosen operations, nested ones included, against the state before.
// etcd walks them twice, the puts first (checkPut), then the ranges (checkRange), so a txn
// that fails both ways fails as its first bad put, wherever its bad range is.
enum class Pass { kPuts, kRanges };

void check(const TxnRequest& r, const std::vector<bool>& path, size_t& at, const Before& before,
           Pass pass) {
  bool ok = path[at++];
  for (const RequestOp& op : chosen(r, ok)) {
    if (const auto* range = std::get_if<RangeOp>(&op); range && pass == Pass::kRanges) {
      int64_t rev = range->options.revision;
      if (rev == 0) continue;
      if (rev > before.revision) throw MvccError(MvccError::Code::kFutureRevision);
      if (rev < before.first_revision) throw MvccError(MvccError::Code::kCompacted);
    } else if (const auto* put = std::get_if<PutOp>(&op); put && pass == Pass::kPuts) {
      if (put->options.ignore_value || put->options.ignore_lease) {
        if (before.read(mvcc::KeyRange{put->key, ""}, {}).kvs.empty()) {
          throw MvccError(MvccError::Code::kKeyNotFound);
        }
      }
      if (put->lease != 0 && before.lease_exists != nullptr &&
          !ETCDLAB_BROKEN("lease-not-checked") && !(*before.lease_exists)(put->lease)) {
        throw LeaseMissing(put->lease);
      }
    } else if (const auto* nested = std::get_if<NestedTxn>(&op)) {
      check(**nested, path, at, before, pass);
    }
  }
}

// Where a txn's decisions end in `path` (its own, then its chosen nested txns'), for the
// broken variant below.
size_t skip(const TxnRequest& r, const std::vector<bool>& path, size_t at) {
  bool ok = path[at++];
  for (const RequestOp& op : chosen(r, ok)) {
    if (const auto* nested = std::get_if<NestedTxn>(&op)) at = skip(**nested, path, at);
  }
  return at;
}

// Runs the chosen operations. `write` is null on the read-only path.
TxnResult run(const TxnRequest& r, const std::vector<bool>& path, size_t& at,
              const RangeReader& read, mvcc::Write* write, mvcc::KvStore* store) {
  TxnResult result;
  result.succeeded = path[at++];
  for (const RequestOp& op : chosen(r, result.succeeded)) {
    if (const auto* range = std::get_if<RangeOp>(&op)) {
      result.responses.emplace_back(read(range->range, range->options));
    } else if (const auto* nested = std::get_if<NestedTxn>(&op)) {
      if (ETCDLAB_BROKEN("nested-compares-see-own-writes")) {
        // The bug: the nested txn's branches are decided when it is reached, through the
        // write, so its compares see the operations before it.
        std::vector<bool> late;
        decide(**nested, read, late);
        at = skip(**nested, path, at);
        size_t from = 0;
        result.responses.emplace_back(
            std::make_shared<TxnResult>(run(**nested, late, from, read, write, store)));
        continue;
      }
      result.responses.emplace_back(
          std::make_shared<TxnResult>(run(**nested, path, at, read, write, store)));
    } else if (write == nullptr) {
      throw std::logic_error("txn: execute_read given a txn that writes");
    } else if (const auto* put = std::get_if<PutOp>(&op)) {
      if (ETCDLAB_BROKEN("txn-write-per-operation")) {
        // The bug: each write operation commits on its own, at a revision of its own.
        mvcc::PutResult p = write->put(put->key, put->value, put->lease, put->options);
        write->end();
        *write = store->write();
        result.responses.emplace_back(p);
        continue;
      }
      result.responses.emplace_back(write->put(put->key, put->value, put->lease, put->options));
    } else if (const auto* del = std::get_if<DeleteOp>(&op)) {
      result.responses.emplace_back(write->delete_range(del->range, del->prev_kv));
    }
  }
  return result;
}

std::vector<bool> decide_and_check(const TxnRequest& request, const RangeReader& before_read,
                                   const mvcc::KvStore& store, const LeaseExists* lease_exists) {
  std::vector<bool> path;
  decide(request, before_read, path);
  int64_t compacted = store.compact_revision();
  Before before{before_read, store.revision(), compacted > 0 ? compacted : -1, lease_exists};
  for (Pass pass : {Pass::kPuts, Pass::kRanges}) {
    size_t at = 0;
    check(request, path, at, before, pass);
  }
  return path;
}

}  // namespace

TxnResult execute(mvcc::KvStore& store, const TxnRequest& request, const LeaseExists& lease_exists,
                  std::vector<mvcc::Event>* events) {
  RangeReader before = [&](const mvcc::KeyRange& r, const mvcc::RangeOptions& o) {
    return store.range(r, o);
  };
  std::vector<bool> path = decide_and_check(request, before, store, &lease_exists);
  mvcc::Write write = store.write();
  RangeReader in_write = [&](const mvcc::KeyRange& r, const mvcc::RangeOptions& o) {
    if (ETCDLAB_BROKEN("txn-ranges-miss-own-writes")) return store.range(r, o);
    return write.range(r, o);
  };
  size_t at = 0;
  TxnResult result = run(request, path, at, in_write, &write, &store);
  std::vector<mvcc::Event> written = write.end();
  if (events != nullptr) *events = std::move(written);
  result.revision = store.revision();
  return result;
}

bool is_read_only(const TxnRequest& request) {
  auto reads_only = [](const std::vector<RequestOp>& ops) {
    for (const RequestOp& op : ops) {
      if (std::holds_alternative<RangeOp>(op)) continue;
      const auto* nested = std::get_if<NestedTxn>(&op);
      if (nested == nullptr || !*nested) return false;
      if (ETCDLAB_BROKEN("read-only-skips-nested")) continue;  // (a nested put: never logged)
      if (!is_read_only(**nested)) return false;
    }
    return true;
  };
  if (ETCDLAB_BROKEN("read-only-checks-success-only")) return reads_only(request.success);
  return reads_only(request.success) && reads_only(request.failure);
}

bool is_serializable(const TxnRequest& request) {
  auto serializable = [](const std::vector<RequestOp>& ops) {
    for (const RequestOp& op : ops) {
      if (const auto* range = std::get_if<RangeOp>(&op)) {
        if (!range->serializable) return false;
        continue;
      }
      const auto* nested = std::get_if<NestedTxn>(&op);
      if (nested == nullptr || !*nested || !is_serializable(**nested)) return false;
    }
    return true;
  };
  return is_read_only(request) && serializable(request.success) && serializable(request.failure);
}

TxnResult execute_read(const mvcc::KvStore& store, const TxnRequest& request) {
  RangeReader read = [&](const mvcc::KeyRange& r, const mvcc::RangeOptions& o) {
    return store.range(r, o);
  };
  std::vector<bool> path = decide_and_check(request, read, store, nullptr);
  size_t at = 0;
  TxnResult result = run(request, path, at, read, nullptr, nullptr);
  result.revision = store.revision();
  return result;
}

}  // namespace etcdlab::txn
