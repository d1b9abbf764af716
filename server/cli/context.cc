#include "context.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cctype>
#include <iostream>
#include <set>

extern char** environ;

namespace etcdlab::cli {
namespace {

// capnslog's line prefix, as etcdctl's pkg/flags logs with it: "2006-01-02 15:04:05.000000 W | ".
std::string log_prefix(char level) {
  auto now = std::chrono::system_clock::now();
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1'000'000;
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm local{};
  localtime_r(&t, &local);
  return fmt::format("{:%Y-%m-%d %H:%M:%S}.{:06} {} | ", local, micros, level);
}

// ETCDCTL_COMMAND_TIMEOUT for --command-timeout.
std::string env_key(const std::string& flag) {
  std::string key = "ETCDCTL_";
  for (char c : flag) key += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return key;
}

}  // namespace

void Context::add_global_flags(Command& root) {
  FlagSet& f = root.persistent_flags();
  f.add_duration("command-timeout", &global_.command_timeout,
                 "timeout for short running command (excluding dial timeout)");
  f.add_duration("dial-timeout", &global_.dial_timeout, "dial timeout for client connections");
  f.add_string_slice("endpoints", &global_.endpoints, "gRPC endpoints");
  f.add_bool("hex", &global_.hex, "print byte strings as hex encoded strings");
  f.add_string("cacert", &global_.tls.cacert,
               "verify certificates of TLS-enabled secure servers using this CA bundle");
  f.add_string("cert", &global_.tls.cert, "identify secure client using this TLS certificate file");
  f.add_string("key", &global_.tls.key, "identify secure client using this TLS key file");
  f.add_bool("insecure-skip-tls-verify", &global_.tls.insecure_skip_verify,
             "skip server certificate verification");
  f.add_string("password", &global_.password,
               "password for authentication (if this option is used, --user option shouldn't "
               "include password)");
  f.add_string("user", &global_.user,
               "username[:password] for authentication (prompt if password is not supplied)");
  f.add_string("write-out", &global_.write_out,
               "set the output format (fields, json, protobuf, simple, table)", 'w');
}

// etcdctl's flags.SetPflagsFromEnv("ETCDCTL", cmd.InheritedFlags()): a variable sets a flag the
// command line did not (a bad value is ignored); a variable for a flag the command line did set
// is fatal; any other ETCDCTL_ variable gets a warning. (etcdctl's main drops ETCDCTL_API.)
void Context::apply_environment(const Command& cmd) {
  std::set<std::string> used, already_set;
  for (Flag* f : cmd.inherited_flags()) {
    std::string key = env_key(f->name());
    if (f->changed()) {
      already_set.insert(key);
      continue;
    }
    const char* value = std::getenv(key.c_str());
    if (value != nullptr && *value != '\0') {
      used.insert(key);
      (void)f->set(value);
    }
  }
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    std::string key = entry.substr(0, entry.find('='));
    if (used.count(key) || key == "ETCDCTL_API") continue;
    // The watch command reads these two itself, and etcdctl says nothing about them there.
    if (cmd.name() == "watch" && (key == "ETCDCTL_WATCH_KEY" || key == "ETCDCTL_WATCH_RANGE_END")) {
      continue;
    }
    if (already_set.count(key)) {
      std::cerr << log_prefix('C') << "pkg/flags: conflicting environment variable \"" << key
                << "\" is shadowed by corresponding command-line flag (either unset environment "
                   "variable or disable flag)\n";
      throw SilentExit{1};
    }
    if (key.rfind("ETCDCTL_", 0) == 0) {
      std::cerr << log_prefix('W') << "pkg/flags: unrecognized environment variable " << entry
                << "\n";
    }
  }
}

Printer& Context::display(const Command& cmd) {
  if (!printer_) {
    apply_environment(cmd);
    printer_ = make_printer(global_.write_out, global_.hex, std::cout, std::cerr);
    if (!printer_) throw ExitError(kExitBadFeature, "unsupported output format");
  }
  return *printer_;
}

const Client& Context::client(const Command& cmd) {
  if (!client_) {
    display(cmd);
    if (global_.endpoints.empty()) {
      throw ExitError(kExitBadConnection, "etcdclient: no available endpoints");
    }
    client_ = std::make_unique<Client>(global_.endpoints, global_.dial_timeout, global_.tls);
    if (const std::optional<Login>& who = login()) {
      try {
        sign_in(*client_, *who, sign_in_deadline());
      } catch (const EtcdError& e) {
        throw ExitError(kExitBadConnection, e.what());
      }
    }
  }
  return *client_;
}

const std::optional<Login>& Context::login() {
  if (!login_) login_ = login_from_flags(global_.user, global_.password);
  return *login_;
}

Deadline Context::sign_in_deadline() const {
  if (global_.dial_timeout <= std::chrono::nanoseconds::zero()) return deadline();
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(global_.dial_timeout);
}

Printer& Context::printer() {
  return *printer_;
}

Deadline Context::deadline() const {
  // Clamped so that a huge --command-timeout cannot overflow the clock.
  auto timeout = std::min<std::chrono::nanoseconds>(global_.command_timeout,
                                                    std::chrono::hours(24 * 365 * 100));
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout);
}

bool Context::command_timeout_set(const Command& cmd) const {
  for (Flag* f : cmd.inherited_flags()) {
    if (f->name() == "command-timeout") return f->changed();
  }
  return false;
}

}  // namespace etcdlab::cli
