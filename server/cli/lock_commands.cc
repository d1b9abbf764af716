// lock and elect, as etcdctl 3.4's lock_command.go and elect_command.go: client-side recipes
// (recipes.h) on a session lease kept alive in the background (session.h).
//
//   lock <name> [exec-command arg1 arg2 ...] [--ttl N]: queues for the lock; once it holds it,
//     prints the key it owns (as `get` prints it) and holds it until SIGINT or SIGTERM, then
//     deletes the key and exits 0; with a command, runs it while holding the lock (with
//     ETCD_LOCK_KEY and ETCD_LOCK_REV in its environment), deletes the key and exits 0, or 1
//     with the command's failure ("Error: exit status 3").
//   elect <name> <proposal>: campaigns; once leader, prints its key and proposal and leads until
//     SIGINT or SIGTERM, then resigns (deletes the key).
//   elect -l <name>: prints the leader's key and proposal, and again at each change, until
//     SIGINT or SIGTERM (exit 0).
// A signal while waiting gives up the wait, takes the key out of the line and exits 1
// ("Error: context canceled"). A session that ends (its lease gone) ends lock and elect with
// "session expired" (exit 1). The session's lease is left to expire, as etcdctl leaves it.
#include <pthread.h>

#include <csignal>
#include <iostream>
#include <thread>

#include "context.h"
#include "exec.h"
#include "recipes.h"

namespace etcdlab::cli {
namespace {

using Args = std::vector<std::string>;

// The context SIGINT and SIGTERM cancel (etcdctl's signal.Notify and context.WithCancel): both
// are blocked in every thread (so the command run under the lock is the one to get a terminal's
// Ctrl-C, as with etcdctl) and a thread waits for the first. Made once, before the other
// threads, and never freed: that thread may outlive the command.
Cancel& interrupted() {
  static Cancel* cancel = [] {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    auto* c = new Cancel;
    std::thread([c, signals] {
      int got = 0;
      sigwait(&signals, &got);
      c->cancel();
    }).detach();
    return c;
  }();
  return *cancel;
}

Link link_of(Context& ctx, const Client& client) {
  return Link{client, ctx.global().endpoints, ctx.global().dial_timeout,
              [&ctx] { return ctx.deadline(); }};
}

// Until SIGINT/SIGTERM or the end of the session; whether it was a signal.
bool wait_for_signal_or_end(Session& session) {
  Cancel wake;
  auto on_signal = interrupted().on_cancel([&wake] { wake.cancel(); });
  auto on_end = session.done().on_cancel([&wake] { wake.cancel(); });
  wake.wait();
  return interrupted().cancelled();
}

void print(Printer& printer, const RangeResponse& r) {
  printer.get(r);
  std::cout.flush();
}

// An error of the recipes, as etcdctl reports it (exit 1).
[[noreturn]] void fail(const std::exception& e) {
  throw ExitError(kExitError, e.what());
}

struct LockOptions {
  int64_t ttl = 10;
};

void lock_command(Context& ctx, const LockOptions& o, const Command& cmd, const Args& args) {
  if (args.empty()) {
    throw ExitError(kExitBadArgs,
                    "lock takes a lock name argument and an optional command to execute");
  }
  const Client& client = ctx.client(cmd);
  Cancel& signal = interrupted();
  Link link = link_of(ctx, client);
  try {
    Session session(client, o.ttl, ctx.global().dial_timeout, ctx.deadline());
    Mutex m(session, args[0]);
    m.lock(link, signal);
    if (args.size() > 1) {
      std::vector<std::string> env{"ETCD_LOCK_KEY=" + m.key(),
                                   "ETCD_LOCK_REV=" + std::to_string(m.header().revision)};
      for (auto& v : environment()) env.push_back(std::move(v));
      std::cout.flush();
      std::string failure = run_command(Args(args.begin() + 1, args.end()), std::move(env));
      std::string unlock_error;
      try {
        m.unlock(link, nullptr);
      } catch (const EtcdError& e) {
        unlock_error = e.what();
      }
      // The command's failure first; the unlock's only if the command succeeded.
      if (!failure.empty()) throw ExitError(kExitError, failure);
      if (!unlock_error.empty()) throw ExitError(kExitError, unlock_error);
      return;
    }
    RangeResponse held = link.get(recipe::range(m.key()), &signal);
    if (held.kvs.empty()) throw ExitError(kExitError, "lock lost on init");
    print(ctx.printer(), held);
    if (!wait_for_signal_or_end(session)) throw ExitError(kExitError, "session expired");
    m.unlock(link, nullptr);
  } catch (const EtcdError& e) {
    fail(e);
  }
}

struct ElectOptions {
  bool listen = false;
};

void observe(Context& ctx, const Client& client, const std::string& name) {
  Cancel& signal = interrupted();
  Session session(client, 0, ctx.global().dial_timeout, ctx.deadline());
  Election e(session, name);
  Printer& printer = ctx.printer();
  e.observe(link_of(ctx, client), signal, [&](const RangeResponse& r) { print(printer, r); });
  if (!signal.cancelled()) throw ExitError(kExitError, "elect: observer lost");
}

void campaign(Context& ctx, const Client& client, const std::string& name,
              const std::string& proposal) {
  Cancel& signal = interrupted();
  Link link = link_of(ctx, client);
  Session session(client, 0, ctx.global().dial_timeout, ctx.deadline());
  Election e(session, name);
  e.campaign(link, signal, proposal);
  print(ctx.printer(), link.get(recipe::range(e.key()), &signal));
  if (!wait_for_signal_or_end(session)) throw ExitError(kExitError, "elect: session expired");
  e.resign(link, nullptr);
}

void elect_command(Context& ctx, const ElectOptions& o, const Command& cmd, const Args& args) {
  if (args.size() != 1 && args.size() != 2) {
    throw ExitError(kExitBadArgs,
                    "elect takes one election name argument and an optional proposal argument");
  }
  const Client& client = ctx.client(cmd);
  if (args.size() == 1 && !o.listen) {
    throw ExitError(kExitBadArgs, "no proposal argument but -l not set");
  }
  if (args.size() == 2 && o.listen) throw ExitError(kExitBadArgs, "proposal given but -l is set");
  interrupted();  // (before the session's threads: they must not take the signals)
  try {
    if (args.size() == 1) {
      observe(ctx, client, args[0]);
    } else {
      campaign(ctx, client, args[0], args[1]);
    }
  } catch (const EtcdError& e) {
    fail(e);
  }
}

}  // namespace

void add_lock_commands(Command& root, Context& ctx) {
  auto lock = std::make_shared<LockOptions>();
  Command& l = root.add(
      "lock <lockname> [exec-command arg1 arg2 ...]", "Acquires a named lock", "",
      [&ctx, lock](Command& self, const Args& args) { lock_command(ctx, *lock, self, args); });
  l.flags().add_int64("ttl", &lock->ttl, "timeout for session");

  auto elect = std::make_shared<ElectOptions>();
  Command& e = root.add(
      "elect <election-name> [proposal]", "Observes and participates in leader election", "",
      [&ctx, elect](Command& self, const Args& args) { elect_command(ctx, *elect, self, args); });
  e.flags().add_bool("listen", &elect->listen, "observation mode", 'l');
}

}  // namespace etcdlab::cli
