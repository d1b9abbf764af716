// role add|get|list|delete|grant-permission|revoke-permission, as etcdctl 3.4's
// role_command.go: the argument checks before connecting (a bad permission type or clashing
// range flags: exit 128), then one request, its refusal "Error: etcdserver: ..." with exit 1.
//
// As the user commands (user_commands.cc), these give up after --command-timeout, where
// etcdctl's have no deadline.
#include <cctype>

#include "../gateway/json_fields.h"
#include "auth_responses.h"
#include "context.h"

namespace etcdlab::cli {
namespace {

namespace json = boost::json;
using Args = std::vector<std::string>;

struct PermFlags {
  bool prefix = false;
  bool from_key = false;
};

// clientv3.StrToPermissionType: READ, WRITE, READWRITE in any case.
std::string perm_type(const std::string& word) {
  std::string upper = word;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "READ" || upper == "WRITE" || upper == "READWRITE") return upper;
  throw ExitError(kExitBadArgs, "invalid permission type: " + word);
}

// etcdctl's permRange: [key, range_end) from `args` (key [endkey]) and the flags. An empty key
// is "\0" (etcd's intervals have no empty key), every key with --prefix or --from-key.
std::pair<std::string, std::string> perm_range(const Args& args, const PermFlags& f) {
  const char* both = "--from-key and --prefix flags are mutually exclusive";
  const std::string all(1, '\0');
  if (args[0].empty()) {
    if (f.prefix && f.from_key) throw ExitError(kExitBadArgs, both);
    return {all, f.prefix || f.from_key ? all : ""};
  }
  if (args.size() == 1) {
    if (f.prefix && f.from_key) throw ExitError(kExitBadArgs, both);
    if (f.prefix) return {args[0], prefix_end(args[0])};
    return {args[0], f.from_key ? all : ""};
  }
  if (f.prefix) throw ExitError(kExitBadArgs, "unexpected endkey argument with --prefix flag");
  if (f.from_key) throw ExitError(kExitBadArgs, "unexpected endkey argument with --from-key flag");
  return {args[0], args[1]};
}

void add_command(Context& ctx, const Command& cmd, const Args& args) {
  if (args.size() != 1) {
    throw ExitError(kExitBadArgs, "role add command requires role name as its argument");
  }
  AuthResponse r = decode_auth(auth_request(ctx, cmd, "/v3/auth/role/add", {{"name", args[0]}}));
  ctx.printer().role_add(args[0], r);
}

void delete_command(Context& ctx, const Command& cmd, const Args& args) {
  if (args.size() != 1) {
    throw ExitError(kExitBadArgs, "role delete command requires role name as its argument");
  }
  AuthResponse r = decode_auth(auth_request(ctx, cmd, "/v3/auth/role/delete", {{"role", args[0]}}));
  ctx.printer().role_delete(args[0], r);
}

void get_command(Context& ctx, const Command& cmd, const Args& args) {
  if (args.size() != 1) {
    throw ExitError(kExitBadArgs, "role get command requires role name as its argument");
  }
  RoleGetResponse r = decode_role_get(
      auth_request(ctx, cmd, "/v3/auth/role/get", {{"role", args[0]}}, Retry::kRepeatable));
  ctx.printer().role_get(args[0], r);
}

void list_command(Context& ctx, const Command& cmd, const Args& args) {
  if (!args.empty()) throw ExitError(kExitBadArgs, "role list command requires no arguments");
  RoleListResponse r = decode_role_list(
      auth_request(ctx, cmd, "/v3/auth/role/list", json::object{}, Retry::kRepeatable));
  ctx.printer().role_list(r);
}

void grant_command(Context& ctx, const PermFlags& f, const Command& cmd, const Args& args) {
  if (args.size() < 3) {
    throw ExitError(kExitBadArgs,
                    "role grant command requires role name, permission type, and key [endkey] "
                    "as its argument");
  }
  std::string type = perm_type(args[1]);
  auto [key, end] = perm_range(Args(args.begin() + 2, args.end()), f);
  json::object perm{{"permType", type}};
  gateway::put_bytes(perm, "key", key);
  gateway::put_bytes(perm, "range_end", end);
  AuthResponse r = decode_auth(auth_request(ctx, cmd, "/v3/auth/role/grant",
                                            {{"name", args[0]}, {"perm", std::move(perm)}}));
  ctx.printer().role_grant_permission(args[0], r);
}

// Prints the key as given (an empty one too) and the range end sent.
void revoke_command(Context& ctx, const PermFlags& f, const Command& cmd, const Args& args) {
  if (args.size() < 2) {
    throw ExitError(kExitBadArgs,
                    "role revoke-permission command requires role name and key [endkey] as its "
                    "argument");
  }
  auto [key, end] = perm_range(Args(args.begin() + 1, args.end()), f);
  json::object body{{"role", args[0]}};
  gateway::put_bytes(body, "key", key);
  gateway::put_bytes(body, "range_end", end);
  AuthResponse r = decode_auth(auth_request(ctx, cmd, "/v3/auth/role/revoke", body));
  ctx.printer().role_revoke_permission(args[0], args[1], end, r);
}

}  // namespace

void add_role_commands(Command& root, Context& ctx) {
  Command& r = root.add("role <subcommand>", "Role related commands");
  r.add("add <role name>", "Adds a new role", "",
        [&ctx](Command& self, const Args& args) { add_command(ctx, self, args); });
  r.add("delete <role name>", "Deletes a role", "",
        [&ctx](Command& self, const Args& args) { delete_command(ctx, self, args); });
  r.add("get <role name>", "Gets detailed information of a role", "",
        [&ctx](Command& self, const Args& args) { get_command(ctx, self, args); });
  r.add("list", "Lists all roles", "",
        [&ctx](Command& self, const Args& args) { list_command(ctx, self, args); });

  auto grant = std::make_shared<PermFlags>();
  Command& g = r.add("grant-permission [options] <role name> <permission type> <key> [endkey]",
                     "Grants a key to a role", "", [&ctx, grant](Command& self, const Args& args) {
                       grant_command(ctx, *grant, self, args);
                     });
  g.flags().add_bool("prefix", &grant->prefix, "grant a prefix permission");
  g.flags().add_bool("from-key", &grant->from_key,
                     "grant a permission of keys that are greater than or equal to the given key "
                     "using byte compare");

  auto revoke = std::make_shared<PermFlags>();
  Command& v = r.add("revoke-permission <role name> <key> [endkey]", "Revokes a key from a role",
                     "", [&ctx, revoke](Command& self, const Args& args) {
                       revoke_command(ctx, *revoke, self, args);
                     });
  v.flags().add_bool("prefix", &revoke->prefix, "revoke a prefix permission");
  v.flags().add_bool("from-key", &revoke->from_key,
                     "revoke a permission of keys that are greater than or equal to the given key "
                     "using byte compare");
}

}  // namespace etcdlab::cli
