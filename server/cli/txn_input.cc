#include "txn_input.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "../gateway/json_fields.h"
#include "context.h"
#include "go_format.h"
#include "go_scan.h"
#include "kv_ops.h"

namespace etcdlab::cli {

namespace json = boost::json;

namespace {

constexpr size_t kBufferSize = 4096;  // bufio's default

// What cobra prints for a flag error at the root of the tree txn makes for each request line:
// its own usage template, with the commands cobra adds by itself (completion, help).
constexpr const char* kRootUsage = R"(Usage:
   [command]

Available Commands:
  completion  Generate the autocompletion script for the specified shell
  del         Removes the specified key or range of keys [key, range_end)
  get         Gets the key or a range of keys
  help        Help about any command
  put         Puts the given key into the store

Flags:
  -h, --help   help for this command

Use " [command] --help" for more information about a command.
)";

[[noreturn]] void invalid_input(const std::string& message) {
  throw ExitError(kExitInvalidInput, message);
}

// clientv3.Compare's operators; any other panics, as there.
const char* compare_result(const std::string& op) {
  if (op == "=") return "EQUAL";
  if (op == "!=") return "NOT_EQUAL";
  if (op == ">") return "GREATER";
  if (op == "<") return "LESS";
  throw GoPanic{"Unknown result op"};
}

}  // namespace

bool TxnReader::fill() {
  char chunk[kBufferSize];
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, chunk, kBufferSize - (buffer_.size() - at_) % kBufferSize);
    if (n > 0) {
      buffer_.erase(0, at_);
      at_ = 0;
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::string why = std::strerror(errno);
      if (!why.empty())
        why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
      error_ = "read /dev/stdin: " + why;
    }
    return false;
  }
}

std::string TxnReader::read_line() {
  for (;;) {
    size_t nl = buffer_.find('\n', at_);
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(at_, nl + 1 - at_);
      at_ = nl + 1;
      return line;
    }
    if (!fill()) invalid_input(error_.empty() ? "EOF" : error_);
  }
}

std::string TxnReader::read_rest() {
  std::string out;
  char chunk[kBufferSize];
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
    if (n > 0) {
      out.append(chunk, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      return out;
    }
  }
}

json::object parse_compare(std::string_view line) {
  size_t paren = line.find('(');
  if (paren == std::string_view::npos) invalid_input("malformed comparison: " + std::string(line));
  std::string target(line.substr(0, paren));
  std::string key, op, value;
  GoScan scan = go_sscanf(line.substr(paren + 1), "%q) %s %q", {&key, &op, &value});
  if (scan.n != 3) {
    invalid_input("malformed comparison: " + std::string(line) + "; got " + target + "(" +
                  go_quote(key) + ") " + op + " " + go_quote(value));
  }
  json::object cmp;
  cmp["key"] = gateway::base64_encode(key);
  auto number = [&](const char* name, const char* field) {
    auto v = go_parse_int(value, 10);
    if (!v.value) invalid_input("invalid txn compare request: " + std::string(line));
    cmp["target"] = name;
    cmp["result"] = compare_result(op);
    cmp[field] = std::to_string(*v.value);
  };
  if (target == "ver" || target == "version") {
    number("VERSION", "version");
  } else if (target == "c" || target == "create") {
    number("CREATE", "create_revision");
  } else if (target == "m" || target == "mod") {
    number("MOD", "mod_revision");
  } else if (target == "val" || target == "value") {
    cmp["target"] = "VALUE";
    cmp["result"] = compare_result(op);
    cmp["value"] = gateway::base64_encode(value);  // written even when empty: "" is a value
  } else if (target == "lease") {
    // etcdctl 3.4 hands clientv3.Compare the value as a string, which it cannot take for a
    // lease (mustInt64 panics): no lease compare can be sent from etcdctl 3.4.
    compare_result(op);
    throw GoPanic{"bad value"};
  } else {
    invalid_input("malformed comparison: " + std::string(line) + " (unknown target " + target +
                  ")");
  }
  return cmp;
}

json::object parse_op(const std::string& line, TxnReader& in) {
  auto args = argify(line, true);
  if (!args) invalid_input("invalid syntax");
  if (args->size() < 2) invalid_input("invalid txn compare request: " + line);
  const std::string invalid = "invalid txn request: " + line;

  // A fresh tree for each line (etcdctl makes its put, get and del commands anew, so no flag
  // of one line stays set for the next).
  json::object op;
  GetOptions get;
  PutOptions put;
  DelOptions del;
  Command root("", "");
  add_get_command(
      root, get, [&](Command&, const auto& a) { op["request_range"] = range_request(get, a); },
      false);
  add_put_command(root, put, [&](Command&, const auto& a) {
    op["request_put"] = put_request(put, a, [&] { return in.read_rest(); });
  });
  add_del_command(root, del, [&](Command&, const auto& a) {
    op["request_delete_range"] = delete_request(del, a);
  });
  Command::Resolved r = root.resolve(*args);
  if (!r.unknown_command.empty()) invalid_input(invalid);
  if (r.flag_error) {
    // cobra prints the usage (to stderr, as its Println does), not the error (silenced).
    std::cout.flush();
    std::cerr << (r.command == &root ? std::string(kRootUsage) : r.command->cobra_usage()) << "\n";
    invalid_input(invalid);
  }
  if (r.help) {
    // etcdctl prints the help and then waits for ever for the op that never comes (its
    // parse returns no error); this one says the line is not a request.
    std::cout << (r.command == &root ? std::string(kRootUsage) : r.command->cobra_help());
    invalid_input(invalid);
  }
  r.command->run(r.args);
  return op;
}

namespace {

// The lines of a section up to the blank one, each parsed by `parse`.
template <typename Parse>
json::array read_section(TxnReader& in, Parse parse) {
  json::array out;
  for (;;) {
    std::string line(go_trim_space(in.read_line()));
    if (line.empty()) return out;
    out.push_back(parse(line));
  }
}

}  // namespace

json::array read_compares(TxnReader& in) {
  return read_section(in, [](const std::string& line) { return parse_compare(line); });
}

json::array read_ops(TxnReader& in) {
  return read_section(in, [&in](const std::string& line) { return parse_op(line, in); });
}

}  // namespace etcdlab::cli
