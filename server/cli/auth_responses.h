#pragma once
// The auth responses etcdlabctl prints (etcdserverpb's Auth*Response, authpb's Permission),
// decoded from the gateway's JSON as responses.h decodes the others.

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "client.h"
#include "responses.h"

namespace etcdlab::cli {

class Command;
class Context;

// Every auth response that carries a header alone: auth enable/disable, user add, delete,
// changepw, grant, revoke, role add, delete, grant, revoke.
struct AuthResponse {
  ResponseHeader header;
};

// authpb.Permission: perm_type is READ 0, WRITE 1, READWRITE 2; range_end empty for one key,
// "\0" for every key from `key` on.
struct Permission {
  int perm_type = 0;
  std::string key;
  std::string range_end;
};

struct UserGetResponse {
  ResponseHeader header;
  std::vector<std::string> roles;
};

struct UserListResponse {
  ResponseHeader header;
  std::vector<std::string> users;
};

struct RoleGetResponse {
  ResponseHeader header;
  std::vector<Permission> perms;
};

struct RoleListResponse {
  ResponseHeader header;
  std::vector<std::string> roles;
};

// authpb.Permission_Type's names, by number ("READ", "WRITE", "READWRITE").
const char* perm_type_name(int type);

AuthResponse decode_auth(const boost::json::object& body);
UserGetResponse decode_user_get(const boost::json::object& body);
UserListResponse decode_user_list(const boost::json::object& body);
RoleGetResponse decode_role_get(const boost::json::object& body);
RoleListResponse decode_role_list(const boost::json::object& body);

// One auth request within --command-timeout (the user and role commands); a refusal is exit 1
// with etcd's message.
boost::json::object auth_request(Context& ctx, const Command& cmd, const std::string& path,
                                 const boost::json::object& body,
                                 Retry retry = Retry::kNotRepeatable);

}  // namespace etcdlab::cli
