#pragma once
// What etcdctl prints comes out of Go's standard library; these are the pieces etcdlabctl needs,
// written to give the same bytes: strconv's quoting and number parsing, time.Duration both
// ways, go-humanize's byte sizes.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace etcdlab::cli {

// strconv.Quote (fmt's %q of a string): printable runes as they are, \a \b \f \n \r \t \v \\ \",
// other bytes below 0x80 and every byte of invalid UTF-8 as \xHH, other runes as \uHHHH or
// \UHHHHHHHH.
std::string go_quote(std::string_view bytes);
// strconv.QuoteRune (fmt's %q of a byte or rune): 'x', '\n', '\x01'.
std::string go_quote_rune(char32_t r);
// unicode.IsPrint as of Go 1.19 (Unicode 13.0.0).
bool go_is_print(char32_t r);
// Appends rune `r` as UTF-8 (as Go's utf8.AppendRune, for valid runes).
void append_utf8(std::string& out, char32_t r);
// utf8.DecodeRuneInString of a non-empty `s`: the rune and its width; {kRuneError, 1} for
// anything invalid (a stray byte, an overlong form, a surrogate, past U+10FFFF, a truncated
// sequence).
inline constexpr char32_t kRuneError = 0xFFFD;
std::pair<char32_t, size_t> decode_rune(std::string_view s);

// time.Duration.String: "1.5ms", "5.000472284s", "1m30s", "0s".
std::string go_duration(std::chrono::nanoseconds d);

// A parse that either gives a value or the error Go's would give, worded as Go words it.
template <typename T>
struct Parsed {
  std::optional<T> value;
  std::string error;  // set when value is empty
};

// time.ParseDuration: "5s", "500ms", "1m30s", "1.5h", "-2s", "0". Errors: time: invalid
// duration "x", time: missing unit in duration "5", time: unknown unit "x" in duration "5x".
Parsed<std::chrono::nanoseconds> go_parse_duration(std::string_view s);
// strconv.ParseInt(s, base, 64); base 0 takes Go's prefixes (0x, 0o, 0, 0b) and underscores.
// Errors: strconv.ParseInt: parsing "x": invalid syntax | value out of range.
Parsed<int64_t> go_parse_int(std::string_view s, int base);
// strconv.ParseBool: 1 t T TRUE true True, 0 f F FALSE false False.
Parsed<bool> go_parse_bool(std::string_view s);

// go-humanize's Bytes (SI): "20 kB", "1.2 MB", "9 B".
std::string human_bytes(uint64_t bytes);
// fmt's %x of an id.
std::string hex(uint64_t id);
// fmt's %016x of a lease id (an int64): "00000000000004d2", "-000000000000001".
std::string lease_hex(int64_t id);

namespace detail {
struct CodeRange {
  char32_t lo, hi;  // inclusive
};
extern const CodeRange kGoPrintable[];
extern const size_t kGoPrintableCount;
}  // namespace detail

}  // namespace etcdlab::cli
