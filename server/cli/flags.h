#pragma once
// Command-line flags as etcdctl's (spf13/pflag) reads them, so that the same command lines
// work and the same mistakes get the same messages:
//   --name=value, --name value, -n value, -nvalue, -n=value; a bool flag alone means true and
//   takes a value only after '=' (--prefix=false); flags and arguments may be interleaved;
//   "--" ends the flags; "-" alone is an argument.
// Values are parsed as Go parses them (ParseInt base 0, ParseBool, ParseDuration, a CSV list),
// and a bad one is `invalid argument "x" for "--rev" flag: strconv.ParseInt: ...`.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace etcdlab::cli {

class Flag {
 public:
  using Target = std::variant<bool*, std::string*, int64_t*, std::chrono::nanoseconds*,
                              std::vector<std::string>*>;
  Flag(std::string name, char shorthand, std::string usage, Target target);

  const std::string& name() const { return name_; }
  char shorthand() const { return shorthand_; }
  const std::string& usage() const { return usage_; }
  // pflag's DefValue, as the help shows it: "false", "0", "5s", "[127.0.0.1:2379]", "l".
  const std::string& default_text() const { return default_text_; }
  bool is_bool() const { return std::holds_alternative<bool*>(target_); }
  bool is_string() const { return std::holds_alternative<std::string*>(target_); }
  // pflag's Value.Type(): "bool", "string", "int64", "duration" or "stringSlice".
  const char* type_name() const;
  // Set on the command line (or from the environment).
  bool changed() const { return changed_; }
  // Parses and stores `value`; the error is the Go one (strconv..., time: ...), without the
  // "invalid argument" frame.
  [[nodiscard]] std::optional<std::string> set(std::string_view value);

 private:
  std::string name_;
  char shorthand_;
  std::string usage_;
  Target target_;
  std::string default_text_;
  bool changed_ = false;
};

class FlagSet {
 public:
  // Each adder registers a flag writing to *target, whose current value is the default.
  void add_bool(std::string name, bool* target, std::string usage, char shorthand = 0);
  void add_string(std::string name, std::string* target, std::string usage, char shorthand = 0);
  void add_int64(std::string name, int64_t* target, std::string usage);
  void add_duration(std::string name, std::chrono::nanoseconds* target, std::string usage);
  void add_string_slice(std::string name, std::vector<std::string>* target, std::string usage);

  Flag* find(std::string_view name) const;
  Flag* find_shorthand(char c) const;
  // In name order, as pflag visits them.
  std::vector<Flag*> sorted() const;
  bool empty() const { return flags_.empty(); }

 private:
  std::vector<std::unique_ptr<Flag>> flags_;
};

// The arguments left once the flags are taken out; or the parse error as pflag words it
// ("unknown flag: --x", "flag needs an argument: --rev", "invalid argument ...").
struct ParsedArgs {
  std::vector<std::string> args;
  std::optional<std::string> error;
};

// Parses `argv` against the flags in `sets` (a command's own and those it inherits).
ParsedArgs parse_flags(const std::vector<std::string>& argv, const std::vector<FlagSet*>& sets);

}  // namespace etcdlab::cli
