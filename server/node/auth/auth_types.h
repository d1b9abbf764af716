#pragma once
// The values of etcd 3.4's auth model (authpb): permissions, roles, users, and who a request
// comes from. Plain data; the rules live in auth_store.h.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace etcdlab::server::auth {

// authpb.Permission.Type's numbers (the gateway's JSON and the gRPC enum carry them).
enum class PermType : uint8_t { kRead = 0, kWrite = 1, kReadWrite = 2 };

// A permission on one key (range_end empty), on [key, range_end), or from key to the end
// (range_end "\0"), as etcd stores it. A key of "\0" with range_end "\0" is every key.
struct Permission {
  PermType type = PermType::kRead;
  std::string key;
  std::string range_end;
  friend bool operator==(const Permission&, const Permission&) = default;
};

struct Role {
  std::string name;
  std::vector<Permission> perms;  // as granted, ordered by (key, range_end) as etcd keeps them
  friend bool operator==(const Role&, const Role&) = default;
};

struct User {
  std::string name;
  std::string hash;                // bcrypt, "$2b$10$..." (never a password)
  std::vector<std::string> roles;  // sorted
  friend bool operator==(const User&, const User&) = default;
};

// Who a write came from, as the proposer resolved it (etcd's RequestHeader username and
// auth_revision): the apply checks the permission of `user` at the auth revision it finds, and
// refuses the write if the auth state moved past `revision` in between.
struct AuthStamp {
  std::string user;
  uint64_t revision = 0;
  friend bool operator==(const AuthStamp&, const AuthStamp&) = default;
};

// A resolved caller: the user and the auth revision its token or certificate was checked at.
using AuthInfo = AuthStamp;

// The node's own writes while auth is on (a leader revoking an expired lease), which etcd
// makes as root (its WithRoot): an empty user at revision 0, which no client stamp is (a
// client's stamp always names a user).
inline AuthStamp node_stamp() { return {}; }
inline bool is_node_stamp(const AuthStamp& s) { return s.user.empty() && s.revision == 0; }

}  // namespace etcdlab::server::auth

namespace etcdlab::server {

// Who a request comes from, as a door saw it: the token (JSON `Authorization` header, gRPC
// metadata `token`/`authorization`) and the TLS client certificate's CN (gRPC door only, only
// with --client-cert-auth). Empty: an anonymous caller.
struct Credentials {
  std::optional<std::string> token;
  std::optional<std::string> cert_user;
};

}  // namespace etcdlab::server
