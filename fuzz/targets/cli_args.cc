// etcdlabctl's argument parser (server/cli: the command tree and pflag's parsing): the words
// of a fuzzed command line (NUL-separated) pick a command of the real tree (the groups main.cc
// registers, all but its help command), whose flags and its ancestors' persistent flags parse
// the rest; its help is rendered too. For watch, what the flags left goes through
// parseWatchArgs (watch_args.h) as the command would send it. Commands are not run (they
// would connect or touch files): the parser is the target.
#include <algorithm>

#include "../fuzz_input.h"
#include "command.h"
#include "context.h"
#include "flags.h"
#include "watch_args.h"

using namespace etcdlab::cli;

namespace {

struct Tree {
  Context ctx;
  Command root{"etcdlabctl", "A simple command line client for etcdlab."};
  Tree() {
    ctx.add_global_flags(root);
    add_watch_commands(root, ctx, {});  // (its command line is read only when it runs)
    add_kv_commands(root, ctx);
    add_cluster_commands(root, ctx);
    add_maintenance_commands(root, ctx);
    add_lease_commands(root, ctx);
    add_txn_commands(root, ctx);
    add_lock_commands(root, ctx);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Fresh each time: flag values are written by parsing.
  Tree tree;
  std::vector<std::string> argv;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  while (!text.empty() && argv.size() < 32) {
    size_t end = text.find('\0');
    argv.emplace_back(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
  // The command: the leading words that name one (cobra lets flags come first; words that
  // name no child end the path).
  Command* cmd = &tree.root;
  std::vector<std::string> args = argv;  // without the command's path, as cobra's Find leaves it
  for (const auto& word : argv) {
    Command* next = nullptr;
    for (const auto& c : cmd->children()) {
      if (c->name() == word) next = c.get();
    }
    if (!next) {
      if (!word.empty() && word[0] == '-') continue;
      break;
    }
    args.erase(std::find(args.begin(), args.end(), word));
    cmd = next;
  }
  std::vector<FlagSet*> sets = {&cmd->flags(), &cmd->persistent_flags()};
  for (Command* p = cmd->parent(); p; p = p->parent()) sets.push_back(&p->persistent_flags());
  ParsedArgs parsed = parse_flags(args, sets);
  if (parsed.args.size() > args.size()) __builtin_trap();
  if (cmd->name() == "watch" && !parsed.error) {
    std::vector<std::string> os_args{"etcdlabctl"};
    os_args.insert(os_args.end(), argv.begin(), argv.end());
    try {
      WatchArgs w = parse_watch_args(os_args, parsed.args, "", "");
      if (w.words.size() > parsed.args.size()) __builtin_trap();
    } catch (const WatchArgsError&) {  // etcdctl's refusals (exit 128)
    }
  }
  (void)cmd->usage();
  return 0;
}
