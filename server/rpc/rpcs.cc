// The RPCs both doors call (rpcs.h).
#include "rpcs.h"

#include <fmt/format.h>

#include "etcdlab/crc32c.h"

namespace etcdlab::rpc {

namespace {

using Access = server::KvNode::Access;

awaitable<server::Result> write_checked(KvService& s, server::Request request,
                                        const Credentials& who) {
  check_request_size(s, request);
  server::Result r = co_await s.write(std::move(request), who);
  check(r);
  co_return r;
}

}  // namespace

void authorize(KvService& s, const Credentials& who, Access access, const mvcc::KeyRange& keys) {
  if (std::optional<ApiError> refused = s.authorize(who, access, keys)) throw *refused;
}

awaitable<mvcc::RangeResult> range(KvService& s, mvcc::KeyRange keys, mvcc::RangeOptions options,
                                   bool serializable, const Credentials& who) {
  if (keys.key.empty()) throw store_error(mvcc::MvccError::Code::kEmptyKey);
  if (!serializable) co_await s.read_barrier();
  // After the barrier: this member's auth state then covers every change committed before
  // the read began (a revoke included).
  authorize(s, who, Access::kRange, keys);
  s.count_range();
  try {
    co_return s.store().range(keys, options);
  } catch (const mvcc::MvccError& e) {
    throw store_error(e.code());
  }
}

awaitable<server::Result> put(KvService& s, server::PutRequest p, const Credentials& who) {
  if (p.key.empty()) throw store_error(mvcc::MvccError::Code::kEmptyKey);
  if (p.options.ignore_value && !p.value.empty()) {
    throw store_error(mvcc::MvccError::Code::kValueProvided);
  }
  if (p.options.ignore_lease && p.lease != 0) {
    throw store_error(mvcc::MvccError::Code::kLeaseProvided);
  }
  server::Request request = std::move(p);  // (g++ 12: no temporaries inside co_await)
  co_return co_await write_checked(s, std::move(request), who);
}

awaitable<server::Result> delete_range(KvService& s, server::DeleteRangeRequest d,
                                       const Credentials& who) {
  if (d.range.key.empty()) throw store_error(mvcc::MvccError::Code::kEmptyKey);
  server::Request request = std::move(d);
  co_return co_await write_checked(s, std::move(request), who);
}

awaitable<server::Result> compact(KvService& s, server::CompactionRequest c,
                                  const Credentials& who) {
  authorize(s, who, Access::kTokenOnly);  // then anyone may: 3.4 checks no permission
  server::Request request = c;
  co_return co_await write_checked(s, std::move(request), Credentials{});
}

awaitable<server::Result> txn(KvService& s, server::TxnRequest t, const Credentials& who) {
  if (!txn::is_read_only(t)) check_request_size(s, t);
  server::Result r = co_await s.txn(std::move(t), who);
  check(r);
  co_return r;
}

int64_t current_revision(KvService& s) { return s.store().revision(); }

awaitable<server::Result> lease_grant(KvService& s, server::LeaseGrantRequest g,
                                      const Credentials& who) {
  authorize(s, who, Access::kTokenOnly);  // then anyone may: 3.4 checks no permission
  server::Request request = g;
  co_return co_await write_checked(s, std::move(request), Credentials{});
}

awaitable<server::Result> lease_revoke(KvService& s, int64_t id, const Credentials& who) {
  server::Request request = server::LeaseRevokeRequest{id};
  co_return co_await write_checked(s, std::move(request), who);
}

awaitable<server::LeaseTimeToLiveResult> lease_time_to_live(KvService& s, int64_t id, bool keys) {
  co_return co_await s.lease_time_to_live(id, keys);
}

awaitable<server::LeaseKeepAliveResult> lease_keep_alive(KvService& s, int64_t id) {
  co_return co_await s.lease_keep_alive(id);
}

std::vector<int64_t> lease_leases(KvService& s) { return s.leases(); }

std::vector<server::Member> member_list(KvService& s) { return s.members(); }

awaitable<server::Member> member_change(KvService& s, gateway::MemberRequest request,
                                        const Credentials& who) {
  authorize(s, who, Access::kAdmin);
  co_return co_await s.change_member(std::move(request));
}

awaitable<std::vector<server::Alarm>> alarm(KvService& s, int action, uint64_t member, int type,
                                            const Credentials& who) {
  authorize(s, who, Access::kAlarm);
  if (action == static_cast<int>(AlarmAction::kGet)) co_return s.alarms();
  if (action != static_cast<int>(AlarmAction::kActivate) &&
      action != static_cast<int>(AlarmAction::kDeactivate)) {
    throw ApiError(GrpcCode::kInvalidArgument, "etcdserver: unknown alarm action");
  }
  // etcd 3.4 stores any number; etcdlab knows only its three types, and an unknown one must
  // not reach the log, where every member would have to apply it.
  if (type < 0 || type > static_cast<int>(server::AlarmType::kCorrupt)) {
    throw ApiError(GrpcCode::kInvalidArgument, "etcdserver: unknown alarm type");
  }
  server::Alarm a{member, static_cast<server::AlarmType>(type)};
  co_return co_await s.change_alarm(action == static_cast<int>(AlarmAction::kActivate), a);
}

gateway::ServerStatus status(KvService& s) {
  gateway::ServerStatus st = s.status();
  for (const auto& a : s.alarms()) {
    st.errors.push_back(fmt::format("memberID:{} alarm:{} ", a.member, server::to_string(a.type)));
  }
  return st;
}

uint32_t hash(KvService& s, const Credentials& who) {
  authorize(s, who, Access::kMaintenance);
  const mvcc::KvStore& store = s.store();
  std::string bytes = fmt::format("{}:{}:{}", store.hash_kv(0), store.revision(),
                                  store.compact_revision());
  return crc32c(bytes);
}

KvHash hash_kv(KvService& s, int64_t revision, const Credentials& who) {
  authorize(s, who, Access::kMaintenance);
  const mvcc::KvStore& store = s.store();
  KvHash h;
  h.revision = store.revision();  // (etcd's header: the current revision)
  h.compact_revision = store.compact_revision();
  if (revision > store.revision()) throw store_error(mvcc::MvccError::Code::kFutureRevision);
  if (revision > 0 && revision < store.compact_revision()) {
    throw store_error(mvcc::MvccError::Code::kCompacted);
  }
  try {
    h.hash = store.hash_kv(revision);
  } catch (const mvcc::MvccError& e) {
    throw store_error(e.code());
  }
  return h;
}

awaitable<void> defragment(KvService& s, const Credentials& who) {
  authorize(s, who, Access::kMaintenance);
  co_await s.defragment();
}

awaitable<void> move_leader(KvService& s, uint64_t to) { co_await s.move_leader(to); }

SnapshotReader::SnapshotReader(std::unique_ptr<gateway::DbSnapshot> db) : db_(std::move(db)) {}

std::optional<SnapshotReader::Piece> SnapshotReader::next(uint64_t max) {
  if (done_) return std::nullopt;
  Piece p;
  if (offset_ < db_->size()) {
    p.blob = db_->read(offset_, max);
    if (p.blob.empty()) throw std::runtime_error("snapshot: the database copy ended early");
    offset_ += p.blob.size();
    sha_.update(p.blob);
    p.remaining_bytes = db_->size() - offset_;
  } else {
    done_ = true;
    p.blob = sha_.digest();
  }
  return p;
}

awaitable<std::unique_ptr<SnapshotReader>> snapshot(KvService& s, const Credentials& who) {
  authorize(s, who, Access::kMaintenance);
  std::unique_ptr<gateway::DbSnapshot> db = co_await s.open_db_snapshot();
  co_return std::make_unique<SnapshotReader>(std::move(db));
}

}  // namespace etcdlab::rpc
