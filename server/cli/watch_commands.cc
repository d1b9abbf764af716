// watch, as etcdctl 3.4's watch_command.go: `watch [options] <key> [range_end] [-- cmd ...]`
// prints each response's events until the server cancels the watch (then exits 5, "watch is
// canceled by the server"); `watch -i` reads "watch ..." and "progress" lines from stdin until
// it ends (exit 3). Each response: "watch was canceled (<why>)" on stderr if it ends the
// watcher, "progress notify: <rev>" if it is one, then the printer's lines; with an exec
// command, that command once per event, with ETCD_WATCH_REVISION, _EVENT_TYPE, _KEY and _VALUE
// in its environment. Arguments: watch_args.cc; the stream and its watchers: watch_mux.cc.

#include <iostream>
#include <mutex>
#include <thread>

#include "../gateway/json_fields.h"
#include "context.h"
#include "exec.h"
#include "go_format.h"
#include "go_scan.h"
#include "watch_args.h"
#include "watch_mux.h"

namespace etcdlab::cli {
namespace {

namespace json = boost::json;
using Args = std::vector<std::string>;

// stdout and stderr are written by the reader and, in interactive mode, the stdin loop.
std::mutex output;

// os.Exit from any thread, after what was printed so far.
[[noreturn]] void exit_now(int code, const std::string& line) {
  std::lock_guard lock(output);
  std::cout.flush();
  if (!line.empty()) std::cerr << line << "\n";
  std::cerr.flush();
  std::_Exit(code);
}

std::string quoted_words(const Args& words) {  // fmt's %q of a []string
  std::string out = "[";
  for (size_t i = 0; i < words.size(); ++i) out += (i ? " " : "") + go_quote(words[i]);
  return out + "]";
}

// Runs the exec command for one event, as etcdctl's exec.Command(...).Run(); a failure is
// etcdctl's "command [...] error (...)" and exit 1.
void run_exec(const Args& exec, const WatchResponse& r, const WatchEvent& e) {
  std::vector<std::string> env = environment();
  env.push_back("ETCD_WATCH_REVISION=" + std::to_string(r.header.revision));
  env.push_back("ETCD_WATCH_EVENT_TYPE=" +
                go_quote(e.type == WatchEvent::Type::kDelete ? "DELETE" : "PUT"));
  env.push_back("ETCD_WATCH_KEY=" + go_quote(e.kv.key));
  env.push_back("ETCD_WATCH_VALUE=" + go_quote(e.kv.value));
  std::string failure = run_command(exec, std::move(env));
  if (!failure.empty()) exit_now(1, "command " + quoted_words(exec) + " error (" + failure + ")");
}

// etcdctl's printWatchCh, for one response of one watcher.
void print_response(Printer& printer, const Watcher& w, const WatchResponse& r) {
  {
    std::lock_guard lock(output);
    if (r.canceled) std::cerr << "watch was canceled (" << r.error() << ")\n";
    if (r.is_progress_notify()) std::cout << "progress notify: " << r.header.revision << "\n";
    try {
      printer.watch(r);
    } catch (...) {
      std::cout.flush();
      throw;
    }
    std::cout.flush();
    std::cerr.flush();
  }
  if (!w.exec.empty()) {
    for (const WatchEvent& e : r.events) run_exec(w.exec, r, e);
  }
}

std::shared_ptr<Watcher> make_watcher(const WatchTarget& t, const WatchFlags& f, Args exec) {
  auto w = std::make_shared<Watcher>();
  w->create["key"] = gateway::base64_encode(t.key);
  if (!t.range_end.empty()) w->create["range_end"] = gateway::base64_encode(t.range_end);
  if (f.rev != 0) w->create["start_revision"] = std::to_string(f.rev);
  if (f.prev_kv) w->create["prev_kv"] = true;
  if (f.progress_notify) w->create["progress_notify"] = true;
  w->exec = std::move(exec);
  return w;
}

struct Env {
  std::string key = std::getenv("ETCDCTL_WATCH_KEY") ? std::getenv("ETCDCTL_WATCH_KEY") : "";
  std::string range =
      std::getenv("ETCDCTL_WATCH_RANGE_END") ? std::getenv("ETCDCTL_WATCH_RANGE_END") : "";
};

// watch -i: a line at a time from stdin, while a reader thread prints the responses.
[[noreturn]] void interactive(Context& ctx, const Command& cmd, const Env& env) {
  const Client& client = ctx.client(cmd);
  const GlobalOptions& g = ctx.global();
  auto mux =
      std::make_shared<WatchMux>(g.endpoints, g.dial_timeout, client.token(), client.stream_dial());
  Printer* printer = &ctx.printer();
  std::thread([mux, printer] {
    try {
      mux->run([printer](Watcher& w, const WatchResponse& r) { print_response(*printer, w, r); },
               true);
    } catch (const ExitError& e) {
      exit_now(e.code(), std::string("Error: ") + e.what());
    } catch (const std::exception& e) {
      exit_now(kExitError, std::string("Error: ") + e.what());
    }
  }).detach();

  std::string line;
  for (;;) {
    // bufio's ReadString('\n'): a last line without its newline is an EOF too.
    if (!std::getline(std::cin, line) || std::cin.eof()) {
      exit_now(kExitInvalidInput, "Error: Error reading watch request line: EOF");
    }
    auto args = argify(line);
    if (!args) exit_now(kExitInvalidInput, "Error: invalid syntax");
    auto invalid = [&](const std::string& why) {
      std::lock_guard lock(output);
      std::cerr << "Invalid command" << why << "\n";
      std::cerr.flush();
    };
    if (args->empty()) {
      invalid(": " + line + " (watch and progress supported)");
    } else if ((*args)[0] == "watch") {
      if (args->size() < 2 && env.key.empty()) {
        invalid(" " + line + " (command type or key is not provided)");
        continue;
      }
      WatchFlags flags;
      WatchArgs parsed;
      try {
        parsed = parse_watch_line(*args, env.key, env.range, flags);
      } catch (const WatchArgsError& e) {
        exit_now(kExitBadArgs, std::string("Error: ") + e.what());
      }
      try {
        mux->add(make_watcher(watch_target(parsed.words, flags), flags, parsed.exec));
      } catch (const WatchArgsError& e) {
        invalid(" " + line + " (" + e.what() + ")");
      }
    } else if ((*args)[0] == "progress") {
      mux->request_progress();
    } else {
      invalid(" " + line + " (only support watch)");
    }
  }
}

void watch_command(Context& ctx, const WatchFlags& flags, const Args& os_args, const Command& cmd,
                   const Args& args) {
  Env env;
  if (env.key.empty() && !env.range.empty()) {
    throw ExitError(kExitBadArgs, "ETCDCTL_WATCH_KEY is empty but got ETCDCTL_WATCH_RANGE_END=" +
                                      go_quote(env.range));
  }
  if (flags.interactive) interactive(ctx, cmd, env);
  WatchArgs parsed;
  try {
    parsed = parse_watch_args(os_args, args, env.key, env.range);
  } catch (const WatchArgsError& e) {
    throw ExitError(kExitBadArgs, e.what());
  }
  const Client& client = ctx.client(cmd);
  std::shared_ptr<Watcher> w;
  try {
    w = make_watcher(watch_target(parsed.words, flags), flags, parsed.exec);
  } catch (const WatchArgsError& e) {
    throw ExitError(kExitBadArgs, e.what());
  }
  const GlobalOptions& g = ctx.global();
  WatchMux mux(g.endpoints, g.dial_timeout, client.token(), client.stream_dial());
  mux.add(w);
  Printer& printer = ctx.printer();
  mux.run([&printer](Watcher& each, const WatchResponse& r) { print_response(printer, each, r); },
          false);
  throw ExitError(kExitInterrupted, "watch is canceled by the server");
}

}  // namespace

void add_watch_commands(Command& root, Context& ctx, std::vector<std::string> os_args) {
  auto flags = std::make_shared<WatchFlags>();
  auto argv = std::make_shared<Args>(std::move(os_args));
  Command& w =
      root.add("watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]",
               "Watches events stream on keys or prefixes", "",
               [&ctx, flags, argv](Command& self, const Args& args) {
                 watch_command(ctx, *flags, *argv, self, args);
               });
  w.flags().add_bool("interactive", &flags->interactive, "Interactive mode", 'i');
  w.flags().add_bool("prefix", &flags->prefix, "Watch on a prefix if prefix is set");
  w.flags().add_int64("rev", &flags->rev, "Revision to start watching");
  w.flags().add_bool("prev-kv", &flags->prev_kv,
                     "get the previous key-value pair before the event happens");
  w.flags().add_bool("progress-notify", &flags->progress_notify,
                     "get periodic watch progress notification from server");
}

}  // namespace etcdlab::cli
