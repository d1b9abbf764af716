#pragma once
// The command tree, run the way etcdctl's (spf13/cobra) runs it: the words of the command line
// pick the command (flags may come before, between or after them), the command parses its
// own flags and those its ancestors share, then runs or prints its help. The help and the
// errors cobra reports (unknown command, bad flag) read as etcdctl's.
//
// A command is a `use` line ("get [options] <key> [range_end]", its first word the name), a
// one-line summary, an optional description, flags, and a run function; one without a run
// function is a group ("member") that prints its help.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "flags.h"

namespace etcdlab::cli {

class Command {
 public:
  using Run = std::function<void(Command& self, const std::vector<std::string>& args)>;

  Command(std::string use, std::string summary, std::string description = "", Run run = {});
  Command(const Command&) = delete;
  Command& operator=(const Command&) = delete;

  // Adds a subcommand and returns it.
  Command& add(std::string use, std::string summary, std::string description = "", Run run = {});

  // Flags of this command only.
  FlagSet& flags() { return flags_; }
  // Flags of this command and every command below it (etcdctl's global flags are the root's).
  FlagSet& persistent_flags() { return persistent_; }
  // The persistent flags of the ancestors, as cobra's InheritedFlags.
  std::vector<Flag*> inherited_flags() const;

  std::string name() const;
  // "etcdlabctl member list".
  std::string path() const;
  Command* parent() const { return parent_; }
  Command& root();
  const std::vector<std::unique_ptr<Command>>& children() const { return children_; }
  bool runnable() const { return static_cast<bool>(run_); }

  // The help text (etcdctl's template: NAME, USAGE, COMMANDS, DESCRIPTION, OPTIONS, GLOBAL
  // OPTIONS, aligned with tabs).
  std::string usage() const;

  // Runs a command line (argv without the program name) from this root. Returns the exit code
  // for what cobra reports itself: 0 after help, 1 for a bad command or flag (printed as
  // etcdctl prints it). A command's own failures are exceptions it throws.
  int execute(const std::vector<std::string>& argv);

  // What a command line comes to without running anything (cobra's Find, then the flags), for
  // a caller that reports failures its own way (txn's op lines).
  struct Resolved {
    Command* command = nullptr;
    std::vector<std::string> args;          // what the flags left
    std::string unknown_command;            // cobra's "unknown command ..." error, if any
    std::optional<std::string> flag_error;  // pflag's error, if any
    bool help = false;                      // -h/--help, or a command without a run function
  };
  Resolved resolve(const std::vector<std::string>& argv);
  // Runs the command's run function (one that has one) with `args`.
  void run(const std::vector<std::string>& args) { run_(*this, args); }

  // cobra's own templates, for a tree without etcdctl's usage function (txn parses its op
  // lines with one): the usage ("Usage:", the use line, "Flags:" in pflag's layout) and the
  // help (the description, or else the summary, then the usage).
  std::string cobra_usage() const;
  std::string cobra_help() const;

 private:
  // All flag sets the parser looks in for this command: its own, its persistent ones, then
  // the ancestors' persistent ones.
  std::vector<FlagSet*> flag_sets();
  std::string use_line() const;
  // The help's COMMANDS lines: every runnable command below, by name at each level.
  void append_commands(std::string& text, const std::string& prefix) const;
  std::vector<std::string> suggestions_for(const std::string& typed) const;
  // cobra's stripFlags: the words of a command line, without the flags and the values of the
  // flags that take one (as far as this command knows its flags).
  std::vector<std::string> words(const std::vector<std::string>& args);
  // cobra's Find: the command the words name, walking down from here; its words are taken out
  // of `args`.
  Command* find(std::vector<std::string>& args);

  std::string use_;
  std::string summary_;
  std::string description_;
  Run run_;
  Command* parent_ = nullptr;
  std::vector<std::unique_ptr<Command>> children_;
  FlagSet flags_;
  FlagSet persistent_;
  bool help_ = false;  // -h, --help
};

}  // namespace etcdlab::cli
