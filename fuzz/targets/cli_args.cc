// etcdlabctl's argument parser (server/cli: the command tree and pflag's parsing): the words
// of a fuzzed command line (NUL-separated) pick a command of the real tree, whose flags and
// its ancestors' persistent flags parse the rest; its help is rendered too. Commands are not
// run (they would connect or touch files): the parser is the target.
#include "../fuzz_input.h"
#include "command.h"
#include "context.h"
#include "flags.h"

using namespace etcdlab::cli;

namespace {

struct Tree {
  Context ctx;
  Command root{"etcdlabctl", "A simple command line client for etcdlab."};
  Tree() {
    ctx.add_global_flags(root);
    add_watch_commands(root, ctx, {});
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
  for (const auto& word : argv) {
    Command* next = nullptr;
    for (const auto& c : cmd->children()) {
      if (c->name() == word) next = c.get();
    }
    if (!next) {
      if (!word.empty() && word[0] == '-') continue;
      break;
    }
    cmd = next;
  }
  std::vector<FlagSet*> sets = {&cmd->flags(), &cmd->persistent_flags()};
  for (Command* p = cmd->parent(); p; p = p->parent()) sets.push_back(&p->persistent_flags());
  ParsedArgs parsed = parse_flags(argv, sets);
  if (parsed.args.size() > argv.size()) __builtin_trap();
  (void)cmd->usage();
  return 0;
}
