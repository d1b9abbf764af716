// `etcdlabctl watch -i`'s line reading (server/cli: go_scan.h's argify, watch_args.h): a
// fuzzed stdin line is split into words as etcdctl's argify splits it, and a "watch" line's
// words go through parse_watch_line and watch_target as the interactive loop
// (watch_commands.cc) sends them, with or without ETCDCTL_WATCH_KEY / _RANGE_END. Refusals are
// WatchArgsError (the loop prints them); any other exception or a crash is a finding. Two
// properties besides:
//  - argify splits a line as etcdctl's regexp does: on lines short enough for std::regex
//    (which recurses per character: a 100 KB word overflowed the stack, this target's first
//    finding), its matches, each split alone, give argify's words;
//  - the words argify gave, each written back as a Go string literal (go_quote, what etcdctl
//    prints with %q), split again into the same words: its unquoting is strconv.Unquote.
//
// Input: byte 0 picks the environment (bit 0: a key, bit 1: a range end, each a length-
// prefixed string that follows), then the line (up to its first newline, as a line read).
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "../fuzz_input.h"
#include "go_format.h"
#include "go_scan.h"
#include "watch_args.h"

using namespace etcdlab::cli;

namespace {

void watch_line(const std::vector<std::string>& words, const std::string& env_key,
                const std::string& env_range) {
  if (words.size() < 2 && env_key.empty()) return;  // "command type or key is not provided"
  WatchFlags flags;
  WatchArgs parsed;
  try {
    parsed = parse_watch_line(words, env_key, env_range, flags);
  } catch (const WatchArgsError&) {
    return;  // the loop exits 128 with it
  }
  try {
    WatchTarget t = watch_target(parsed.words, flags);
    if (flags.prefix && t.range_end.empty()) __builtin_trap();  // a prefix is always a range
  } catch (const WatchArgsError&) {
    // "Invalid command ...": the loop goes on
  }
}

// The regexp's matches (etcdctl's argify before unquoting), with std::regex.
std::vector<std::string> regexp_matches(const std::string& line) {
  static const std::regex word(R"re("(?:[^"\\]|\\.)*"|'[^']*'|[^'"\s]\S*[^'"\s]?)re");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(line.begin(), line.end(), word);
       it != std::sregex_iterator(); ++it) {
    out.push_back(it->str());
  }
  return out;
}

void same_split_as_the_regexp(const std::string& line,
                              const std::optional<std::vector<std::string>>& words) {
  std::vector<std::string> expected;
  for (const std::string& m : regexp_matches(line)) {
    auto one = argify(m);  // a match alone is one word, unquoted
    if (!one) {
      if (words) __builtin_trap();  // a bad quoted word refuses the line
      return;
    }
    if (one->size() != 1) __builtin_trap();
    expected.push_back((*one)[0]);
  }
  if (!words || *words != expected) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  etcdlab::fuzz::FuzzInput in(data, size);
  uint8_t env = in.byte();
  std::string env_key(env & 1 ? in.take(16) : "");
  std::string env_range(env & 2 ? in.take(16) : "");
  std::string line(in.rest());
  line = line.substr(0, line.find('\n'));

  auto words = argify(line);
  if (line.size() <= 4096) same_split_as_the_regexp(line, words);
  if (!words) return 0;  // "invalid syntax": etcdctl exits 3
  if (!words->empty() && (*words)[0] == "watch") watch_line(*words, env_key, env_range);

  std::string again;
  for (const auto& w : *words) again += (again.empty() ? "" : " ") + go_quote(w);
  auto back = argify(again);
  if (!back || *back != *words) __builtin_trap();
  return 0;
}
