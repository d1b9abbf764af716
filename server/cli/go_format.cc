#include "go_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace etcdlab::cli {
namespace {

constexpr char kLowerHex[] = "0123456789abcdef";

void append_hex_byte(std::string& out, uint8_t b) {
  out += "\\x";
  out += kLowerHex[b >> 4];
  out += kLowerHex[b & 0xF];
}

// strconv's appendEscapedRune (not ASCII-only, not graphic-only).
void append_escaped_rune(std::string& out, char32_t r, char quote) {
  if (r == static_cast<char32_t>(quote) || r == '\\') {
    out += '\\';
    out += static_cast<char>(r);
    return;
  }
  if (go_is_print(r)) {
    append_utf8(out, r);
    return;
  }
  switch (r) {
    case '\a':
      out += "\\a";
      return;
    case '\b':
      out += "\\b";
      return;
    case '\f':
      out += "\\f";
      return;
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    case '\v':
      out += "\\v";
      return;
    default:
      break;
  }
  if (r < ' ' || r == 0x7F) {
    append_hex_byte(out, static_cast<uint8_t>(r));
  } else if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) {
    out += "\\ufffd";
  } else if (r < 0x10000) {
    out += fmt::format("\\u{:04x}", static_cast<uint32_t>(r));
  } else {
    out += fmt::format("\\U{:08x}", static_cast<uint32_t>(r));
  }
}

// The quote() of Go's time package, for its error messages: bytes below ' ' or from 0x80 as
// \xHH, '"' and '\' backslashed.
std::string time_quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<uint8_t>(ch);
    if (c < ' ' || c >= 0x80) {
      append_hex_byte(out, c);
    } else {
      if (c == '"' || c == '\\') out += '\\';
      out += ch;
    }
  }
  return out + "\"";
}

uint8_t lower(uint8_t c) {
  return c | ('x' - 'X');
}

// strconv's underscoreOK: underscores only between digits (a base prefix counts as a digit).
bool underscore_ok(std::string_view s) {
  char saw = '^';
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  bool is_hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    is_hex = lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    uint8_t c = static_cast<uint8_t>(s[i]);
    if ((c >= '0' && c <= '9') || (is_hex && lower(c) >= 'a' && lower(c) <= 'f')) {
      saw = '0';
      continue;
    }
    if (c == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

}  // namespace

std::pair<char32_t, size_t> decode_rune(std::string_view s) {
  auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  uint8_t c = b(0);
  if (c < 0x80) return {c, 1};
  auto cont = [&](size_t i, uint8_t lo = 0x80, uint8_t hi = 0xBF) {
    return i < s.size() && b(i) >= lo && b(i) <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF && cont(1)) return {((c & 0x1F) << 6) | (b(1) & 0x3F), 2};
  if (c >= 0xE0 && c <= 0xEF) {
    uint8_t lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    if (cont(1, lo, hi) && cont(2)) {
      return {((c & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F), 3};
    }
  }
  if (c >= 0xF0 && c <= 0xF4) {
    uint8_t lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    if (cont(1, lo, hi) && cont(2) && cont(3)) {
      return {((c & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F), 4};
    }
  }
  return {kRuneError, 1};
}

void append_utf8(std::string& out, char32_t r) {
  if (r < 0x80) {
    out += static_cast<char>(r);
  } else if (r < 0x800) {
    out += static_cast<char>(0xC0 | (r >> 6));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else if (r < 0x10000) {
    out += static_cast<char>(0xE0 | (r >> 12));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (r >> 18));
    out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (r & 0x3F));
  }
}

bool go_is_print(char32_t r) {
  const detail::CodeRange* begin = detail::kGoPrintable;
  const detail::CodeRange* end = begin + detail::kGoPrintableCount;
  auto it = std::upper_bound(begin, end, r,
                             [](char32_t x, const detail::CodeRange& cr) { return x < cr.lo; });
  return it != begin && r <= (it - 1)->hi;
}

std::string go_quote(std::string_view s) {
  std::string out = "\"";
  while (!s.empty()) {
    auto [r, width] = decode_rune(s);
    if (width == 1 && r == kRuneError) {
      append_hex_byte(out, static_cast<uint8_t>(s[0]));
    } else {
      append_escaped_rune(out, r, '"');
    }
    s.remove_prefix(width);
  }
  return out + "\"";
}

std::string go_quote_rune(char32_t r) {
  if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) r = kRuneError;
  std::string out = "'";
  append_escaped_rune(out, r, '\'');
  return out + "'";
}

std::string go_duration(std::chrono::nanoseconds d) {
  int64_t n = d.count();
  bool neg = n < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  if (u == 0) return "0s";
  // The integer part and the fraction of u / 10^prec, the fraction without trailing zeros.
  auto split = [](uint64_t v, int prec) {
    uint64_t scale = 1;
    for (int i = 0; i < prec; ++i) scale *= 10;
    std::string frac = fmt::format("{:0{}}", v % scale, prec);
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    return std::pair<uint64_t, std::string>{v / scale, frac.empty() ? "" : "." + frac};
  };
  std::string out;
  if (u < 1'000'000'000) {
    int prec = u < 1'000 ? 0 : u < 1'000'000 ? 3 : 6;
    const char* unit = u < 1'000 ? "ns" : u < 1'000'000 ? "\u00b5s" : "ms";
    auto [whole, frac] = split(u, prec);
    out = std::to_string(whole) + frac + unit;
  } else {
    auto [secs, frac] = split(u, 9);
    out = std::to_string(secs % 60) + frac + "s";
    uint64_t mins = secs / 60;
    if (mins > 0) {
      out = std::to_string(mins % 60) + "m" + out;
      if (mins / 60 > 0) out = std::to_string(mins / 60) + "h" + out;
    }
  }
  return neg ? "-" + out : out;
}

namespace {

constexpr uint64_t kTwoTo63 = uint64_t{1} << 63;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// time's leadingInt: the digits at the front of s, taken off it; nullopt past 1<<63.
std::optional<uint64_t> leading_int(std::string_view& s) {
  uint64_t v = 0;
  size_t i = 0;
  for (; i < s.size() && is_digit(s[i]); ++i) {
    if (v > kTwoTo63 / 10) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
    if (v > kTwoTo63) return std::nullopt;
  }
  s.remove_prefix(i);
  return v;
}

// time's leadingFraction: the digits at the front of s as a fraction v/scale, taken off it;
// digits past what fits are read and ignored.
std::pair<uint64_t, double> leading_fraction(std::string_view& s) {
  uint64_t v = 0;
  double scale = 1;
  bool overflow = false;
  size_t i = 0;
  for (; i < s.size() && is_digit(s[i]); ++i) {
    if (overflow) continue;
    uint64_t next = v * 10 + static_cast<uint64_t>(s[i] - '0');
    if (v > (kTwoTo63 - 1) / 10 || next > kTwoTo63) {
      overflow = true;
      continue;
    }
    v = next;
    scale *= 10;
  }
  s.remove_prefix(i);
  return {v, scale};
}

// Nanoseconds per unit of time's unitMap; 0 for an unknown unit.
uint64_t duration_unit(std::string_view u) {
  if (u == "ns") return 1;
  if (u == "us" || u == "\u00b5s" || u == "\u03bcs") return 1'000;
  if (u == "ms") return 1'000'000;
  if (u == "s") return 1'000'000'000;
  if (u == "m") return 60'000'000'000;
  if (u == "h") return 3'600'000'000'000;
  return 0;
}

// strconv.ParseUint(s, base, 64), its errors as ParseInt reports them (which names s0).
Parsed<uint64_t> parse_uint(std::string_view s, int base, std::string_view s0) {
  auto fail = [&](const char* why) {
    return Parsed<uint64_t>{std::nullopt, "strconv.ParseInt: parsing " + go_quote(s0) + ": " + why};
  };
  std::string_view digits = s;
  if (s.empty()) return fail("invalid syntax");
  bool base0 = base == 0;
  if (base0) {  // Go's prefixes: 0b, 0o, 0x, or a leading 0 for octal
    base = 10;
    if (s[0] == '0') {
      uint8_t p = s.size() >= 3 ? lower(static_cast<uint8_t>(s[1])) : 0;
      base = p == 'b' ? 2 : p == 'o' ? 8 : p == 'x' ? 16 : 8;
      digits.remove_prefix(base == 8 && p != 'o' ? 1 : 2);
    }
  }
  const uint64_t cutoff = UINT64_MAX / static_cast<uint64_t>(base) + 1;
  bool underscores = false;
  uint64_t n = 0;
  for (char ch : digits) {
    auto c = static_cast<uint8_t>(ch);
    if (c == '_' && base0) {
      underscores = true;
      continue;
    }
    uint8_t d = is_digit(ch)                         ? c - '0'
                : lower(c) >= 'a' && lower(c) <= 'z' ? lower(c) - 'a' + 10
                                                     : 255;
    if (d >= base) return fail("invalid syntax");
    // Go returns at the first overflow, before looking at the digits after it.
    if (n >= cutoff || n * static_cast<uint64_t>(base) + d < n * static_cast<uint64_t>(base)) {
      return fail("value out of range");
    }
    n = n * static_cast<uint64_t>(base) + d;
  }
  if (underscores && !underscore_ok(s)) return fail("invalid syntax");
  return {n, ""};
}

}  // namespace

Parsed<std::chrono::nanoseconds> go_parse_duration(std::string_view orig) {
  using Result = Parsed<std::chrono::nanoseconds>;
  auto invalid = [&] { return Result{std::nullopt, "time: invalid duration " + time_quote(orig)}; };
  std::string_view s = orig;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return {std::chrono::nanoseconds(0), ""};
  if (s.empty()) return invalid();
  uint64_t total = 0;
  while (!s.empty()) {  // ([0-9]*(\.[0-9]*)?[a-z]+)+
    if (!(s[0] == '.' || is_digit(s[0]))) return invalid();
    size_t before = s.size();
    std::optional<uint64_t> v = leading_int(s);
    if (!v) return invalid();
    bool pre = s.size() != before;
    std::pair<uint64_t, double> fraction{0, 1};  // the value is fraction.first / .second
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      before = s.size();
      fraction = leading_fraction(s);
      post = s.size() != before;
    }
    if (!pre && !post) return invalid();
    size_t u = 0;
    while (u < s.size() && s[u] != '.' && !is_digit(s[u])) ++u;
    if (u == 0) return Result{std::nullopt, "time: missing unit in duration " + time_quote(orig)};
    std::string_view unit_name = s.substr(0, u);
    s.remove_prefix(u);
    uint64_t unit = duration_unit(unit_name);
    if (unit == 0) {
      return Result{std::nullopt, "time: unknown unit " + time_quote(unit_name) + " in duration " +
                                      time_quote(orig)};
    }
    if (*v > kTwoTo63 / unit) return invalid();
    uint64_t ns = *v * unit;
    if (fraction.first > 0) {
      ns += static_cast<uint64_t>(static_cast<double>(fraction.first) *
                                  (static_cast<double>(unit) / fraction.second));
      if (ns > kTwoTo63) return invalid();
    }
    total += ns;
    if (total > kTwoTo63) return invalid();
  }
  if (neg) return {std::chrono::nanoseconds(static_cast<int64_t>(0 - total)), ""};
  if (total > kTwoTo63 - 1) return invalid();
  return {std::chrono::nanoseconds(static_cast<int64_t>(total)), ""};
}

Parsed<int64_t> go_parse_int(std::string_view s0, int base) {
  std::string_view s = s0;
  bool neg = !s.empty() && s[0] == '-';
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  Parsed<uint64_t> n = parse_uint(s, base, s0);
  if (!n.value) return {std::nullopt, n.error};
  if ((!neg && *n.value >= kTwoTo63) || (neg && *n.value > kTwoTo63)) {
    return {std::nullopt, "strconv.ParseInt: parsing " + go_quote(s0) + ": value out of range"};
  }
  return {neg ? static_cast<int64_t>(0 - *n.value) : static_cast<int64_t>(*n.value), ""};
}

Parsed<bool> go_parse_bool(std::string_view s) {
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (s == t) return {true, ""};
  }
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (s == f) return {false, ""};
  }
  return {std::nullopt, "strconv.ParseBool: parsing " + go_quote(s) + ": invalid syntax"};
}

std::string human_bytes(uint64_t bytes) {
  static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  if (bytes < 10) return fmt::format("{} B", bytes);
  double e = std::floor(std::log(static_cast<double>(bytes)) / std::log(1000.0));
  double val = std::floor(static_cast<double>(bytes) / std::pow(1000.0, e) * 10 + 0.5) / 10;
  const char* unit = units[static_cast<int>(e)];
  return val < 10 ? fmt::format("{:.1f} {}", val, unit) : fmt::format("{:.0f} {}", val, unit);
}

std::string hex(uint64_t id) {
  return fmt::format("{:x}", id);
}

std::string lease_hex(int64_t id) {
  // Go pads after the sign: -1 is "-000000000000001", 16 characters in all.
  uint64_t magnitude = id < 0 ? 0 - static_cast<uint64_t>(id) : static_cast<uint64_t>(id);
  return id < 0 ? fmt::format("-{:015x}", magnitude) : fmt::format("{:016x}", magnitude);
}

}  // namespace etcdlab::cli
