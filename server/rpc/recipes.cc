// etcd's Lock and Election services (recipes.h), over recipe_io.h.
#include "recipes.h"

#include <fmt/format.h>

#include "etcdlab/txn/lock.h"
#include "recipe_io.h"

namespace etcdlab::rpc {
namespace {

using txn::Compare;
using txn::CompareResult;
using txn::CompareTarget;

constexpr const char* kElectionNotLeader = "election: not leader";
constexpr const char* kElectionNoLeader = "election: no leader";
constexpr const char* kMissingLeaderKey = "\"leader\" field must be provided";

txn::RangeOp first_created(const std::string& prefix) {
  txn::RangeOp op;
  op.range = {prefix, mvcc::prefix_end(prefix)};
  op.options.sort_target = mvcc::SortTarget::kCreate;
  op.options.sort_order = mvcc::SortOrder::kAscend;
  op.options.limit = 1;
  return op;
}

// The candidate's key still has its create revision: put the value (proclaim).
boost::asio::awaitable<txn::TxnResult> proclaim_value(KvService& s, const LeaderKey& l,
                                                      std::string value,
                                                      const server::Credentials& who) {
  txn::PutOp put;
  put.key = l.key;
  put.value = std::move(value);
  put.lease = l.lease;
  txn::TxnRequest t;
  t.compare.push_back(Compare::of(CompareTarget::kCreate, CompareResult::kEqual, l.key, l.rev));
  t.success.emplace_back(std::in_place_type<txn::PutOp>, std::move(put));
  txn::TxnResult r = co_await recipe_txn(s, std::move(t), who);
  if (!r.succeeded) recipe_error(kElectionNotLeader);
  co_return r;
}

// etcd's waitDeletes: until no key of the prefix created before `before` is left.
boost::asio::awaitable<void> wait_older_gone(KvService& s, const std::string& prefix,
                                             int64_t before, const server::Credentials& who) {
  for (;;) {
    mvcc::RangeOptions last_older;
    last_older.sort_target = mvcc::SortTarget::kCreate;
    last_older.sort_order = mvcc::SortOrder::kDescend;
    last_older.limit = 1;
    last_older.max_create_revision = before - 1;
    mvcc::KeyRange keys{prefix, mvcc::prefix_end(prefix)};  // (g++ 12: no temporaries inside
    mvcc::RangeResult r = co_await recipe_range(s, keys, last_older, who);  // co_await)
    if (r.kvs.empty()) co_return;
    co_await wait_deleted(s, r.kvs[0].key, r.revision + 1, who);
  }
}

}  // namespace

boost::asio::awaitable<LockResult> lock(KvService& s, std::string name, int64_t lease,
                                        const server::Credentials& who) {
  int64_t session = co_await session_lease(s, lease, who);
  txn::LockRecipe recipe(name, session);
  txn::LockStep step = recipe.start();
  int64_t revision = 0;
  for (;;) {
    switch (step.kind) {
      case txn::LockStep::Kind::kTxn: {
        txn::TxnResult r = co_await recipe_txn(s, std::move(step.txn), who);
        revision = r.revision;
        step = recipe.on_txn(r);
        break;
      }
      case txn::LockStep::Kind::kRange: {
        mvcc::RangeResult r = co_await recipe_range(s, step.range, step.options, who);
        revision = r.revision;
        step = recipe.on_range(r);
        break;
      }
      case txn::LockStep::Kind::kWaitDelete:
        co_await wait_deleted(s, step.key, step.from_revision, who);
        step = recipe.on_deleted();
        break;
      case txn::LockStep::Kind::kHeld:
        co_return LockResult{revision, recipe.key()};
      case txn::LockStep::Kind::kFailed:
        recipe_error(step.error);
    }
  }
}

boost::asio::awaitable<int64_t> unlock(KvService& s, std::string key,
                                       const server::Credentials& who) {
  if (key.empty()) recipe_error(mvcc::message_of(mvcc::MvccError::Code::kEmptyKey));
  server::Request del = server::DeleteRangeRequest{{key, ""}, false};  // (g++ 12: no temporary
  server::Result r;                                                   // inside co_await)
  try {
    check_request_size(s, del);
    r = co_await s.write(std::move(del), who);
    check(r);
  } catch (const ApiError& e) {
    recipe_error(e.what());
  }
  co_return r.revision;
}

boost::asio::awaitable<CampaignResult> campaign(KvService& s, std::string name, int64_t lease,
                                                std::string value, const server::Credentials& who) {
  LeaderKey me;
  me.name = std::move(name);
  me.lease = co_await session_lease(s, lease, who);
  std::string prefix = me.name + "/";
  me.key = fmt::format("{}{:x}", prefix, static_cast<uint64_t>(me.lease));
  // Join the queue, or find the key this session already has.
  txn::PutOp put;
  put.key = me.key;
  put.value = value;
  put.lease = me.lease;
  txn::RangeOp mine;
  mine.range = {me.key, ""};
  txn::TxnRequest join;
  join.compare.push_back(Compare::of(CompareTarget::kCreate, CompareResult::kEqual, me.key, 0));
  join.success.push_back(std::move(put));
  join.failure.push_back(std::move(mine));
  txn::TxnResult joined = co_await recipe_txn(s, std::move(join), who);
  me.rev = joined.revision;
  if (!joined.succeeded) {
    const auto& kvs = std::get<mvcc::RangeResult>(joined.responses.at(0)).kvs;
    if (kvs.empty()) recipe_error(kElectionNotLeader);  // the key went between the compare and now
    me.rev = kvs[0].create_revision;
    if (kvs[0].value != value) co_await proclaim_value(s, me, value, who);
  }
  co_await wait_older_gone(s, prefix, me.rev, who);
  co_return CampaignResult{joined.revision, std::move(me)};
}

boost::asio::awaitable<int64_t> proclaim(KvService& s, std::optional<LeaderKey> leader,
                                         std::string value, const server::Credentials& who) {
  if (!leader) recipe_error(kMissingLeaderKey);
  txn::TxnResult r = co_await proclaim_value(s, *leader, std::move(value), who);
  co_return r.revision;
}

boost::asio::awaitable<LeaderResult> leader(KvService& s, std::string name,
                                            const server::Credentials& who) {
  std::string prefix = name + "/";
  txn::RangeOp first = first_created(prefix);
  mvcc::RangeResult r = co_await recipe_range(s, first.range, first.options, who);
  if (r.kvs.empty()) recipe_error(kElectionNoLeader);
  co_return LeaderResult{r.revision, std::move(r.kvs[0])};
}

boost::asio::awaitable<int64_t> resign(KvService& s, std::optional<LeaderKey> leader,
                                       const server::Credentials& who) {
  if (!leader) recipe_error(kMissingLeaderKey);
  txn::DeleteOp del;
  del.range = {leader->key, ""};
  txn::TxnRequest t;
  t.compare.push_back(
      Compare::of(CompareTarget::kCreate, CompareResult::kEqual, leader->key, leader->rev));
  t.success.emplace_back(std::in_place_type<txn::DeleteOp>, std::move(del));
  txn::TxnResult r = co_await recipe_txn(s, std::move(t), who);  // not the leader: nothing to do
  co_return r.revision;
}

boost::asio::awaitable<LeaderResult> Observer::next() {
  for (;;) {
    if (!following_) {
      txn::RangeOp first = first_created(prefix_);
      mvcc::RangeResult r = co_await recipe_range(s_, first.range, first.options, who_);
      int64_t revision = r.revision;
      if (r.kvs.empty()) {
        mvcc::KeyRange keys = first.range;
        WatchedEvent e = co_await next_event(s_, keys, r.revision, false, /*no_delete=*/true, who_);
        leader_ = std::move(e.event.kv);
        revision = leader_.mod_revision;
      } else {
        leader_ = std::move(r.kvs[0]);
      }
      following_ = true;
      seen_ = revision;
      co_return LeaderResult{revision, leader_};
    }
    mvcc::KeyRange key{leader_.key, ""};
    WatchedEvent e = co_await next_event(s_, key, seen_ + 1, false, false, who_);
    seen_ = e.event.kv.mod_revision;
    if (e.event.type == mvcc::Event::Type::kDelete) {
      following_ = false;
      continue;
    }
    leader_ = std::move(e.event.kv);
    co_return LeaderResult{e.revision, leader_};
  }
}

}  // namespace etcdlab::rpc
