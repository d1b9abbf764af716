// Lab 5, part D: the lock recipe (etcd's concurrency.Mutex, with etcd 3.5's session check).
#include "etcdlab/txn/lock.h"

#include <fmt/format.h>

#include <stdexcept>

#include "etcdlab/broken.h"

namespace etcdlab::txn {

enum class Phase { kStart, kTxn, kPredecessor, kWaiting, kSelfCheck, kDone };

struct LockRecipe::Impl {
  std::string prefix;
  std::string key;
  int64_t lease = 0;
  int64_t revision = 0;
  Phase phase = Phase::kStart;

  void expect(Phase p, const char* call) const {
    if (phase != p) throw std::logic_error(fmt::format("LockRecipe::{} called out of turn", call));
  }

  // The prefix's keys created before mine, the last of them (Go's WithLastCreate and
  // WithMaxCreateRev).
  LockStep predecessor() {
    phase = Phase::kPredecessor;
    LockStep step;
    step.kind = LockStep::Kind::kRange;
    step.range = {prefix, mvcc::prefix_end(prefix)};
    step.options.sort_target = mvcc::SortTarget::kCreate;
    step.options.sort_order = mvcc::SortOrder::kDescend;
    step.options.limit = 1;
    step.options.max_create_revision = revision - 1;
    if (ETCDLAB_BROKEN("lock-waits-for-the-holder")) {
      // The bug: everyone waits for the first key (the holder), so a release wakes them all.
      step.options.sort_order = mvcc::SortOrder::kAscend;
    }
    return step;
  }

  LockStep held() {
    phase = Phase::kDone;
    LockStep step;
    step.kind = LockStep::Kind::kHeld;
    return step;
  }
};

namespace {

RangeOp first_created(const std::string& prefix) {
  // Go's WithFirstCreate: the prefix's key of the smallest create revision.
  RangeOp op;
  op.range = {prefix, mvcc::prefix_end(prefix)};
  op.options.sort_target = mvcc::SortTarget::kCreate;
  op.options.sort_order = mvcc::SortOrder::kAscend;
  op.options.limit = 1;
  return op;
}

}  // namespace

LockRecipe::LockRecipe(std::string name, int64_t lease) : impl_(std::make_unique<Impl>()) {
  if (lease == 0) throw std::invalid_argument("a lock needs a session: lease 0");
  impl_->prefix = name + "/";
  impl_->key = fmt::format("{}{:x}", impl_->prefix, static_cast<uint64_t>(lease));
  impl_->lease = lease;
}

LockRecipe::~LockRecipe() = default;
LockRecipe::LockRecipe(LockRecipe&&) noexcept = default;
LockRecipe& LockRecipe::operator=(LockRecipe&&) noexcept = default;

const std::string& LockRecipe::key() const { return impl_->key; }
int64_t LockRecipe::revision() const { return impl_->revision; }

LockStep LockRecipe::start() {
  Impl& r = *impl_;
  r.expect(Phase::kStart, "start");
  r.phase = Phase::kTxn;
  LockStep step;
  step.kind = LockStep::Kind::kTxn;
  step.txn.compare.push_back(Compare::of(CompareTarget::kCreate, CompareResult::kEqual, r.key, 0));
  PutOp put;
  put.key = r.key;
  put.lease = r.lease;
  RangeOp mine;
  mine.range = {r.key, ""};
  step.txn.success = {put, first_created(r.prefix)};
  step.txn.failure = {mine, first_created(r.prefix)};
  return step;
}

LockStep LockRecipe::on_txn(const TxnResult& result) {
  Impl& r = *impl_;
  r.expect(Phase::kTxn, "on_txn");
  if (result.responses.size() != 2) throw std::invalid_argument("LockRecipe: not the lock's txn");
  if (result.succeeded) {
    r.revision = result.revision;  // the put's: the txn's revision
  } else {
    const auto& mine = std::get<mvcc::RangeResult>(result.responses[0]);
    if (mine.kvs.empty()) throw std::invalid_argument("LockRecipe: my key vanished in the txn");
    r.revision = mine.kvs[0].create_revision;
  }
  const auto& owner = std::get<mvcc::RangeResult>(result.responses[1]);
  if (owner.kvs.empty() || owner.kvs[0].create_revision == r.revision ||
      ETCDLAB_BROKEN("lock-never-waits")) {
    return r.held();
  }
  return r.predecessor();
}

LockStep LockRecipe::on_range(const mvcc::RangeResult& result) {
  Impl& r = *impl_;
  if (r.phase == Phase::kSelfCheck) {
    if (result.kvs.empty()) {
      r.phase = Phase::kDone;
      LockStep failed;
      failed.kind = LockStep::Kind::kFailed;
      failed.error = kSessionExpired;
      return failed;
    }
    return r.held();
  }
  r.expect(Phase::kPredecessor, "on_range");
  if (!result.kvs.empty()) {
    r.phase = Phase::kWaiting;
    LockStep wait;
    wait.kind = LockStep::Kind::kWaitDelete;
    wait.key = result.kvs[0].key;
    wait.from_revision = result.revision + 1;
    return wait;
  }
  if (ETCDLAB_BROKEN("lock-skips-session-check")) return r.held();
  r.phase = Phase::kSelfCheck;
  LockStep check;
  check.kind = LockStep::Kind::kRange;
  check.range = {r.key, ""};
  return check;
}

LockStep LockRecipe::on_deleted() {
  Impl& r = *impl_;
  r.expect(Phase::kWaiting, "on_deleted");
  return r.predecessor();
}

}  // namespace etcdlab::txn
