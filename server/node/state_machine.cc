#include "state_machine.h"

#include "etcdlab/codec.h"
#include "etcdlab/errors.h"
#include "etcdlab/sqlite/companion.h"
#include "etcdlab/sqlite/companion_set.h"

namespace etcdlab::server {

std::unique_ptr<KvStateMachine> KvStateMachine::open(const mvcc::StoreOptions& store,
                                                     const std::vector<Member>& members,
                                                     const lease::LessorConfig& leases,
                                                     const watch::WatchConfig& watches) {
  // The lease and auth tables ride in the store's database: attached while the store opens it.
  auto table = std::make_shared<lease::SqliteLeaseTable>();
  auto auth_table = std::make_shared<auth::SqliteAuthTable>();
  std::unique_ptr<mvcc::KvStore> opened;
  {
    sqlite::CompanionScope scope(std::make_shared<sqlite::CompanionSet>(
        std::vector<std::shared_ptr<sqlite::Companion>>{table, auth_table}));
    opened = mvcc::KvStore::open(store);
  }
  return std::make_unique<KvStateMachine>(std::move(opened), members, table, leases, watches,
                                          auth_table);
}

KvStateMachine::KvStateMachine(std::unique_ptr<mvcc::KvStore> store,
                               const std::vector<Member>& members,
                               std::shared_ptr<lease::LeaseTable> leases,
                               const lease::LessorConfig& lessor,
                               const watch::WatchConfig& watches,
                               std::shared_ptr<auth::AuthTable> auth)
    : store_(std::move(store)),
      lease_table_(leases ? std::move(leases) : std::make_shared<lease::MemoryLeaseTable>()),
      lessor_config_(lessor),
      auth_table_(auth ? std::move(auth) : std::make_shared<auth::MemoryAuthTable>()),
      watches_(watches),
      compacting_(true) {  // true: finish a compaction a crash cut
  lessor_ = lease::Lessor::open(lessor_config_, *lease_table_, *store_);
  auth_ = std::make_unique<auth::AuthStore>(*auth_table_);
  for (const auto& m : members) members_[m.id] = m;
}

KvStateMachine::~KvStateMachine() = default;

void KvStateMachine::written(int64_t revision, const std::vector<mvcc::Event>& events) {
  if (events.empty()) return;  // the write changed nothing: no revision
  for (const mvcc::Event& e : events) {
    if (e.type == mvcc::Event::Type::kPut) {
      lessor_->attach(e.kv.key, e.kv.lease);
    } else {
      lessor_->detach(e.kv.key);
    }
  }
  watches_.notify(revision, events);
}

std::vector<mvcc::Event> KvStateMachine::end_write(mvcc::Write& w) const {
  return watches_.watchers() > 0 ? w.end() : w.end_without_prev_kvs();
}

Result KvStateMachine::apply_request(const Request& request) {
  return apply_request(request, std::nullopt);
}

Result KvStateMachine::apply_request(const Request& request,
                                     const std::optional<auth::AuthStamp>& stamp, uint64_t index) {
  if (is_auth_request(request)) return apply_auth(request, stamp, index);
  Result result;
  if (auto refused = check_write(request, stamp)) {
    result.auth_error = std::move(refused);
    result.revision = store_->revision();
    return result;
  }
  try {
    if (const auto* put = std::get_if<PutRequest>(&request)) {
      if (put->lease != lease::kNoLease && !lessor_->exists(put->lease)) {
        result.lease_error = lease::LeaseError::Code::kNotFound;
      } else {
        mvcc::Write w = store_->write();
        int64_t revision = w.revision();
        result.value = w.put(put->key, put->value, put->lease, put->options);
        written(revision, end_write(w));
      }
    } else if (const auto* del = std::get_if<DeleteRangeRequest>(&request)) {
      mvcc::Write w = store_->write();
      int64_t revision = w.revision();
      result.value = w.delete_range(del->range, del->prev_kv);
      written(revision, end_write(w));
    } else if (const auto* compaction = std::get_if<CompactionRequest>(&request)) {
      store_->compact(compaction->revision);
      result.value = CompactionResult{};
    } else if (const auto* grant = std::get_if<LeaseGrantRequest>(&request)) {
      lease::LeaseInfo info = lessor_->grant(grant->id, grant->ttl);
      result.value = LeaseGrantResult{info.id, info.granted_ttl};
    } else if (const auto* revoke = std::get_if<LeaseRevokeRequest>(&request)) {
      int64_t revision = lessor_->revoke(revoke->id, *store_);
      if (revision != 0) {
        // The lessor wrote the deletes itself (one revision): the watchers hear of them from
        // the store's history, which holds exactly that write from `revision` on.
        mvcc::KeyRange all{std::string(1, '\0'), std::string(1, '\0')};
        watches_.notify(revision, store_->events_since(revision, all, /*prev_kv=*/true));
      }
      result.value = LeaseRevokeResult{};
    } else if (const auto* t = std::get_if<TxnRequest>(&request)) {
      int64_t revision = store_->revision() + 1;  // the txn's, if it writes
      std::vector<mvcc::Event> events;
      auto lease_exists = [&](int64_t lease) { return lessor_->exists(lease); };
      result.value = txn::execute(*store_, *t, lease_exists, &events);
      written(revision, events);
    } else {
      result.value = AttributesResult{};
    }
  } catch (const mvcc::MvccError& e) {
    result.store_error = e.code();
  } catch (const lease::LeaseError& e) {
    result.lease_error = e.code();
  } catch (const txn::LeaseMissing&) {
    result.lease_error = lease::LeaseError::Code::kNotFound;
  }
  result.revision = store_->revision();
  return result;
}

std::vector<AppliedRequest> KvStateMachine::apply(
    const std::vector<Entry>& entries,
    const std::function<void(const ConfChange&, uint64_t)>& on_conf_change) {
  std::vector<AppliedRequest> out;
  if (entries.empty()) return out;
  uint64_t held = store_->consistent_index();
  store_->begin_batch();
  for (const Entry& e : entries) {
    if (e.type == EntryType::kConfChange) {
      ConfChange cc = decode_value<ConfChange>(e.data, "conf change entry");
      uint64_t request_id = apply_conf_change(cc);
      if (on_conf_change) on_conf_change(cc, request_id);
    } else if (!e.data.empty()) {  // (empty: a new leader's entry)
      if (e.index > held) {
        if (auto applied = apply_normal(e)) out.push_back(std::move(*applied));
      } else {
        reapply_membership(e);
      }
    }
  }
  store_->commit_batch(std::max(entries.back().index, held));
  return out;
}

bool KvStateMachine::first_time(uint64_t request_id) {
  if (request_id == 0) return true;
  if (!recent_set_.insert(request_id).second) return false;
  recent_.push_back(request_id);
  if (recent_.size() > kRecentRequests) {
    recent_set_.erase(recent_.front());
    recent_.pop_front();
  }
  return true;
}

std::optional<AppliedRequest> KvStateMachine::apply_normal(const Entry& e) {
  DecodedRequest decoded = decode_stamped_request(e.data);
  if (!first_time(decoded.id)) {
    ++duplicates_skipped_;
    return std::nullopt;
  }
  AppliedRequest applied{decoded.id, std::move(decoded.request), {}, std::move(decoded.stamp)};
  if (apply_node_state(applied.request)) {
    if (const auto* alarm = std::get_if<AlarmRequest>(&applied.request)) {
      // etcd's AlarmResponse names the alarm the request raised or cleared.
      applied.result.value = AlarmResult{{Alarm{alarm->member, alarm->alarm}}};
    } else {
      applied.result.value = AttributesResult{};
    }
    applied.result.revision = store_->revision();
  } else if (is_auth_request(applied.request)) {
    applied.result = apply_auth(applied.request, applied.stamp, e.index);
  } else if (auto refused = check_write(applied.request, applied.stamp)) {
    // etcd's auth applier runs before its quota applier: a refused write is refused for that.
    applied.result.auth_error = std::move(refused);
    applied.result.revision = store_->revision();
  } else if (has_alarm(AlarmType::kNoSpace) && adds_data(applied.request)) {
    // etcd's capped applier: under NOSPACE every member refuses writes that add data (puts,
    // txns with a put, lease grants); deletes, revokes and compaction still run, so an
    // operator can make room.
    applied.result.error = RequestError::kNoSpace;
    applied.result.revision = store_->revision();
  } else {
    // (With its stamp: apply_request checks it again, as it must for callers without a log;
    // here it passed just above, on the same state.)
    applied.result = apply_request(applied.request, applied.stamp, e.index);
    if (applied.result.ok()) {
      if (std::holds_alternative<CompactionRequest>(applied.request)) compacting_ = true;
      if (std::holds_alternative<PutRequest>(applied.request)) ++puts_applied_;
      if (std::holds_alternative<DeleteRangeRequest>(applied.request)) ++deletes_applied_;
      if (const auto* t = std::get_if<txn::TxnResult>(&applied.result.value)) count_writes(*t);
    }
  }
  return applied;
}

void KvStateMachine::reapply_membership(const Entry& e) {
  // The store already holds this entry's effect, but the member list and the alarms live in
  // memory: they must be applied again after a restart, as conf changes are.
  auto [id, request] = decode_request(e.data);
  if (first_time(id)) apply_node_state(request);
}

bool KvStateMachine::apply_node_state(const Request& request) {
  if (const auto* attributes = std::get_if<AttributesRequest>(&request)) {
    Member& m = members_[attributes->member];
    m.id = attributes->member;
    m.name = attributes->name;
    m.client_urls = attributes->client_urls;
    return true;
  }
  if (const auto* alarm = std::get_if<AlarmRequest>(&request)) {
    if (alarm->alarm == AlarmType::kNone) return true;
    Alarm a{alarm->member, alarm->alarm};
    if (alarm->activate) {
      alarms_.insert(a);
    } else {
      alarms_.erase(a);
    }
    return true;
  }
  return false;
}

bool KvStateMachine::has_alarm(AlarmType type) const {
  return std::any_of(alarms_.begin(), alarms_.end(), [&](const Alarm& a) { return a.type == type; });
}

uint64_t KvStateMachine::apply_conf_change(const ConfChange& cc) {
  uint64_t request_id = 0;
  switch (cc.type) {
    case ConfChange::Type::kAddVoter:
    case ConfChange::Type::kAddLearner:
    case ConfChange::Type::kUpdateNode: {
      Member m = members_.count(cc.node_id) ? members_[cc.node_id] : Member{};
      m.id = cc.node_id;
      if (!cc.context.empty()) {
        auto [id, given] = decode_member_context(cc.context);
        request_id = id;
        m.name = given.name.empty() ? m.name : given.name;
        if (!given.peer_urls.empty()) m.peer_urls = given.peer_urls;
      }
      m.learner = cc.type == ConfChange::Type::kAddLearner ||
                  (cc.type == ConfChange::Type::kUpdateNode && m.learner);
      members_[m.id] = m;
      break;
    }
    case ConfChange::Type::kRemoveNode:
      if (!cc.context.empty()) request_id = decode_member_context(cc.context).first;
      members_.erase(cc.node_id);
      removed_.insert(cc.node_id);
      break;
  }
  return request_id;
}

bool KvStateMachine::compaction_step() {
  if (!compacting_) return true;
  if (store_->compaction_step()) compacting_ = false;
  return !compacting_;
}

std::vector<Member> KvStateMachine::members() const {
  std::vector<Member> out;
  for (const auto& [id, m] : members_) out.push_back(m);
  return out;
}

}  // namespace etcdlab::server
