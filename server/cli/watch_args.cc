#include "watch_args.h"

#include <algorithm>

#include "context.h"
#include "flags.h"
#include "go_scan.h"

namespace etcdlab::cli {
namespace {

using Words = std::vector<std::string>;

const char* kBadArgsNum = "bad number of arguments";
const char* kConflictEnv = "bad number of arguments (found conflicting environment key)";
const char* kSeparator = "bad number of arguments (found separator --, but no commands)";

// Index of the first "--", or -1.
long separator(const Words& words) {
  auto it = std::find(words.begin(), words.end(), "--");
  return it == words.end() ? -1 : it - words.begin();
}

// ETCDCTL_WATCH_KEY and _RANGE_END go before the words; the exec command's words, which the
// flag parser left among them, are cut off at the last place its first word appears (as
// etcdctl does).
WatchArgs finish(Words words, Words exec, const std::string& env_key,
                 const std::string& env_range) {
  if (!env_key.empty()) {
    Words ranges{env_key};
    if (!env_range.empty()) ranges.push_back(env_range);
    words.insert(words.begin(), ranges.begin(), ranges.end());
  }
  if (!exec.empty()) {
    long end = static_cast<long>(words.size()) - 1;
    while (end >= 0 && words[static_cast<size_t>(end)] != exec[0]) --end;
    words.resize(static_cast<size_t>(std::max(end, 0L)));
  }
  return WatchArgs{std::move(words), std::move(exec)};
}

}  // namespace

WatchArgs parse_watch_args(const Words& os_args, const Words& args, const std::string& env_key,
                           const std::string& env_range) {
  // The words after the command's name, flags and all.
  Words raw = os_args;
  if (auto it = std::find(raw.begin(), raw.end(), "watch"); it != raw.end()) {
    raw.erase(raw.begin(), it + 1);
  }
  const long exec_at = separator(raw);
  if (exec_at >= 0 && exec_at == static_cast<long>(raw.size()) - 1) throw WatchArgsError(kSeparator);
  if (exec_at < 0 && raw.empty() && env_key.empty()) throw WatchArgsError(kBadArgsNum);
  if (exec_at >= 0 && !env_key.empty()) {
    // "ETCDCTL_WATCH_KEY=foo watch foo -- echo 1": a key given twice (etcdctl's walk back).
    long r = static_cast<long>(raw.size()) - 1;
    for (long w = static_cast<long>(args.size()) - 1; w >= 0 && r >= 0; --w) {
      if (args[static_cast<size_t>(w)] == raw[static_cast<size_t>(r)]) {
        --r;
        continue;
      }
      if (r == exec_at) throw WatchArgsError(kConflictEnv);
    }
  }
  if (exec_at < 0 && !args.empty() && !env_key.empty()) throw WatchArgsError(kConflictEnv);
  Words exec;
  if (exec_at >= 0) exec.assign(raw.begin() + exec_at + 1, raw.end());
  return finish(args, std::move(exec), env_key, env_range);
}

WatchArgs parse_watch_line(const Words& words, const std::string& env_key,
                           const std::string& env_range, WatchFlags& flags) {
  flags = WatchFlags{};
  Words line(words.begin() + 1, words.end());  // after "watch"
  const long exec_at = separator(line);
  if (exec_at >= 0 && exec_at == static_cast<long>(line.size()) - 1) {
    throw WatchArgsError(kSeparator);
  }
  FlagSet set;
  set.add_bool("interactive", &flags.interactive, "", 'i');
  set.add_bool("prefix", &flags.prefix, "");
  set.add_bool("prev-kv", &flags.prev_kv, "");
  set.add_bool("progress-notify", &flags.progress_notify, "");
  set.add_int64("rev", &flags.rev, "");
  ParsedArgs parsed = parse_flags(line, {&set});
  if (parsed.error) {
    flags = WatchFlags{};
    // pflag answers -h and --help, which it does not know here, with ErrHelp.
    bool help = parsed.error->find("'h' in -h") != std::string::npos ||
                parsed.error->ends_with("unknown flag: --help");
    throw WatchArgsError(help ? "pflag: help requested" : *parsed.error);
  }
  if (exec_at < 0 && env_key.empty() && parsed.args.empty()) {
    flags = WatchFlags{};
    throw WatchArgsError(kBadArgsNum);
  }
  if (exec_at < 0 && !parsed.args.empty() && !env_key.empty()) {
    flags = WatchFlags{};
    throw WatchArgsError(kConflictEnv);
  }
  Words exec;
  if (exec_at >= 0) exec.assign(line.begin() + exec_at + 1, line.end());
  return finish(std::move(parsed.args), std::move(exec), env_key, env_range);
}

WatchTarget watch_target(const Words& words, const WatchFlags& flags) {
  if (words.empty()) throw WatchArgsError(kBadArgsNum);
  if (words.size() == 2 && flags.prefix) {
    throw WatchArgsError("`range_end` and `--prefix` are mutually exclusive");
  }
  WatchTarget t{words[0], words.size() == 2 ? words[1] : ""};
  if (flags.prefix) {  // clientv3.WithPrefix
    if (t.key.empty()) {
      t.key = t.range_end = std::string(1, '\0');
    } else {
      t.range_end = prefix_end(t.key);
    }
  }
  return t;
}

}  // namespace etcdlab::cli
