// The v3 JSON gateway's Auth endpoints (auth_handlers.h). Every answer carries the store's
// revision in its header (auth changes do not move it), as etcd 3.4's do.
#include "auth_handlers.h"

#include "../rpc/auth_rpcs.h"
#include "../rpc/rpcs.h"

namespace etcdlab::gateway {
namespace {

using boost::asio::awaitable;

// A plain string field (name, password, role), or a 400 as Go's decoder words it.
std::string get_text(const json::object& o, std::string_view name) {
  const json::value* v = find_field(o, name);
  if (v == nullptr || v->is_null()) return {};
  if (!v->is_string()) {
    throw GatewayError(GrpcCode::kInvalidArgument, std::string("json: cannot unmarshal ") +
                                                       (v->is_number() ? "number"
                                                        : v->is_bool() ? "bool"
                                                                       : "object") +
                                                       " into Go value of type string");
  }
  return std::string(v->as_string());
}

HttpResponse header_only(KvService& s) {
  json::object out;
  out["header"] = header(s, rpc::current_revision(s));
  return ok(out);
}

json::array strings_json(const std::vector<std::string>& names) {
  json::array a;
  for (const auto& n : names) a.push_back(json::string(n));
  return a;
}

constexpr std::initializer_list<const char*> kPermTypes = {"READ", "WRITE", "READWRITE"};

awaitable<HttpResponse> enable(KvService& s, const json::object&, const Credentials& who) {
  co_await rpc::auth_enable(s, who);
  co_return header_only(s);
}

awaitable<HttpResponse> disable(KvService& s, const json::object&, const Credentials& who) {
  co_await rpc::auth_disable(s, who);
  co_return header_only(s);
}

// No credentials: the password is what is checked (a token sent along is not looked at).
awaitable<HttpResponse> authenticate(KvService& s, const json::object& body,
                                     const Credentials& /*who*/) {
  std::string name = get_text(body, "name");
  std::string password = get_text(body, "password");
  std::string token = co_await rpc::authenticate(s, std::move(name), std::move(password));
  json::object out;
  out["header"] = header(s, rpc::current_revision(s));
  out["token"] = token;
  co_return ok(out);
}

awaitable<HttpResponse> user_add(KvService& s, const json::object& body, const Credentials& who) {
  std::string name = get_text(body, "name");
  std::string password = get_text(body, "password");
  const json::object* options = get_object(body, "options");
  bool no_password = options != nullptr && get_bool(*options, "no_password");
  co_await rpc::user_add(s, std::move(name), std::move(password), who, no_password);
  co_return header_only(s);
}

awaitable<HttpResponse> user_get(KvService& s, const json::object& body, const Credentials& who) {
  std::string name = get_text(body, "name");
  server::auth::User u = co_await rpc::user_get(s, std::move(name), who);
  json::object out;
  out["header"] = header(s, rpc::current_revision(s));
  if (!u.roles.empty()) out["roles"] = strings_json(u.roles);
  co_return ok(out);
}

awaitable<HttpResponse> user_list(KvService& s, const json::object&, const Credentials& who) {
  std::vector<std::string> users = co_await rpc::user_list(s, who);
  json::object out;
  out["header"] = header(s, rpc::current_revision(s));
  if (!users.empty()) out["users"] = strings_json(users);
  co_return ok(out);
}

awaitable<HttpResponse> user_delete(KvService& s, const json::object& body,
                                    const Credentials& who) {
  std::string name = get_text(body, "name");
  co_await rpc::user_delete(s, std::move(name), who);
  co_return header_only(s);
}

awaitable<HttpResponse> user_changepw(KvService& s, const json::object& body,
                                      const Credentials& who) {
  std::string name = get_text(body, "name");
  std::string password = get_text(body, "password");
  co_await rpc::user_change_password(s, std::move(name), std::move(password), who);
  co_return header_only(s);
}

awaitable<HttpResponse> user_grant(KvService& s, const json::object& body, const Credentials& who) {
  std::string user = get_text(body, "user");
  std::string role = get_text(body, "role");
  co_await rpc::user_grant_role(s, std::move(user), std::move(role), who);
  co_return header_only(s);
}

awaitable<HttpResponse> user_revoke(KvService& s, const json::object& body,
                                    const Credentials& who) {
  std::string name = get_text(body, "name");
  std::string role = get_text(body, "role");
  co_await rpc::user_revoke_role(s, std::move(name), std::move(role), who);
  co_return header_only(s);
}

awaitable<HttpResponse> role_add(KvService& s, const json::object& body, const Credentials& who) {
  std::string name = get_text(body, "name");
  co_await rpc::role_add(s, std::move(name), who);
  co_return header_only(s);
}

awaitable<HttpResponse> role_get(KvService& s, const json::object& body, const Credentials& who) {
  std::string role = get_text(body, "role");
  server::auth::Role r = co_await rpc::role_get(s, std::move(role), who);
  json::object out;
  out["header"] = header(s, rpc::current_revision(s));
  if (!r.perms.empty()) {
    json::array perms;
    for (const auto& p : r.perms) {
      json::object o;
      if (p.type != server::auth::PermType::kRead) {  // READ (0) is left out, as Go's JSON does
        o["permType"] = *(kPermTypes.begin() + static_cast<int>(p.type));
      }
      put_bytes(o, "key", p.key);
      put_bytes(o, "range_end", p.range_end);
      perms.push_back(std::move(o));
    }
    out["perm"] = std::move(perms);
  }
  co_return ok(out);
}

awaitable<HttpResponse> role_list(KvService& s, const json::object&, const Credentials& who) {
  std::vector<std::string> roles = co_await rpc::role_list(s, who);
  json::object out;
  out["header"] = header(s, rpc::current_revision(s));
  if (!roles.empty()) out["roles"] = strings_json(roles);
  co_return ok(out);
}

awaitable<HttpResponse> role_delete(KvService& s, const json::object& body,
                                    const Credentials& who) {
  std::string role = get_text(body, "role");
  co_await rpc::role_delete(s, std::move(role), who);
  co_return header_only(s);
}

awaitable<HttpResponse> role_grant(KvService& s, const json::object& body, const Credentials& who) {
  std::string name = get_text(body, "name");
  server::auth::Permission perm;
  if (const json::object* p = get_object(body, "perm")) {
    perm.type = static_cast<server::auth::PermType>(
        get_enum(*p, "permType", kPermTypes, "authpb.Permission_Type"));
    perm.key = get_bytes(*p, "key");
    perm.range_end = get_bytes(*p, "range_end");
  }
  co_await rpc::role_grant_permission(s, std::move(name), std::move(perm), who);
  co_return header_only(s);
}

awaitable<HttpResponse> role_revoke(KvService& s, const json::object& body,
                                    const Credentials& who) {
  std::string role = get_text(body, "role");
  std::string key = get_bytes(body, "key");
  std::string range_end = get_bytes(body, "range_end");
  co_await rpc::role_revoke_permission(s, std::move(role), std::move(key), std::move(range_end),
                                       who);
  co_return header_only(s);
}

}  // namespace

const std::map<std::string, Handler, std::less<>>& auth_routes() {
  static const std::map<std::string, Handler, std::less<>> table = {
      {"/v3/auth/enable", enable},
      {"/v3/auth/disable", disable},
      {"/v3/auth/authenticate", authenticate},
      {"/v3/auth/user/add", user_add},
      {"/v3/auth/user/get", user_get},
      {"/v3/auth/user/list", user_list},
      {"/v3/auth/user/delete", user_delete},
      {"/v3/auth/user/changepw", user_changepw},
      {"/v3/auth/user/grant", user_grant},
      {"/v3/auth/user/revoke", user_revoke},
      {"/v3/auth/role/add", role_add},
      {"/v3/auth/role/get", role_get},
      {"/v3/auth/role/list", role_list},
      {"/v3/auth/role/delete", role_delete},
      {"/v3/auth/role/grant", role_grant},
      {"/v3/auth/role/revoke", role_revoke},
  };
  return table;
}

}  // namespace etcdlab::gateway
