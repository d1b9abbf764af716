#pragma once
// The watch command's arguments as etcdctl 3.4's watch_command.go reads them: the key and
// range_end, the exec command after "--", ETCDCTL_WATCH_KEY / ETCDCTL_WATCH_RANGE_END, and the
// lines of interactive mode ("watch [options] <key> [range_end] [-- cmd ...]", "progress"),
// split into words as its argify does. Errors are etcdctl's messages (the caller picks the exit:
// 128 for bad arguments, 3 for a line that cannot be read).

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace etcdlab::cli {

// The watch command's own flags (also what an interactive line may carry).
struct WatchFlags {
  bool interactive = false;
  bool prefix = false;
  bool prev_kv = false;
  bool progress_notify = false;  // etcdctl 3.5's flag; 3.4 has none
  int64_t rev = 0;
};

// etcdctl's errBadArgs* and the other refusals, worded as it words them.
struct WatchArgsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct WatchArgs {
  std::vector<std::string> words;  // key [range_end] [ignored...]
  std::vector<std::string> exec;   // the command to run per event, if any
};

// parseWatchArgs for the command line: `os_args` is the whole argv (the program first),
// `args` what the flag parser left (cobra's args: "--" removed). Throws WatchArgsError.
WatchArgs parse_watch_args(const std::vector<std::string>& os_args,
                           const std::vector<std::string>& args, const std::string& env_key,
                           const std::string& env_range);

// parseWatchArgs for an interactive line's words (the first is "watch"): its flags go to
// `flags` (each line sets them anew). Throws WatchArgsError with the flag parser's message
// ("unknown flag: --x", "pflag: help requested") or etcdctl's.
WatchArgs parse_watch_line(const std::vector<std::string>& words, const std::string& env_key,
                           const std::string& env_range, WatchFlags& flags);

// The create request (gateway JSON) for `words` and the flags, as getWatchChan and clientv3's
// options build it. Throws WatchArgsError ("bad number of arguments", "`range_end` and
// `--prefix` are mutually exclusive").
struct WatchTarget {
  std::string key;
  std::string range_end;
};
WatchTarget watch_target(const std::vector<std::string>& words, const WatchFlags& flags);

}  // namespace etcdlab::cli
