// user add|get|list|delete|passwd|grant-role|revoke-role, as etcdctl 3.4's user_command.go:
// the argument checks and the password prompts before connecting, then one request (get
// --detail: one more per role), its refusal "Error: etcdserver: ..." with exit 1.
//
// A choice of etcdctl that is not copied: its user commands send without a deadline
// (context.TODO); here they give up after --command-timeout, as every other command.
#include <unistd.h>

#include <iostream>

#include "auth_responses.h"
#include "context.h"

namespace etcdlab::cli {
namespace {

namespace json = boost::json;
using Args = std::vector<std::string>;

// Go's fmt.Scanf("%s", &password) on stdin, as etcdctl reads a password with
// --interactive=false: spaces skipped, then one word; a newline or the end of the input
// before it leaves the password empty. A byte at a time, taking nothing past the word.
std::string scan_word() {
  std::string word;
  char c = 0;
  while (::read(STDIN_FILENO, &c, 1) == 1) {
    bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (!space) {
      word += c;
    } else if (!word.empty() || c == '\n') {
      break;
    }
  }
  return word;
}

// etcdctl's readPasswordInteractive: the password twice, which must match.
std::string read_password_interactive(const std::string& name) {
  auto ask = [](const std::string& prompt) {
    std::optional<std::string> typed = ask_password(prompt);
    if (!typed) throw ExitError(kExitBadArgs, "failed to ask password: cannot read stdin");
    return *typed;
  };
  std::string first = ask("Password of " + name + ": ");
  if (first.empty()) throw ExitError(kExitBadArgs, "empty password");
  std::string second = ask("Type password of " + name + " again for confirmation: ");
  if (first != second) throw ExitError(kExitBadArgs, "given passwords are different");
  return first;
}

struct AddOptions {
  bool interactive = true;
  std::string password;  // --new-user-password
  bool no_password = false;
};

void add_command(Context& ctx, const AddOptions& o, const Command& cmd, const Args& args) {
  if (args.size() != 1) {
    throw ExitError(kExitBadArgs, "user add command requires user name as its argument");
  }
  std::string user = args[0];
  std::string password;
  if (o.no_password) {
    // (the name as given, colon and all)
  } else if (!o.password.empty()) {
    password = o.password;
  } else if (size_t colon = args[0].find(':'); colon != std::string::npos) {
    user = args[0].substr(0, colon);
    password = args[0].substr(colon + 1);
    if (user.empty()) throw ExitError(kExitBadArgs, "empty user name is not allowed");
  } else {
    password = o.interactive ? read_password_interactive(args[0]) : scan_word();
  }
  json::object body{{"name", user}, {"password", password}};
  if (o.no_password) body["options"] = json::object{{"no_password", true}};
  AuthResponse r = decode_auth(auth_request(ctx, cmd, "/v3/auth/user/add", body));
  ctx.printer().user_add(user, r);
}

struct GetOptions {
  bool detail = false;
};

// With --detail: "User: <name>", then each role as role get prints it, after an empty line.
void get_command(Context& ctx, const GetOptions& o, const Command& cmd, const Args& args) {
  if (args.size() != 1) {
    throw ExitError(kExitBadArgs, "user get command requires user name as its argument");
  }
  UserGetResponse r = decode_user_get(
      auth_request(ctx, cmd, "/v3/auth/user/get", {{"name", args[0]}}, Retry::kRepeatable));
  Printer& printer = ctx.printer();
  if (!o.detail) {
    printer.user_get(args[0], r);
    return;
  }
  std::cout << "User: " << args[0] << "\n";
  for (const std::string& role : r.roles) {
    std::cout << "\n";
    printer.role_get(role, decode_role_get(auth_request(ctx, cmd, "/v3/auth/role/get",
                                                        {{"role", role}}, Retry::kRepeatable)));
  }
}

void list_command(Context& ctx, const Command& cmd, const Args& args) {
  if (!args.empty()) throw ExitError(kExitBadArgs, "user list command requires no arguments");
  UserListResponse r = decode_user_list(
      auth_request(ctx, cmd, "/v3/auth/user/list", json::object{}, Retry::kRepeatable));
  ctx.printer().user_list(r);
}

void delete_command(Context& ctx, const Command& cmd, const Args& args) {
  if (args.size() != 1) {
    throw ExitError(kExitBadArgs, "user delete command requires user name as its argument");
  }
  AuthResponse r = decode_auth(auth_request(ctx, cmd, "/v3/auth/user/delete", {{"name", args[0]}}));
  ctx.printer().user_delete(args[0], r);
}

struct PasswdOptions {
  bool interactive = true;
};

void passwd_command(Context& ctx, const PasswdOptions& o, const Command& cmd, const Args& args) {
  if (args.size() != 1) {
    throw ExitError(kExitBadArgs, "user passwd command requires user name as its argument");
  }
  std::string password = o.interactive ? read_password_interactive(args[0]) : scan_word();
  AuthResponse r = decode_auth(auth_request(ctx, cmd, "/v3/auth/user/changepw",
                                            {{"name", args[0]}, {"password", password}}));
  ctx.printer().user_change_password(r);
}

void grant_role_command(Context& ctx, const Command& cmd, const Args& args) {
  if (args.size() != 2) {
    throw ExitError(kExitBadArgs,
                    "user grant command requires user name and role name as its argument");
  }
  AuthResponse r = decode_auth(
      auth_request(ctx, cmd, "/v3/auth/user/grant", {{"user", args[0]}, {"role", args[1]}}));
  ctx.printer().user_grant_role(args[0], args[1], r);
}

void revoke_role_command(Context& ctx, const Command& cmd, const Args& args) {
  if (args.size() != 2) {
    throw ExitError(kExitBadArgs,
                    "user revoke-role requires user name and role name as its argument");
  }
  AuthResponse r = decode_auth(
      auth_request(ctx, cmd, "/v3/auth/user/revoke", {{"name", args[0]}, {"role", args[1]}}));
  ctx.printer().user_revoke_role(args[0], args[1], r);
}

}  // namespace

void add_user_commands(Command& root, Context& ctx) {
  Command& u = root.add("user <subcommand>", "User related commands");

  auto add = std::make_shared<AddOptions>();
  Command& a =
      u.add("add <user name or user:password> [options]", "Adds a new user", "",
            [&ctx, add](Command& self, const Args& args) { add_command(ctx, *add, self, args); });
  a.flags().add_bool("interactive", &add->interactive,
                     "Read password from stdin instead of interactive terminal");
  a.flags().add_string("new-user-password", &add->password,
                       "Supply password from the command line flag");
  a.flags().add_bool("no-password", &add->no_password,
                     "Create a user without password (CN based auth only)");

  u.add("delete <user name>", "Deletes a user", "",
        [&ctx](Command& self, const Args& args) { delete_command(ctx, self, args); });

  auto get = std::make_shared<GetOptions>();
  Command& g =
      u.add("get <user name> [options]", "Gets detailed information of a user", "",
            [&ctx, get](Command& self, const Args& args) { get_command(ctx, *get, self, args); });
  g.flags().add_bool("detail", &get->detail, "Show permissions of roles granted to the user");

  u.add("list", "Lists all users", "",
        [&ctx](Command& self, const Args& args) { list_command(ctx, self, args); });

  auto passwd = std::make_shared<PasswdOptions>();
  Command& p = u.add("passwd <user name> [options]", "Changes password of user", "",
                     [&ctx, passwd](Command& self, const Args& args) {
                       passwd_command(ctx, *passwd, self, args);
                     });
  p.flags().add_bool("interactive", &passwd->interactive,
                     "If true, read password from stdin instead of interactive terminal");

  u.add("grant-role <user name> <role name>", "Grants a role to a user", "",
        [&ctx](Command& self, const Args& args) { grant_role_command(ctx, self, args); });
  u.add("revoke-role <user name> <role name>", "Revokes a role from a user", "",
        [&ctx](Command& self, const Args& args) { revoke_role_command(ctx, self, args); });
}

}  // namespace etcdlab::cli
