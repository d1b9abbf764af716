#pragma once
// Reading text as Go's standard library reads it, for the input etcdctl parses itself (txn's
// stdin, watch -i's lines): strconv.Unquote, unicode.IsSpace and strings.TrimSpace,
// fmt.Sscanf for string operands, and etcdctl's own argify on top. go_format.h is the other
// direction (what Go prints).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace etcdlab::cli {

// strconv.Unquote of a "double-quoted" Go string literal: its value, or nullopt where Go's
// says "invalid syntax" (a bad escape, a quote or newline inside, no closing quote). Bytes that
// are not UTF-8 come out as U+FFFD, as Go's.
std::optional<std::string> go_unquote(std::string_view s);

// unicode.IsSpace (also fmt's scanning space): \t \n \v \f \r, space, U+0085, U+00A0, U+1680,
// U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
bool go_is_space(char32_t r);
// strings.TrimSpace: `s` without the leading and trailing runes go_is_space takes.
std::string_view go_trim_space(std::string_view s);

// fmt.Sscanf(input, format, args...) with string operands only, for the verbs %q (a Go string
// literal, "double-quoted" or `back-quoted`) and %s (the next word); text and spaces in the
// format match the input as Go's rules say (a space in the format wants at least one in the
// input). `n` is the number of operands stored (each one before the first failure); `error`
// Go's message ("unexpected EOF", "input does not match format", ...) or empty. Input past the
// format is left unread, as Go leaves it.
struct GoScan {
  int n = 0;
  std::string error;
};
GoScan go_sscanf(std::string_view input, std::string_view format,
                 const std::vector<std::string*>& args);

// A Go panic that etcdctl 3.4 runs into on some input: main prints "panic: <message>" and the
// start of a goroutine trace on stderr, and exits 2, as Go's runtime does.
struct GoPanic {
  std::string message;
};

// etcdctl's argify: the words of a line (split at blanks); "double quoted" words are Go string
// literals (nullopt when one is not valid: etcdctl says "invalid syntax"). 'Single quoted' words
// lose their quotes; with `etcdctl34_single_quotes`, as etcdctl 3.4 cuts them, which is by the
// number of words (a bug: `put 'a b' v` puts the key "a"), panicking as Go does when that
// number is out of the word's bounds (throws GoPanic).
std::optional<std::vector<std::string>> argify(const std::string& line,
                                               bool etcdctl34_single_quotes = false);

}  // namespace etcdlab::cli
