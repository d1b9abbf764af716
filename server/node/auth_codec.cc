// The auth requests in a log entry (part of requests.cc's format, version 2):
//
//   kind  9 AuthEnable            (no field)
//        10 AuthDisable           (no field)
//        11 UserAdd               bytes name, bytes hash
//        12 UserDelete            bytes name
//        13 UserChangePassword    bytes name, bytes hash
//        14 UserGrantRole         bytes user, bytes role
//        15 UserRevokeRole        bytes name, bytes role
//        16 RoleAdd               bytes name
//        17 RoleDelete            bytes role
//        18 RoleGrantPermission   bytes name, u64 perm type (0-2), bytes key, bytes range_end
//        19 RoleRevokePermission  bytes role, bytes key, bytes range_end
//        20 Authenticate          bytes name, bytes token prefix, u64 checked revision
//   stamp bool present; if present: bytes user, u64 auth revision
#include "auth_codec.h"

#include "etcdlab/errors.h"

namespace etcdlab::server {
namespace {

enum class Kind : uint64_t {
  kAuthEnable = 9,
  kAuthDisable,
  kUserAdd,
  kUserDelete,
  kUserChangePassword,
  kUserGrantRole,
  kUserRevokeRole,
  kRoleAdd,
  kRoleDelete,
  kRoleGrantPermission,
  kRoleRevokePermission,
  kAuthenticate,
};
static_assert(static_cast<uint64_t>(Kind::kAuthenticate) == kLastAuthKind);

struct Encoder {
  Writer& w;
  void kind(Kind k) const { w.u64(static_cast<uint64_t>(k)); }
  bool operator()(const AuthEnableRequest&) const { return kind(Kind::kAuthEnable), true; }
  bool operator()(const AuthDisableRequest&) const { return kind(Kind::kAuthDisable), true; }
  bool operator()(const UserAddRequest& r) const {
    kind(Kind::kUserAdd);
    w.bytes(r.name);
    w.bytes(r.hash);
    return true;
  }
  bool operator()(const UserDeleteRequest& r) const {
    kind(Kind::kUserDelete);
    w.bytes(r.name);
    return true;
  }
  bool operator()(const UserChangePasswordRequest& r) const {
    kind(Kind::kUserChangePassword);
    w.bytes(r.name);
    w.bytes(r.hash);
    return true;
  }
  bool operator()(const UserGrantRoleRequest& r) const {
    kind(Kind::kUserGrantRole);
    w.bytes(r.user);
    w.bytes(r.role);
    return true;
  }
  bool operator()(const UserRevokeRoleRequest& r) const {
    kind(Kind::kUserRevokeRole);
    w.bytes(r.name);
    w.bytes(r.role);
    return true;
  }
  bool operator()(const RoleAddRequest& r) const {
    kind(Kind::kRoleAdd);
    w.bytes(r.name);
    return true;
  }
  bool operator()(const RoleDeleteRequest& r) const {
    kind(Kind::kRoleDelete);
    w.bytes(r.role);
    return true;
  }
  bool operator()(const RoleGrantPermissionRequest& r) const {
    kind(Kind::kRoleGrantPermission);
    w.bytes(r.name);
    w.u64(static_cast<uint64_t>(r.perm.type));
    w.bytes(r.perm.key);
    w.bytes(r.perm.range_end);
    return true;
  }
  bool operator()(const RoleRevokePermissionRequest& r) const {
    kind(Kind::kRoleRevokePermission);
    w.bytes(r.role);
    w.bytes(r.key);
    w.bytes(r.range_end);
    return true;
  }
  bool operator()(const AuthenticateRequest& r) const {
    kind(Kind::kAuthenticate);
    w.bytes(r.name);
    w.bytes(r.token_prefix);
    w.u64(r.checked_revision);
    return true;
  }
  template <typename Other>
  bool operator()(const Other&) const {
    return false;
  }
};

}  // namespace

bool is_auth_request(const Request& request) {
  return request.index() >= std::variant_size_v<Request> - (kLastAuthKind - kFirstAuthKind + 1);
}

bool encode_auth_request(Writer& w, const Request& request) {
  return std::visit(Encoder{w}, request);
}

Request decode_auth_request(Reader& r, uint64_t kind) {
  switch (static_cast<Kind>(kind)) {
    case Kind::kAuthEnable:
      return AuthEnableRequest{};
    case Kind::kAuthDisable:
      return AuthDisableRequest{};
    case Kind::kUserAdd: {
      UserAddRequest u;
      u.name = r.bytes("user_add.name");
      u.hash = r.bytes("user_add.hash");
      return u;
    }
    case Kind::kUserDelete:
      return UserDeleteRequest{r.bytes("user_delete.name")};
    case Kind::kUserChangePassword: {
      UserChangePasswordRequest u;
      u.name = r.bytes("user_changepw.name");
      u.hash = r.bytes("user_changepw.hash");
      return u;
    }
    case Kind::kUserGrantRole: {
      UserGrantRoleRequest u;
      u.user = r.bytes("user_grant.user");
      u.role = r.bytes("user_grant.role");
      return u;
    }
    case Kind::kUserRevokeRole: {
      UserRevokeRoleRequest u;
      u.name = r.bytes("user_revoke.name");
      u.role = r.bytes("user_revoke.role");
      return u;
    }
    case Kind::kRoleAdd:
      return RoleAddRequest{r.bytes("role_add.name")};
    case Kind::kRoleDelete:
      return RoleDeleteRequest{r.bytes("role_delete.role")};
    case Kind::kRoleGrantPermission: {
      RoleGrantPermissionRequest g;
      g.name = r.bytes("role_grant.name");
      uint64_t type = r.u64("role_grant.perm_type");
      if (type > static_cast<uint64_t>(auth::PermType::kReadWrite)) {
        throw DecodeError("unknown permission type " + std::to_string(type), r.offset());
      }
      g.perm.type = static_cast<auth::PermType>(type);
      g.perm.key = r.bytes("role_grant.key");
      g.perm.range_end = r.bytes("role_grant.range_end");
      return g;
    }
    case Kind::kRoleRevokePermission: {
      RoleRevokePermissionRequest v;
      v.role = r.bytes("role_revoke.role");
      v.key = r.bytes("role_revoke.key");
      v.range_end = r.bytes("role_revoke.range_end");
      return v;
    }
    case Kind::kAuthenticate: {
      AuthenticateRequest a;
      a.name = r.bytes("authenticate.name");
      a.token_prefix = r.bytes("authenticate.token_prefix");
      a.checked_revision = r.u64("authenticate.checked_revision");
      return a;
    }
  }
  throw DecodeError("unknown request kind " + std::to_string(kind), r.offset());
}

void encode_stamp(Writer& w, const std::optional<auth::AuthStamp>& stamp) {
  w.boolean(stamp.has_value());
  if (!stamp) return;
  w.bytes(stamp->user);
  w.u64(stamp->revision);
}

std::optional<auth::AuthStamp> decode_stamp(Reader& r) {
  if (!r.boolean("stamp.present")) return std::nullopt;
  auth::AuthStamp s;
  s.user = r.bytes("stamp.user");
  s.revision = r.u64("stamp.revision");
  return s;
}

}  // namespace etcdlab::server
