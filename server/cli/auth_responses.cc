#include "auth_responses.h"

#include "../gateway/json_fields.h"
#include "context.h"

namespace etcdlab::cli {
namespace {

namespace json = boost::json;

std::vector<std::string> strings(const json::object& body, std::string_view name) {
  std::vector<std::string> out;
  if (const json::array* a = gateway::get_array(body, name)) {
    for (const auto& v : *a) out.push_back(v.is_string() ? std::string(v.as_string()) : "");
  }
  return out;
}

}  // namespace

const char* perm_type_name(int type) {
  switch (type) {
    case 0:
      return "READ";
    case 1:
      return "WRITE";
    case 2:
      return "READWRITE";
    default:
      return "UNKNOWN";
  }
}

AuthResponse decode_auth(const json::object& body) {
  return {decode_header(body)};
}

UserGetResponse decode_user_get(const json::object& body) {
  return {decode_header(body), strings(body, "roles")};
}

UserListResponse decode_user_list(const json::object& body) {
  return {decode_header(body), strings(body, "users")};
}

RoleGetResponse decode_role_get(const json::object& body) {
  RoleGetResponse r{decode_header(body), {}};
  if (const json::array* a = gateway::get_array(body, "perm")) {
    for (const auto& v : *a) {
      if (!v.is_object()) continue;
      const json::object& p = v.as_object();
      r.perms.push_back({gateway::get_enum(p, "permType", {"READ", "WRITE", "READWRITE"},
                                           "authpb.Permission_Type"),
                         gateway::get_bytes(p, "key"), gateway::get_bytes(p, "range_end")});
    }
  }
  return r;
}

RoleListResponse decode_role_list(const json::object& body) {
  return {decode_header(body), strings(body, "roles")};
}

boost::json::object auth_request(Context& ctx, const Command& cmd, const std::string& path,
                                 const boost::json::object& body, Retry retry) {
  const Client& client = ctx.client(cmd);
  try {
    return client.call(path, body, ctx.deadline(), retry);
  } catch (const EtcdError& e) {
    throw ExitError(kExitError, e.what());
  }
}

}  // namespace etcdlab::cli
