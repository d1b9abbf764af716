// KvStateMachine: auth at apply, the same on every member (state_machine.h). Admin requests
// need root while auth is on (etcd's needAdminPermission; AuthEnable while off needs nothing,
// since the check passes while auth is off); a write needs its user's permission on every key
// it touches (etcd's authApplierV3), decided from the entry's stamp against the auth state at
// this entry, so a revoke committed before a write refuses it on every member.
#include <variant>

#include "state_machine.h"

namespace etcdlab::server {
namespace {

using namespace rpctypes;
using auth::AuthStamp;
using auth::PermType;
using Stamp = std::optional<AuthStamp>;

}  // namespace

Result KvStateMachine::apply_auth(const Request& request, const Stamp& stamp, uint64_t index) {
  Result result;
  result.value = AuthResult{};
  auto& a = *auth_;
  try {
    if (const auto* authenticate = std::get_if<AuthenticateRequest>(&request)) {
      // The rpc layer checked the password against the hash of `checked_revision`: the token
      // is only good if nothing changed since (a password change, a deleted user...).
      if (!a.enabled()) throw auth_error(kAuthNotEnabled);
      if (a.user(authenticate->name) == nullptr) throw auth_error(kAuthFailed);
      if (authenticate->checked_revision != a.revision()) throw auth_error(kAuthOldRevision);
      result.value = AuthResult{authenticate->token_prefix + "." + std::to_string(index)};
    } else {
      if (auto refused = a.check_admin(stamp)) throw *refused;
      if (std::holds_alternative<AuthEnableRequest>(request)) {
        a.enable();
      } else if (std::holds_alternative<AuthDisableRequest>(request)) {
        a.disable();
      } else if (const auto* add = std::get_if<UserAddRequest>(&request)) {
        a.add_user(add->name, add->hash);
      } else if (const auto* del = std::get_if<UserDeleteRequest>(&request)) {
        a.delete_user(del->name);
      } else if (const auto* pw = std::get_if<UserChangePasswordRequest>(&request)) {
        a.change_password(pw->name, pw->hash);
      } else if (const auto* grant = std::get_if<UserGrantRoleRequest>(&request)) {
        a.grant_role(grant->user, grant->role);
      } else if (const auto* revoke = std::get_if<UserRevokeRoleRequest>(&request)) {
        a.revoke_role(revoke->name, revoke->role);
      } else if (const auto* radd = std::get_if<RoleAddRequest>(&request)) {
        a.add_role(radd->name);
      } else if (const auto* rdel = std::get_if<RoleDeleteRequest>(&request)) {
        a.delete_role(rdel->role);
      } else if (const auto* pgrant = std::get_if<RoleGrantPermissionRequest>(&request)) {
        a.grant_permission(pgrant->name, pgrant->perm);
      } else if (const auto* prevoke = std::get_if<RoleRevokePermissionRequest>(&request)) {
        a.revoke_permission(prevoke->role, prevoke->key, prevoke->range_end);
      }
    }
  } catch (const ApiError& e) {
    result.auth_error = e;
    result.value = std::monostate{};
  }
  // Auth requests do not move the store's revision; their answers carry it (etcd's header).
  result.revision = store_->revision();
  return result;
}

namespace {

struct WriteCheck {
  const auth::AuthStore& a;
  const lease::Lessor& lessor;
  const Stamp& stamp;

  std::optional<ApiError> keys(const std::string& key, const std::string& end,
                               PermType type) const {
    return a.check_keys(stamp, key, end, type);
  }
  // etcd's checkLeasePuts: the user may write every key already attached to the lease.
  std::optional<ApiError> lease_keys(int64_t lease) const {
    if (lease == lease::kNoLease) return std::nullopt;
    auto info = lessor.info(lease, /*with_keys=*/true);
    if (!info) return std::nullopt;  // (the put fails with "lease not found")
    for (const std::string& k : info->keys) {
      if (auto refused = keys(k, "", PermType::kWrite)) return refused;
    }
    return std::nullopt;
  }
  std::optional<ApiError> put(const std::string& key, int64_t lease, bool prev_kv) const {
    if (auto refused = keys(key, "", PermType::kWrite)) return refused;
    if (prev_kv) {
      if (auto refused = keys(key, "", PermType::kRead)) return refused;
    }
    return lease_keys(lease);
  }
  std::optional<ApiError> del(const mvcc::KeyRange& range, bool prev_kv) const {
    if (auto refused = keys(range.key, range.range_end, PermType::kWrite)) return refused;
    if (prev_kv) return keys(range.key, range.range_end, PermType::kRead);
    return std::nullopt;
  }
  // Every compare and every op of both branches, nested txns too (etcd 3.4 skips nested
  // ones: an auth bypass, not copied).
  std::optional<ApiError> txn(const TxnRequest& t) const {
    for (const txn::Compare& c : t.compare) {
      if (auto refused = keys(c.key, c.range_end, PermType::kRead)) return refused;
    }
    for (const auto* branch : {&t.success, &t.failure}) {
      for (const txn::RequestOp& op : *branch) {
        if (auto refused = this->op(op)) return refused;
      }
    }
    return std::nullopt;
  }
  std::optional<ApiError> op(const txn::RequestOp& op) const {
    if (const auto* range = std::get_if<txn::RangeOp>(&op)) {
      return keys(range->range.key, range->range.range_end, PermType::kRead);
    }
    if (const auto* p = std::get_if<txn::PutOp>(&op)) return put(p->key, p->lease, p->options.prev_kv);
    if (const auto* d = std::get_if<txn::DeleteOp>(&op)) return del(d->range, d->prev_kv);
    if (const auto* nested = std::get_if<txn::NestedTxn>(&op); nested && *nested) {
      return txn(**nested);
    }
    return std::nullopt;
  }
};

}  // namespace

std::optional<ApiError> KvStateMachine::check_write(const Request& request,
                                                    const Stamp& stamp) const {
  if (!auth_->enabled()) return std::nullopt;
  WriteCheck check{*auth_, *lessor_, stamp};
  if (const auto* put = std::get_if<PutRequest>(&request)) {
    return check.put(put->key, put->lease, put->options.prev_kv);
  }
  if (const auto* del = std::get_if<DeleteRangeRequest>(&request)) {
    return check.del(del->range, del->prev_kv);
  }
  if (const auto* t = std::get_if<TxnRequest>(&request)) return check.txn(*t);
  if (const auto* revoke = std::get_if<LeaseRevokeRequest>(&request)) {
    // etcd: WRITE on every key attached; a lease with no key may be revoked by anyone.
    return check.lease_keys(revoke->id);
  }
  return std::nullopt;  // compaction, lease grant, alarms, attributes: not checked (etcd 3.4)
}

}  // namespace etcdlab::server
