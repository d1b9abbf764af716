// etcdlabctl: etcdctl 3.4's commands (ETCDCTL_API=3) against etcdlab, or against etcd: it
// speaks the v3 JSON gateway. Same command lines, same output, same exit codes.
//
//   main.cc              the root command, the global flags, the exits
//   command.{h,cc}       the command tree and its help (cobra's part)
//   flags.{h,cc}         flag parsing (pflag's part)
//   context.{h,cc}       what commands share: global flags, client, printer, exit errors
//   kv_commands.cc       put, get, del, compaction
//   cluster_commands.cc  member list|add|remove|update|promote, endpoint status|health
//   maintenance_commands.cc  alarm list|disarm, defrag, snapshot save|status|restore
//   lease_commands.cc    lease grant|revoke|timetolive|list|keep-alive
//   txn_commands.cc      txn [-i] (txn_input: its stdin; kv_ops: the put/get/del requests)
//   lock_commands.cc     lock, elect (recipes: concurrency's Mutex and Election, recipe_*.cc;
//                        session: their lease, kept alive by keep_alive.cc; cancel.h: SIGINT)
//   exec.{h,cc}          running a user's command (watch -- cmd, lock name cmd)
//   watch_commands.cc    watch, watch -i (watch_args: its arguments; watch_mux: its watchers
//                        on one stream; watch_stream: the /v3/watch stream)
//   responses.{h,cc}     the responses, decoded from the gateway's JSON (watch_responses: a
//                        watch response)
//   printer.{h,cc}       the printer interface; printer_<format>.cc, one per -w format
//   client.{h,cc}        HTTP to the gateway, with deadlines and endpoint failover
//   go_format.{h,cc}     Go's quoting, durations and numbers (go_isprint.cc: its printables)
//   go_scan.{h,cc}       Go's unquoting, spaces, Sscanf; etcdctl's argify
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "context.h"
#include "go_scan.h"

namespace {

using etcdlab::cli::Command;

// cobra's help command: `etcdlabctl help member list` prints that command's help.
void add_help_command(Command& root) {
  root.add("help [command]", "Help about any command",
           "Help provides help for any command in the application.\nSimply type " + root.name() +
               " help [path to command] for full details.",
           [](Command& self, const std::vector<std::string>& args) {
             // As cobra's: the words name a command as far as they go; an unknown first word
             // is an unknown topic, and the root's help follows.
             Command* target = &self.root();
             for (const auto& word : args) {
               Command* next = nullptr;
               for (const auto& c : target->children()) {
                 if (c->name() == word) next = c.get();
               }
               if (!next) break;
               target = next;
             }
             if (target == &self.root() && !args.empty()) {
               // cobra prints this with c.Printf, which writes to stderr.
               std::cerr << "Unknown help topic [";
               for (size_t i = 0; i < args.size(); ++i) {
                 std::cerr << (i ? " " : "") << "`" << args[i] << "`";
               }
               std::cerr << "]\n";
             }
             std::cout << target->usage();
           });
}

}  // namespace

int main(int argc, char** argv) {
  using namespace etcdlab::cli;
  // The layers' logs (the store opened by snapshot status/restore) are not output: warnings
  // and errors only, on stderr.
  spdlog::set_default_logger(spdlog::stderr_color_st("etcdlabctl"));
  spdlog::set_level(spdlog::level::warn);
  Context ctx;
  Command root("etcdlabctl", "A simple command line client for etcdlab.");
  ctx.add_global_flags(root);
  add_watch_commands(root, ctx, std::vector<std::string>(argv, argv + argc));
  add_kv_commands(root, ctx);
  add_cluster_commands(root, ctx);
  add_maintenance_commands(root, ctx);
  add_lease_commands(root, ctx);
  add_txn_commands(root, ctx);
  add_lock_commands(root, ctx);
  add_auth_commands(root, ctx);
  add_user_commands(root, ctx);
  add_role_commands(root, ctx);
  add_help_command(root);
  try {
    return root.execute(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const ExitError& e) {
    std::cout.flush();
    std::cerr << "Error: " << e.what() << "\n";
    return e.code();
  } catch (const SilentExit& e) {
    return e.code;
  } catch (const GoPanic& e) {
    // Go's runtime: the panic, then the goroutines' traces (not reproduced), exit 2.
    std::cout.flush();
    std::cerr << "panic: " << e.message << "\n\ngoroutine 1 [running]:\n"
              << "(etcdctl 3.4 panics on this input; etcdlabctl stops as it does)\n";
    return 2;
  } catch (const std::exception& e) {  // EtcdError from a request, or a bad answer
    std::cout.flush();
    std::cerr << "Error: " << e.what() << "\n";
    return kExitError;
  }
}
