#include "go_scan.h"

#include <stdexcept>
#include <tuple>

#include "go_format.h"

namespace etcdlab::cli {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// strconv.UnquoteChar's escapes after the backslash at s[i] (i moves past them); false where
// Go's says ErrSyntax.
bool unescape(std::string_view s, size_t& i, std::string& out) {
  if (++i >= s.size()) return false;
  char e = s[i++];
  switch (e) {
    case 'a':
      out += '\a';
      return true;
    case 'b':
      out += '\b';
      return true;
    case 'f':
      out += '\f';
      return true;
    case 'n':
      out += '\n';
      return true;
    case 'r':
      out += '\r';
      return true;
    case 't':
      out += '\t';
      return true;
    case 'v':
      out += '\v';
      return true;
    case '\\':
      out += '\\';
      return true;
    case '"':
      out += '"';
      return true;
    case 'x':
    case 'u':
    case 'U': {
      size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
      if (i + n > s.size()) return false;
      uint32_t v = 0;
      for (size_t k = 0; k < n; ++k) {
        int d = hex_digit(s[i + k]);
        if (d < 0) return false;
        v = v * 16 + static_cast<uint32_t>(d);
      }
      i += n;
      if (e == 'x') {
        out += static_cast<char>(v);
        return true;
      }
      if (v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) return false;
      append_utf8(out, v);
      return true;
    }
    default: {
      if (e < '0' || e > '7' || i + 2 > s.size()) return false;
      uint32_t v = static_cast<uint32_t>(e - '0');
      for (size_t k = 0; k < 2; ++k) {
        char d = s[i + k];
        if (d < '0' || d > '7') return false;
        v = v * 8 + static_cast<uint32_t>(d - '0');
      }
      if (v > 255) return false;
      i += 2;
      out += static_cast<char>(v);
      return true;
    }
  }
}

constexpr char32_t kEof = static_cast<char32_t>(-1);

struct ScanError {
  std::string message;
};

// fmt's ss for one Sscanf: the input read a rune at a time (bytes that are not UTF-8 read as
// U+FFFD, as Go's readRune gives them), one rune of push-back.
class Scanner {
 public:
  explicit Scanner(std::string_view input) : in_(input) {}

  GoScan scan(std::string_view format, const std::vector<std::string*>& args) {
    GoScan out;
    try {
      do_scanf(format, args, out.n);
    } catch (const ScanError& e) {
      out.error = e.message;
    }
    return out;
  }

 private:
  [[noreturn]] static void fail(std::string message) { throw ScanError{std::move(message)}; }

  char32_t get_rune() {
    if (pos_ >= in_.size()) {
      last_width_ = 0;
      return kEof;
    }
    auto [r, width] = decode_rune(in_.substr(pos_));
    pos_ += width;
    last_width_ = width;
    return r;
  }
  void unread_rune() {
    pos_ -= last_width_;
    last_width_ = 0;
  }
  char32_t must_read_rune() {
    char32_t r = get_rune();
    if (r == kEof) fail("unexpected EOF");
    return r;
  }
  void not_eof() {
    if (get_rune() == kEof) fail("unexpected EOF");
    unread_rune();
  }

  // ss.SkipSpace with newlines not spaces (Sscanf's setting).
  void skip_space() {
    for (;;) {
      char32_t r = get_rune();
      if (r == kEof) return;
      if (r == '\r' && pos_ < in_.size() && in_[pos_] == '\n') continue;
      if (r == '\n') fail("unexpected newline");
      if (!go_is_space(r)) {
        unread_rune();
        return;
      }
    }
  }

  // ss.quotedString.
  std::string quoted_string() {
    not_eof();
    char32_t quote = get_rune();
    std::string buf;
    if (quote == '`') {
      for (char32_t r = must_read_rune(); r != '`'; r = must_read_rune()) append_utf8(buf, r);
      return buf;
    }
    if (quote != '"') fail("expected quoted string");
    buf += '"';
    for (;;) {
      char32_t r = must_read_rune();
      append_utf8(buf, r);
      if (r == '\\') {
        append_utf8(buf, must_read_rune());
      } else if (r == '"') {
        break;
      }
    }
    auto value = go_unquote(buf);
    if (!value) fail("invalid syntax");
    return *value;
  }

  // ss.token(true, notSpace), for %s.
  std::string word() {
    skip_space();
    std::string buf;
    for (char32_t r = get_rune(); r != kEof; r = get_rune()) {
      if (go_is_space(r)) {
        unread_rune();
        break;
      }
      append_utf8(buf, r);
    }
    return buf;
  }

  // ss.advance: matches the format's text up to its next verb; the bytes of the format used,
  // 0 at a verb or the end of the input, -1 when the input differs.
  long advance(std::string_view format) {
    size_t i = 0;
    while (i < format.size()) {
      auto [fc, w] = decode_rune(format.substr(i));
      if (go_is_space(fc)) {
        int newlines = 0;
        bool trailing_space = false;
        while (i < format.size()) {
          std::tie(fc, w) = decode_rune(format.substr(i));
          if (!go_is_space(fc)) break;
          if (fc == '\n') {
            ++newlines;
            trailing_space = false;
          } else {
            trailing_space = true;
          }
          i += w;
        }
        for (int j = 0; j < newlines; ++j) {
          char32_t r = get_rune();
          while (go_is_space(r) && r != '\n') r = get_rune();
          if (r != '\n' && r != kEof) fail("newline in format does not match input");
        }
        if (trailing_space) {
          char32_t r = get_rune();
          if (newlines == 0) {
            // A space that stands alone wants at least one space in the input.
            if (!go_is_space(r) && r != kEof) fail("expected space in input to match format");
            if (r == '\n') fail("newline in input does not match format");
          }
          while (go_is_space(r) && r != '\n') r = get_rune();
          if (r != kEof) unread_rune();
        }
        continue;
      }
      if (fc == '%') {
        if (i + w == format.size()) fail("missing verb: % at end of format string");
        if (format[i + w] != '%') return static_cast<long>(i);
        i += w;  // "%%" is a literal percent
      }
      char32_t r = must_read_rune();
      if (r != fc) {
        unread_rune();
        return -1;
      }
      i += w;
    }
    return static_cast<long>(i);
  }

  void do_scanf(std::string_view format, const std::vector<std::string*>& args, int& n) {
    size_t i = 0;
    while (i < format.size()) {
      long w = advance(format.substr(i));
      if (w > 0) {
        i += static_cast<size_t>(w);
        continue;
      }
      if (format[i] != '%') {
        if (w < 0) fail("input does not match format");
        break;  // the input ended
      }
      ++i;
      char verb = i < format.size() ? format[i] : '\0';
      ++i;
      if (verb != 'c') skip_space();
      if (verb == '%') {
        skip_space();
        if (must_read_rune() != '%') fail("missing literal %");
        continue;
      }
      if (static_cast<size_t>(n) >= args.size()) {
        fail("too few operands for format '%" + std::string(format.substr(i - 1)) + "'");
      }
      if (verb != 's' && verb != 'q' && verb != 'v') {
        fail(std::string("bad verb '%") + verb + "' for string");
      }
      skip_space();
      not_eof();
      *args[static_cast<size_t>(n)] = verb == 'q' ? quoted_string() : word();
      ++n;
    }
    if (static_cast<size_t>(n) < args.size()) fail("too many operands");
  }

  std::string_view in_;
  size_t pos_ = 0;
  size_t last_width_ = 0;
};

// argify's regexp, `"(?:[^"\\]|\\.)*"|'[^']*'|[^'"\s]\S*[^'"\s]?` (as std::regex reads it),
// matched at `at` by hand: the end of the word that starts there, or npos. std::regex recursed
// once per character and overflowed the stack on a word of about 100 KB
// (fuzz/targets/watch_lines.cc). The three forms begin with different characters, so at most
// one can match at a place.
size_t argify_word_end(const std::string& s, size_t at) {
  auto blank = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };  // \s
  if (s[at] == '"') {  // an escape takes any character but a line end ('.')
    for (size_t i = at + 1; i < s.size(); ++i) {
      if (s[i] == '"') return i + 1;
      if (s[i] != '\\') continue;
      if (i + 1 == s.size() || s[i + 1] == '\n' || s[i + 1] == '\r') return std::string::npos;
      ++i;
    }
    return std::string::npos;
  }
  if (s[at] == '\'') {
    size_t close = s.find('\'', at + 1);
    return close == std::string::npos ? close : close + 1;
  }
  if (blank(s[at])) return std::string::npos;
  size_t end = at;
  while (end < s.size() && !blank(s[end])) ++end;  // \S* takes the last character too
  return end;
}

}  // namespace

std::optional<std::string> go_unquote(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::nullopt;
  std::string_view body = s.substr(1, s.size() - 2);
  std::string out;
  for (size_t i = 0; i < body.size();) {
    char c = body[i];
    if (c == '"' || c == '\n') return std::nullopt;
    if (c == '\\') {
      if (!unescape(body, i, out)) return std::nullopt;
      continue;
    }
    auto [r, width] = decode_rune(body.substr(i));
    append_utf8(out, r);  // (U+FFFD for a byte that is not UTF-8)
    i += width;
  }
  return out;
}

bool go_is_space(char32_t r) {
  if (r <= 0xFF) return (r >= '\t' && r <= '\r') || r == ' ' || r == 0x85 || r == 0xA0;
  return r == 0x1680 || (r >= 0x2000 && r <= 0x200A) || r == 0x2028 || r == 0x2029 || r == 0x202F ||
         r == 0x205F || r == 0x3000;
}

std::string_view go_trim_space(std::string_view s) {
  while (!s.empty()) {
    auto [r, width] = decode_rune(s);
    if (!go_is_space(r)) break;
    s.remove_prefix(width);
  }
  // From the end: the last rune starts at the last byte that is not a continuation byte.
  while (!s.empty()) {
    size_t start = s.size() - 1;
    while (start > 0 && s.size() - start < 4 && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80) {
      --start;
    }
    auto [r, width] = decode_rune(s.substr(start));
    if (start + width != s.size()) {
      // Not one rune (a stray continuation byte): Go's DecodeLastRune reads RuneError.
      break;
    }
    if (!go_is_space(r)) break;
    s.remove_suffix(width);
  }
  return s;
}

GoScan go_sscanf(std::string_view input, std::string_view format,
                 const std::vector<std::string*>& args) {
  return Scanner(input).scan(format, args);
}

std::optional<std::vector<std::string>> argify(const std::string& line,
                                               bool etcdctl34_single_quotes) {
  std::vector<std::string> out;
  for (size_t at = 0; at < line.size();) {
    size_t end = argify_word_end(line, at);
    if (end == std::string::npos) {  // no word starts here: the search moves on
      ++at;
      continue;
    }
    out.push_back(line.substr(at, end - at));
    at = end;
  }
  for (std::string& w : out) {
    if (w.empty()) continue;
    if (w[0] == '\'') {
      size_t end =
          etcdctl34_single_quotes ? out.size() - 1 : w.size() - 1;  // args[i][1:len(args)-1]
      if (end > w.size()) {
        throw GoPanic{"runtime error: slice bounds out of range [:" + std::to_string(end) +
                      "] with length " + std::to_string(w.size())};
      }
      if (end < 1) {
        throw GoPanic{"runtime error: slice bounds out of range [1:" + std::to_string(end) + "]"};
      }
      w = w.substr(1, end - 1);
    } else if (w[0] == '"') {
      auto value = go_unquote(w);
      if (!value) return std::nullopt;
      w = *value;
    }
  }
  return out;
}

}  // namespace etcdlab::cli
