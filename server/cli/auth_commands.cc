// auth enable|disable, as etcdctl 3.4's auth_command.go. They print their line whatever the
// output format (etcdctl's fmt.Println), and enable does what etcdctl's loop does: on "root
// user does not have root role" it adds the role root, grants it to the user root, and asks
// again (any other refusal ends the command, exit 1).
#include <iostream>

#include "context.h"

namespace etcdlab::cli {
namespace {

namespace json = boost::json;
using Args = std::vector<std::string>;

void enable_command(Context& ctx, const Command& cmd, const Args& args) {
  if (!args.empty()) {
    throw ExitError(kExitBadArgs, "auth enable command does not accept any arguments");
  }
  const Client& client = ctx.client(cmd);
  Deadline deadline = ctx.deadline();  // etcdctl's commandCtx: one for the whole loop
  try {
    while (true) {
      try {
        client.call("/v3/auth/enable", json::object{}, deadline, Retry::kNotRepeatable);
        break;
      } catch (const EtcdError& e) {
        if (std::string_view(e.what()) != "etcdserver: root user does not have root role") throw;
      }
      client.call("/v3/auth/role/add", json::object{{"name", "root"}}, deadline,
                  Retry::kNotRepeatable);
      client.call("/v3/auth/user/grant", json::object{{"user", "root"}, {"role", "root"}},
                  deadline, Retry::kNotRepeatable);
    }
  } catch (const EtcdError& e) {
    throw ExitError(kExitError, e.what());
  }
  std::cout << "Authentication Enabled\n";
}

void disable_command(Context& ctx, const Command& cmd, const Args& args) {
  if (!args.empty()) {
    throw ExitError(kExitBadArgs, "auth disable command does not accept any arguments");
  }
  try {
    ctx.client(cmd).call("/v3/auth/disable", json::object{}, ctx.deadline(),
                         Retry::kNotRepeatable);
  } catch (const EtcdError& e) {
    throw ExitError(kExitError, e.what());
  }
  std::cout << "Authentication Disabled\n";
}

}  // namespace

void add_auth_commands(Command& root, Context& ctx) {
  Command& a = root.add("auth <enable or disable>", "Enable or disable authentication");
  a.add("enable", "Enables authentication", "",
        [&ctx](Command& self, const Args& args) { enable_command(ctx, self, args); });
  a.add("disable", "Disables authentication", "",
        [&ctx](Command& self, const Args& args) { disable_command(ctx, self, args); });
}

}  // namespace etcdlab::cli
