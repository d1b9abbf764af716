#pragma once
// What every command shares: the global flags, the client and the printer, made the way
// etcdctl's mustClientFromCmd makes them, and the exits etcdctl takes.
//
// A command function reads its arguments and flags, fails on bad input with an ExitError
// before it connects, then calls client() (which also picks the printer), sends its request
// with deadline() and hands the decoded response to printer(). Adding a command is a function
// of that shape, registered in add_*_commands, plus the Printer methods it calls.

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "auth_login.h"
#include "client.h"
#include "command.h"
#include "printer.h"

namespace etcdlab::cli {

// etcdctl's exit codes (cobrautl).
inline constexpr int kExitError = 1;
inline constexpr int kExitBadConnection = 2;
inline constexpr int kExitInvalidInput = 3;
inline constexpr int kExitBadFeature = 4;
inline constexpr int kExitInterrupted = 5;
inline constexpr int kExitBadArgs = 128;

// Ends the command: main prints "Error: <message>" on stderr and exits with `code`.
class ExitError : public std::runtime_error {
 public:
  ExitError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// Ends the command with `code` and nothing more printed (etcdctl's os.Exit after it has said
// what went wrong its own way).
struct SilentExit {
  int code;
};

struct GlobalOptions {
  std::vector<std::string> endpoints{"127.0.0.1:2379"};
  std::string write_out = "simple";
  bool hex = false;
  std::chrono::nanoseconds command_timeout = std::chrono::seconds(5);
  std::chrono::nanoseconds dial_timeout = std::chrono::seconds(2);
  std::string user;      // --user name[:password]
  std::string password;  // --password
  TlsOptions tls;  // --cacert, --cert, --key, --insecure-skip-tls-verify
};

class Context {
 public:
  // Registers --endpoints, -w/--write-out, --hex, --command-timeout, --dial-timeout, --user
  // and --password on the root, as persistent flags.
  void add_global_flags(Command& root);

  // etcdctl's mustClientFromCmd for `cmd`: applies ETCDCTL_* environment variables to the
  // global flags the command line left unset, makes the printer (an unknown -w is exit 4),
  // and the client (no endpoints is exit 2), signed in with --user (auth_login.h; a refused
  // sign-in is exit 2 with the server's message, as clientv3.New's error).
  const Client& client(const Command& cmd);
  // The --user/--password login, worked out (and the password asked for) once; nullopt: no
  // sign-in. (etcdctl's health check signs in each endpoint's client with it.)
  const std::optional<Login>& login();
  // The end of a sign-in started now: clientv3.New's, the dial timeout (none: the command's).
  Deadline sign_in_deadline() const;
  // The first two steps only (etcdctl's health check makes a client per endpoint itself).
  Printer& display(const Command& cmd);
  // The printer made by client() or display().
  Printer& printer();

  // The end of a request started now: now + --command-timeout.
  Deadline deadline() const;

  const GlobalOptions& global() const { return global_; }
  // Whether --command-timeout was given (on the command line or as ETCDCTL_COMMAND_TIMEOUT):
  // snapshot save has no deadline otherwise, as etcdctl's. Asked after client(), which
  // applies the environment.
  bool command_timeout_set(const Command& cmd) const;

 private:
  void apply_environment(const Command& cmd);

  GlobalOptions global_;
  std::unique_ptr<Printer> printer_;
  std::unique_ptr<Client> client_;
  std::optional<std::optional<Login>> login_;
};

// The end of the range of keys starting with `prefix` (clientv3.GetPrefixRangeEnd): the
// prefix with its last byte below 0xff incremented; "\0" (every key from the start) if none.
std::string prefix_end(const std::string& prefix);

// etcdctl's watch (watch_commands.cc): it reads the whole command line, as etcdctl reads
// os.Args, for the words after "--".
void add_watch_commands(Command& root, Context& ctx, std::vector<std::string> os_args);

// The commands, by area. Each adds its commands under `root`; the functions they register
// keep `ctx` for the run.
void add_kv_commands(Command& root, Context& ctx);       // put, get, del, compaction
void add_cluster_commands(Command& root, Context& ctx);  // member ..., endpoint status|health
void add_maintenance_commands(Command& root, Context& ctx);  // alarm, defrag, snapshot
void add_lease_commands(Command& root, Context& ctx);  // lease grant|revoke|timetolive|list|keep-alive
void add_txn_commands(Command& root, Context& ctx);   // txn [-i]
void add_lock_commands(Command& root, Context& ctx);  // lock, elect
void add_auth_commands(Command& root, Context& ctx);  // auth enable|disable
void add_user_commands(Command& root, Context& ctx);  // user add|get|list|delete|passwd|...
void add_role_commands(Command& root, Context& ctx);  // role add|get|list|delete|grant-...

}  // namespace etcdlab::cli
