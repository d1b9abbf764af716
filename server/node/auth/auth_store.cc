#include "auth_store.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace etcdlab::server {

ApiError auth_error(const char* text) {
  using namespace rpctypes;
  struct Row {
    const char* text;
    GrpcCode code;
  };
  // etcd 3.4's codes (rpctypes/error.go), as its gateway and gRPC server answered them.
  static const Row rows[] = {
      {kUserEmpty, GrpcCode::kInvalidArgument},
      {kRoleEmpty, GrpcCode::kInvalidArgument},
      {kUserAlreadyExist, GrpcCode::kFailedPrecondition},
      {kUserNotFound, GrpcCode::kFailedPrecondition},
      {kRoleAlreadyExist, GrpcCode::kFailedPrecondition},
      {kRoleNotFound, GrpcCode::kFailedPrecondition},
      {kRootUserNotExist, GrpcCode::kFailedPrecondition},
      {kRootRoleNotExist, GrpcCode::kFailedPrecondition},
      {kAuthFailed, GrpcCode::kInvalidArgument},
      {kPermissionDenied, GrpcCode::kPermissionDenied},
      {kRoleNotGranted, GrpcCode::kFailedPrecondition},
      {kPermissionNotGranted, GrpcCode::kFailedPrecondition},
      {kAuthNotEnabled, GrpcCode::kFailedPrecondition},
      {kInvalidAuthToken, GrpcCode::kUnauthenticated},
      {kInvalidAuthMgmt, GrpcCode::kInvalidArgument},
      {kAuthOldRevision, GrpcCode::kInvalidArgument},
      {kAuthPkgPermissionDenied, GrpcCode::kUnknown},
      {kAuthPkgUserEmpty, GrpcCode::kUnknown},
      {kAuthPkgInvalidToken, GrpcCode::kUnknown},
  };
  for (const Row& r : rows) {
    if (std::strcmp(r.text, text) == 0) return ApiError(r.code, r.text);
  }
  throw std::logic_error(std::string("auth_error: not an auth error text: ") + text);
}

}  // namespace etcdlab::server

namespace etcdlab::server::auth {
namespace {

using namespace rpctypes;

[[noreturn]] void refuse(const char* text) { throw auth_error(text); }

bool perm_less(const Permission& a, const Permission& b) {
  return std::tie(a.key, a.range_end) < std::tie(b.key, b.range_end);
}

}  // namespace

AuthStore::AuthStore(AuthTable& table) : table_(table), state_(table.load()) {}

void AuthStore::reload() {
  state_ = table_.load();
  cache_.clear();
  cache_revision_ = 0;
}

const User* AuthStore::user(const std::string& name) const {
  auto it = state_.users.find(name);
  return it == state_.users.end() ? nullptr : &it->second;
}

const Role* AuthStore::role(const std::string& name) const {
  auto it = state_.roles.find(name);
  return it == state_.roles.end() ? nullptr : &it->second;
}

std::vector<std::string> AuthStore::user_names() const {
  std::vector<std::string> out;
  for (const auto& [name, u] : state_.users) out.push_back(name);
  return out;
}

std::vector<std::string> AuthStore::role_names() const {
  std::vector<std::string> out;
  for (const auto& [name, r] : state_.roles) out.push_back(name);
  return out;
}

User& AuthStore::existing_user(const std::string& name) {
  auto it = state_.users.find(name);
  if (it == state_.users.end()) refuse(kUserNotFound);
  return it->second;
}

Role& AuthStore::existing_role(const std::string& name) {
  auto it = state_.roles.find(name);
  if (it == state_.roles.end()) refuse(kRoleNotFound);
  return it->second;
}

void AuthStore::changed() {
  ++state_.revision;
  table_.put_meta(state_.enabled, state_.revision);
}

void AuthStore::enable() {
  if (state_.enabled) return;
  const User* root = user(kRootUser);
  if (root == nullptr) refuse(kRootUserNotExist);
  if (!has_role(kRootUser, kRootRole)) refuse(kRootRoleNotExist);
  state_.enabled = true;
  table_.put_meta(state_.enabled, state_.revision);  // (etcd: enabling keeps the revision)
}

void AuthStore::disable() {
  if (!state_.enabled) return;
  state_.enabled = false;
  changed();
}

void AuthStore::add_user(const std::string& name, const std::string& hash) {
  if (name.empty()) refuse(kUserEmpty);
  if (user(name) != nullptr) refuse(kUserAlreadyExist);
  User u{name, hash, {}};
  state_.users[name] = u;
  table_.put_user(u);
  changed();
}

void AuthStore::delete_user(const std::string& name) {
  if (state_.enabled && name == kRootUser) refuse(kInvalidAuthMgmt);
  existing_user(name);
  state_.users.erase(name);
  table_.remove_user(name);
  changed();
}

void AuthStore::change_password(const std::string& name, const std::string& hash) {
  User& u = existing_user(name);
  u.hash = hash;
  table_.put_user(u);
  changed();
}

void AuthStore::grant_role(const std::string& user_name, const std::string& role_name) {
  User& u = existing_user(user_name);
  if (role_name != kRootRole) existing_role(role_name);
  auto at = std::lower_bound(u.roles.begin(), u.roles.end(), role_name);
  if (at != u.roles.end() && *at == role_name) return;  // (etcd: a warning, no change)
  u.roles.insert(at, role_name);
  table_.put_user(u);
  changed();
}

void AuthStore::revoke_role(const std::string& user_name, const std::string& role_name) {
  if (state_.enabled && user_name == kRootUser && role_name == kRootRole) {
    refuse(kInvalidAuthMgmt);
  }
  User& u = existing_user(user_name);
  auto at = std::find(u.roles.begin(), u.roles.end(), role_name);
  if (at == u.roles.end()) refuse(kRoleNotGranted);
  u.roles.erase(at);
  table_.put_user(u);
  changed();
}

void AuthStore::add_role(const std::string& name) {
  if (name.empty()) refuse(kRoleEmpty);
  if (role(name) != nullptr) refuse(kRoleAlreadyExist);
  Role r{name, {}};
  state_.roles[name] = r;
  table_.put_role(r);
  changed();
}

void AuthStore::delete_role(const std::string& name) {
  if (state_.enabled && name == kRootRole) refuse(kInvalidAuthMgmt);
  existing_role(name);
  state_.roles.erase(name);
  table_.remove_role(name);
  // etcd 3.4 takes the role from every user that held it.
  for (auto& [user_name, u] : state_.users) {
    auto at = std::find(u.roles.begin(), u.roles.end(), name);
    if (at == u.roles.end()) continue;
    u.roles.erase(at);
    table_.put_user(u);
  }
  changed();
}

void AuthStore::grant_permission(const std::string& role_name, const Permission& perm) {
  Role& r = existing_role(role_name);
  auto at = std::lower_bound(r.perms.begin(), r.perms.end(), perm, perm_less);
  if (at != r.perms.end() && at->key == perm.key && at->range_end == perm.range_end) {
    at->type = perm.type;
  } else {
    r.perms.insert(at, perm);
  }
  table_.put_role(r);
  changed();
}

void AuthStore::revoke_permission(const std::string& role_name, const std::string& key,
                                  const std::string& range_end) {
  Role& r = existing_role(role_name);
  auto at = std::find_if(r.perms.begin(), r.perms.end(), [&](const Permission& p) {
    return p.key == key && p.range_end == range_end;
  });
  if (at == r.perms.end()) refuse(kPermissionNotGranted);
  r.perms.erase(at);
  table_.put_role(r);
  changed();
}

bool AuthStore::has_role(const std::string& user_name, const std::string& role_name) const {
  const User* u = user(user_name);
  return u != nullptr && std::binary_search(u->roles.begin(), u->roles.end(), role_name);
}

bool AuthStore::is_root(const std::string& user_name) const {
  return has_role(user_name, kRootRole);
}

std::optional<ApiError> AuthStore::check_admin(const std::optional<AuthStamp>& who) const {
  if (!state_.enabled) return std::nullopt;
  if (!who || who->user.empty()) return auth_error(kUserEmpty);
  if (user(who->user) == nullptr) return auth_error(kUserNotFound);
  if (!is_root(who->user)) return auth_error(kPermissionDenied);
  return std::nullopt;
}

std::optional<ApiError> AuthStore::check_keys(const std::optional<AuthStamp>& who,
                                              const std::string& key,
                                              const std::string& range_end, PermType type) const {
  if (!state_.enabled) return std::nullopt;
  if (who && is_node_stamp(*who)) return std::nullopt;
  if (!who || who->user.empty() || who->revision == 0) return auth_error(kUserEmpty);
  if (who->revision < state_.revision) return auth_error(kAuthOldRevision);
  if (!permitted(who->user, key, range_end, type)) return auth_error(kPermissionDenied);
  return std::nullopt;
}

bool AuthStore::permitted(const std::string& user_name, const std::string& key,
                          const std::string& range_end, PermType type) const {
  const User* u = user(user_name);
  if (u == nullptr) return false;
  if (is_root(user_name)) return true;
  const UserPermissions& perms = permissions_of(*u);
  const KeyIntervals& set = type == PermType::kRead ? perms.read : perms.write;
  return set.contains(key, range_end);
}

const UserPermissions& AuthStore::permissions_of(const User& u) const {
  if (cache_revision_ != state_.revision) {
    cache_.clear();
    cache_revision_ = state_.revision;
  }
  auto it = cache_.find(u.name);
  if (it == cache_.end()) {
    it = cache_.emplace(u.name, merge_permissions(u.roles, [&](const std::string& name) {
                          return role(name);
                        })).first;
  }
  return it->second;
}

}  // namespace etcdlab::server::auth
