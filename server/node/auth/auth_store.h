#pragma once
// The replicated auth state of a member and etcd 3.4's rules over it (etcd's auth/store.go):
// users with bcrypt hashes and roles, roles with permissions, whether auth is enabled, and the
// auth revision — 1 in a new store, one more after every change that succeeds (enable reads
// it, no change). Every member applies the same auth requests in the same order (they are
// log entries: requests.h), so every member holds the same state at the same applied index.
//
// The changes throw ApiError with etcd's code and text and change nothing then:
//   enable      root user missing: kRootUserNotExist; root without the root role:
//               kRootRoleNotExist; already enabled: nothing
//   disable     already disabled: nothing
//   add_user    empty name: kUserEmpty; taken: kUserAlreadyExist
//   delete_user root while enabled: kInvalidAuthMgmt; unknown: kUserNotFound
//   change_password, grant_role, revoke_role: unknown user: kUserNotFound
//   grant_role  unknown role (other than "root", which needs no role entry): kRoleNotFound;
//               already granted: nothing
//   revoke_role root from root while enabled: kInvalidAuthMgmt; not held: kRoleNotGranted
//   add_role    empty name: kRoleEmpty; taken: kRoleAlreadyExist
//   delete_role root while enabled: kInvalidAuthMgmt; unknown: kRoleNotFound; the role leaves
//               every user that held it
//   grant_permission  unknown role: kRoleNotFound; the same (key, range_end) again replaces
//               the type; permissions stay sorted by (key, range_end)
//   revoke_permission unknown role: kRoleNotFound; no permission with exactly that key and
//               range_end: kPermissionNotGranted
//
// The checks (etcd's IsAdminPermitted and isOpPermitted) return the refusal, or nullopt.
// Both answer nullopt while auth is disabled.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api_error.h"
#include "auth_table.h"
#include "auth_types.h"
#include "perm_ranges.h"

namespace etcdlab::server::auth {

inline constexpr const char* kRootUser = "root";
inline constexpr const char* kRootRole = "root";

class AuthStore {
 public:
  // Reads the state from `table` and writes every change to it. The table outlives the store.
  explicit AuthStore(AuthTable& table);
  // The table's state was replaced (a snapshot was restored): read it again.
  void reload();

  bool enabled() const { return state_.enabled; }
  uint64_t revision() const { return state_.revision; }
  const AuthState& state() const { return state_; }
  const User* user(const std::string& name) const;
  const Role* role(const std::string& name) const;
  std::vector<std::string> user_names() const;  // sorted
  std::vector<std::string> role_names() const;  // sorted

  // ---- changes (the rules above)
  void enable();
  void disable();
  void add_user(const std::string& name, const std::string& hash);
  void delete_user(const std::string& name);
  void change_password(const std::string& name, const std::string& hash);
  void grant_role(const std::string& user, const std::string& role);
  void revoke_role(const std::string& user, const std::string& role);
  void add_role(const std::string& name);
  void delete_role(const std::string& name);
  void grant_permission(const std::string& role, const Permission& perm);
  void revoke_permission(const std::string& role, const std::string& key,
                         const std::string& range_end);

  // ---- checks
  bool has_role(const std::string& user, const std::string& role) const;
  bool is_root(const std::string& user) const;  // the user exists and holds the root role
  // etcd's IsAdminPermitted: no user: kUserEmpty; unknown user: kUserNotFound; not root:
  // kPermissionDenied.
  std::optional<ApiError> check_admin(const std::optional<AuthStamp>& who) const;
  // etcd's isOpPermitted for [key, range_end) (range_end: "" one key, "\0" open-ended): no
  // user (or revision 0): kUserEmpty; a stamp older than the auth revision: kAuthOldRevision;
  // unknown user or the keys not inside the user's merged permissions: kPermissionDenied; root
  // may do anything.
  std::optional<ApiError> check_keys(const std::optional<AuthStamp>& who, const std::string& key,
                                     const std::string& range_end, PermType type) const;
  // The same without the revision (reads on the serving member, which resolved the caller
  // against its own state just now).
  bool permitted(const std::string& user, const std::string& key, const std::string& range_end,
                 PermType type) const;

 private:
  void changed();  // one more revision, written with the meta row
  const UserPermissions& permissions_of(const User& user) const;
  User& existing_user(const std::string& name);
  Role& existing_role(const std::string& name);

  AuthTable& table_;
  AuthState state_;
  // Merged permissions per user, for the revision they were built at (etcd's rangePermCache).
  mutable std::map<std::string, UserPermissions> cache_;
  mutable uint64_t cache_revision_ = 0;
};

}  // namespace etcdlab::server::auth
