// etcdserverpb.Auth over server/rpc/auth_rpcs.h (the JSON door's /v3/auth/* call the same).
// Every answer's header carries the store's revision: auth changes do not move it.
#include "../rpc/auth_rpcs.h"
#include "../rpc/rpcs.h"
#include "auth.pb.h"
#include "convert.h"
#include "rpc.grpc.pb.h"
#include "services.h"

namespace etcdlab::grpc_door {
namespace {

using server::Credentials;

template <class Response>
void fill_now(Response& out, KvService& s) {
  fill_header(out.mutable_header(), s, rpc::current_revision(s));
}

awaitable<void> enable(KvService& s, const pb::AuthEnableRequest&, pb::AuthEnableResponse& out,
                       const Credentials& who) {
  co_await rpc::auth_enable(s, who);
  fill_now(out, s);
}

awaitable<void> disable(KvService& s, const pb::AuthDisableRequest&, pb::AuthDisableResponse& out,
                        const Credentials& who) {
  co_await rpc::auth_disable(s, who);
  fill_now(out, s);
}

// The password is what is checked: a token sent along is not looked at.
awaitable<void> authenticate(KvService& s, const pb::AuthenticateRequest& req,
                             pb::AuthenticateResponse& out, const Credentials& /*who*/) {
  std::string name = req.name(), password = req.password();
  std::string token = co_await rpc::authenticate(s, std::move(name), std::move(password));
  fill_now(out, s);
  out.set_token(token);
}

awaitable<void> user_add(KvService& s, const pb::AuthUserAddRequest& req,
                         pb::AuthUserAddResponse& out, const Credentials& who) {
  std::string name = req.name(), password = req.password();
  co_await rpc::user_add(s, std::move(name), std::move(password), who,
                         req.has_options() && req.options().no_password());
  fill_now(out, s);
}

awaitable<void> user_get(KvService& s, const pb::AuthUserGetRequest& req,
                         pb::AuthUserGetResponse& out, const Credentials& who) {
  std::string name = req.name();
  server::auth::User u = co_await rpc::user_get(s, std::move(name), who);
  fill_now(out, s);
  for (const auto& r : u.roles) out.add_roles(r);
}

awaitable<void> user_list(KvService& s, const pb::AuthUserListRequest&,
                          pb::AuthUserListResponse& out, const Credentials& who) {
  std::vector<std::string> users = co_await rpc::user_list(s, who);
  fill_now(out, s);
  for (const auto& u : users) out.add_users(u);
}

awaitable<void> user_delete(KvService& s, const pb::AuthUserDeleteRequest& req,
                            pb::AuthUserDeleteResponse& out, const Credentials& who) {
  std::string name = req.name();
  co_await rpc::user_delete(s, std::move(name), who);
  fill_now(out, s);
}

awaitable<void> user_change_password(KvService& s, const pb::AuthUserChangePasswordRequest& req,
                                     pb::AuthUserChangePasswordResponse& out,
                                     const Credentials& who) {
  std::string name = req.name(), password = req.password();
  co_await rpc::user_change_password(s, std::move(name), std::move(password), who);
  fill_now(out, s);
}

awaitable<void> user_grant_role(KvService& s, const pb::AuthUserGrantRoleRequest& req,
                                pb::AuthUserGrantRoleResponse& out, const Credentials& who) {
  std::string user = req.user(), role = req.role();
  co_await rpc::user_grant_role(s, std::move(user), std::move(role), who);
  fill_now(out, s);
}

awaitable<void> user_revoke_role(KvService& s, const pb::AuthUserRevokeRoleRequest& req,
                                 pb::AuthUserRevokeRoleResponse& out, const Credentials& who) {
  std::string name = req.name(), role = req.role();
  co_await rpc::user_revoke_role(s, std::move(name), std::move(role), who);
  fill_now(out, s);
}

awaitable<void> role_add(KvService& s, const pb::AuthRoleAddRequest& req,
                         pb::AuthRoleAddResponse& out, const Credentials& who) {
  std::string name = req.name();
  co_await rpc::role_add(s, std::move(name), who);
  fill_now(out, s);
}

awaitable<void> role_get(KvService& s, const pb::AuthRoleGetRequest& req,
                         pb::AuthRoleGetResponse& out, const Credentials& who) {
  std::string name = req.role();
  server::auth::Role r = co_await rpc::role_get(s, std::move(name), who);
  fill_now(out, s);
  for (const auto& p : r.perms) {
    authpb::Permission* o = out.add_perm();
    o->set_permtype(static_cast<authpb::Permission::Type>(p.type));
    o->set_key(p.key);
    o->set_range_end(p.range_end);
  }
}

awaitable<void> role_list(KvService& s, const pb::AuthRoleListRequest&,
                          pb::AuthRoleListResponse& out, const Credentials& who) {
  std::vector<std::string> roles = co_await rpc::role_list(s, who);
  fill_now(out, s);
  for (const auto& r : roles) out.add_roles(r);
}

awaitable<void> role_delete(KvService& s, const pb::AuthRoleDeleteRequest& req,
                            pb::AuthRoleDeleteResponse& out, const Credentials& who) {
  std::string role = req.role();
  co_await rpc::role_delete(s, std::move(role), who);
  fill_now(out, s);
}

awaitable<void> role_grant_permission(KvService& s, const pb::AuthRoleGrantPermissionRequest& req,
                                      pb::AuthRoleGrantPermissionResponse& out,
                                      const Credentials& who) {
  std::string name = req.name();
  server::auth::Permission perm;
  int type = req.perm().permtype();
  if (type < 0 || type > static_cast<int>(server::auth::PermType::kReadWrite)) {
    // (etcd 3.4 stores any number and then matches none of its cases; refused here instead)
    throw server::ApiError(server::GrpcCode::kInvalidArgument,
                           "etcdlab: unknown permission type " + std::to_string(type));
  }
  perm.type = static_cast<server::auth::PermType>(type);
  perm.key = req.perm().key();
  perm.range_end = req.perm().range_end();
  co_await rpc::role_grant_permission(s, std::move(name), std::move(perm), who);
  fill_now(out, s);
}

awaitable<void> role_revoke_permission(KvService& s, const pb::AuthRoleRevokePermissionRequest& req,
                                       pb::AuthRoleRevokePermissionResponse& out,
                                       const Credentials& who) {
  std::string role = req.role(), key = req.key(), range_end = req.range_end();
  co_await rpc::role_revoke_permission(s, std::move(role), std::move(key), std::move(range_end),
                                       who);
  fill_now(out, s);
}

// One line per method: the request, the response, the function above.
#define ETCDLAB_AUTH_METHOD(Method, Request, Response, fn)                                        \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* c, const pb::Request* req,        \
                                   pb::Response* out) override {                                  \
    return serve_unary(door_, c, out,                                                             \
                       [req](auto& s, auto& o, const auto& who) { return fn(s, *req, o, who); }); \
  }

class AuthService final : public pb::Auth::CallbackService {
 public:
  explicit AuthService(Door& door) : door_(door) {}
  ETCDLAB_AUTH_METHOD(AuthEnable, AuthEnableRequest, AuthEnableResponse, enable)
  ETCDLAB_AUTH_METHOD(AuthDisable, AuthDisableRequest, AuthDisableResponse, disable)
  ETCDLAB_AUTH_METHOD(Authenticate, AuthenticateRequest, AuthenticateResponse, authenticate)
  ETCDLAB_AUTH_METHOD(UserAdd, AuthUserAddRequest, AuthUserAddResponse, user_add)
  ETCDLAB_AUTH_METHOD(UserGet, AuthUserGetRequest, AuthUserGetResponse, user_get)
  ETCDLAB_AUTH_METHOD(UserList, AuthUserListRequest, AuthUserListResponse, user_list)
  ETCDLAB_AUTH_METHOD(UserDelete, AuthUserDeleteRequest, AuthUserDeleteResponse, user_delete)
  ETCDLAB_AUTH_METHOD(UserChangePassword, AuthUserChangePasswordRequest,
                      AuthUserChangePasswordResponse, user_change_password)
  ETCDLAB_AUTH_METHOD(UserGrantRole, AuthUserGrantRoleRequest, AuthUserGrantRoleResponse,
                      user_grant_role)
  ETCDLAB_AUTH_METHOD(UserRevokeRole, AuthUserRevokeRoleRequest, AuthUserRevokeRoleResponse,
                      user_revoke_role)
  ETCDLAB_AUTH_METHOD(RoleAdd, AuthRoleAddRequest, AuthRoleAddResponse, role_add)
  ETCDLAB_AUTH_METHOD(RoleGet, AuthRoleGetRequest, AuthRoleGetResponse, role_get)
  ETCDLAB_AUTH_METHOD(RoleList, AuthRoleListRequest, AuthRoleListResponse, role_list)
  ETCDLAB_AUTH_METHOD(RoleDelete, AuthRoleDeleteRequest, AuthRoleDeleteResponse, role_delete)
  ETCDLAB_AUTH_METHOD(RoleGrantPermission, AuthRoleGrantPermissionRequest,
                      AuthRoleGrantPermissionResponse, role_grant_permission)
  ETCDLAB_AUTH_METHOD(RoleRevokePermission, AuthRoleRevokePermissionRequest,
                      AuthRoleRevokePermissionResponse, role_revoke_permission)

 private:
  Door& door_;
};

#undef ETCDLAB_AUTH_METHOD

}  // namespace

std::unique_ptr<grpc::Service> make_auth_service(Door& door) {
  return std::make_unique<AuthService>(door);
}

}  // namespace etcdlab::grpc_door
