#include "json_fields.h"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <charconv>
#include <limits>

#include "../cli/go_format.h"

namespace etcdlab::gateway {
namespace {

std::string camel(std::string_view name) {
  std::string out;
  bool upper = false;
  for (char c : name) {
    if (c == '_') {
      upper = true;
    } else {
      out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    }
  }
  return out;
}

// A field by its lowerCamel JSON name or its proto name; when a body has both, the lowerCamel
// one wins, as in etcd's jsonpb.
const json::value* find(const json::object& o, std::string_view name) {
  // The camelCase alias only exists for names with an underscore; built on the stack, as this
  // runs for every field of every request.
  if (name.find('_') != std::string_view::npos && name.size() <= 64) {
    char alias[64];
    size_t n = 0;
    bool upper = false;
    for (char c : name) {
      if (c == '_') {
        upper = true;
      } else {
        alias[n++] = upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
        upper = false;
      }
    }
    if (auto it = o.find(std::string_view(alias, n)); it != o.end()) return &it->value();
  } else if (name.find('_') != std::string_view::npos) {
    if (auto it = o.find(camel(name)); it != o.end()) return &it->value();
  }
  if (auto it = o.find(name); it != o.end()) return &it->value();
  return nullptr;
}

const char* kind_of(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "null";
    case json::kind::bool_: return "bool";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: return "number";
    case json::kind::string: return "string";
    case json::kind::array: return "array";
    case json::kind::object: return "object";
  }
  return "value";
}

[[noreturn]] void bad(std::string message) {
  throw GatewayError(GrpcCode::kInvalidArgument, message);
}

// Go's encoding/json quoteChar: the byte as the rune of the same value, quoted as strconv
// does ('x', '\x01', 'Ã' for 0xc3), so an error about a byte of a UTF-8 sequence is still
// valid UTF-8 (the fuzzer found raw bytes in error bodies, which made them invalid JSON).
std::string go_char(char c) { return cli::go_quote_rune(static_cast<unsigned char>(c)); }

bool json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Go's rendering of a float64 in its errors ("1.5", "100", "1e+21").
std::string go_float(double d) {
  std::string s = fmt::format("{}", d);
  size_t e = s.find('e');
  if (e == std::string::npos || s[e + 1] == '-' || s[e + 1] == '+') return s;
  return s.substr(0, e + 1) + "+" + s.substr(e + 1);  // Go writes 1e+21
}

// jsonpb reads a quoted int64 by parsing the text inside the quotes as JSON (so " 2" is 2 and
// "null" is 0); its errors are Go's encoding/json ones, which etcd's clients see, so they are
// reproduced here.
template <typename T>
T parse_quoted_integer(std::string_view s, std::string_view type) {
  size_t i = 0, end = s.size();
  while (i < end && json_space(s[i])) ++i;
  while (end > i && json_space(s[end - 1])) --end;
  std::string_view t = s.substr(i, end - i);
  if (t.empty()) bad("unexpected end of JSON input");
  if (t == "null") return T{};
  char c = t[0];
  if (c != '-' && !(c >= '0' && c <= '9')) {
    bad(fmt::format("invalid character {} looking for beginning of value", go_char(c)));
  }
  // The extent of a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  size_t j = c == '-' ? 1 : 0;
  if (j == t.size()) bad("unexpected end of JSON input");
  if (!(t[j] >= '0' && t[j] <= '9')) {
    bad(fmt::format("invalid character {} in numeric literal", go_char(t[j])));
  }
  if (t[j] == '0') {
    ++j;
  } else {
    while (j < t.size() && t[j] >= '0' && t[j] <= '9') ++j;
  }
  bool integral = true;
  if (j < t.size() && t[j] == '.') {
    integral = false;
    ++j;
    while (j < t.size() && t[j] >= '0' && t[j] <= '9') ++j;
  }
  if (j < t.size() && (t[j] == 'e' || t[j] == 'E')) {
    integral = false;
    ++j;
    if (j < t.size() && (t[j] == '+' || t[j] == '-')) ++j;
    while (j < t.size() && t[j] >= '0' && t[j] <= '9') ++j;
  }
  if (j < t.size()) {
    bad(fmt::format("invalid character {} after top-level value", go_char(t[j])));
  }
  T out{};
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  if (!integral || ec != std::errc() || ptr != t.data() + t.size()) {
    bad(fmt::format("json: cannot unmarshal number {} into Go value of type {}", t, type));
  }
  return out;
}

template <typename T>
T parse_integer(const json::value& v, std::string_view type) {
  // Go refuses a fraction or an exponent for an integer, and a value out of the type's range.
  if (v.is_int64()) {
    int64_t x = v.as_int64();
    if (x >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
        static_cast<uint64_t>(std::max<int64_t>(x, 0)) <=
            static_cast<uint64_t>(std::numeric_limits<T>::max())) {
      return static_cast<T>(x);
    }
    bad(fmt::format("json: cannot unmarshal number {} into Go value of type {}", x, type));
  }
  if (v.is_uint64()) {
    uint64_t x = v.as_uint64();
    if (x <= static_cast<uint64_t>(std::numeric_limits<T>::max())) return static_cast<T>(x);
    bad(fmt::format("json: cannot unmarshal number {} into Go value of type {}", x, type));
  }
  if (v.is_double()) {
    bad(fmt::format("json: cannot unmarshal number {} into Go value of type {}",
                    go_float(v.as_double()), type));
  }
  if (v.is_string()) return parse_quoted_integer<T>(v.as_string(), type);
  bad(fmt::format("json: cannot unmarshal {} into Go value of type {}", kind_of(v), type));
}

// Go decodes a JSON array into []byte element by element.
std::string bytes_from_array(const json::array& a) {
  std::string out;
  for (const json::value& e : a) {
    if (!e.is_number()) {
      bad(fmt::format("json: cannot unmarshal {} into Go value of type uint8", kind_of(e)));
    }
    bool fits = (e.is_int64() && e.as_int64() >= 0 && e.as_int64() <= 255) ||
                (e.is_uint64() && e.as_uint64() <= 255);
    if (!fits) {
      bad(fmt::format("json: cannot unmarshal number {} into Go value of type uint8",
                      json::serialize(e)));
    }
    out += static_cast<char>(e.is_int64() ? e.as_int64() : static_cast<int64_t>(e.as_uint64()));
  }
  return out;
}

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::array<int8_t, 256> decode_map() {
  std::array<int8_t, 256> m{};
  m.fill(-1);
  for (size_t i = 0; i < kAlphabet.size(); ++i) m[static_cast<uint8_t>(kAlphabet[i])] = int8_t(i);
  return m;
}

[[noreturn]] void corrupt(size_t at) {
  bad(fmt::format("illegal base64 data at input byte {}", at));
}

// Where parsing stops: the length of the longest prefix a streaming parser accepts.
size_t json_error_offset(std::string_view body) {
  json::stream_parser p;
  boost::system::error_code ec;
  size_t n = p.write_some(body.data(), body.size(), ec);
  return n;
}

void require_object(const json::value& v) {
  if (!v.is_object()) {
    bad(fmt::format("json: cannot unmarshal {} into Go value of type map[string]json.RawMessage",
                    kind_of(v)));
  }
}

}  // namespace

const json::value* find_field(const json::object& o, std::string_view name) { return find(o, name); }

json::object parse_body(std::string_view body) {
  if (body.empty()) return {};
  boost::system::error_code ec;
  // Deep enough for etcd's deepest valid txn (each nesting takes three levels; validation
  // stops a txn near 128 levels), far below what the parser's own stack allows.
  json::parse_options options;
  options.max_depth = 640;
  json::value v = json::parse(body, ec, {}, options);
  // Go's scanner words its errors differently ("invalid character 'b' looking for ..."); the
  // offset is what a person needs to find the mistake.
  if (ec) bad(fmt::format("invalid JSON: {} (near byte {})", ec.message(), json_error_offset(body)));
  require_object(v);
  return std::move(v.as_object());
}

std::optional<json::object> parse_next(std::string_view body, size_t& at) {
  while (at < body.size() && std::isspace(static_cast<unsigned char>(body[at]))) ++at;
  if (at >= body.size()) return std::nullopt;
  // write_some stops after one complete value; a number at the very end needs finish().
  json::stream_parser parser;
  boost::system::error_code ec;
  size_t start = at;
  at += parser.write_some(body.data() + start, body.size() - start, ec);
  if (!ec && !parser.done()) parser.finish(ec);
  if (ec) {
    size_t near = at;
    at = body.size();  // nothing after a syntax error can be read
    bad(fmt::format("invalid JSON: {} (near byte {})", ec.message(), near));
  }
  json::value v = parser.release();
  if (v.is_null()) return json::object{};  // Go decodes null into a message as no fields
  require_object(v);
  return std::move(v.as_object());
}

std::string get_bytes(const json::object& o, std::string_view name) {
  const json::value* v = find(o, name);
  if (v == nullptr || v->is_null()) return {};
  if (v->is_array()) return bytes_from_array(v->as_array());
  if (!v->is_string()) {
    bad(fmt::format("json: cannot unmarshal {} into Go value of type []uint8", kind_of(*v)));
  }
  return base64_decode(v->as_string());
}

int64_t get_int(const json::object& o, std::string_view name) {
  const json::value* v = find(o, name);
  if (v == nullptr || v->is_null()) return 0;
  return parse_integer<int64_t>(*v, "int64");
}

uint64_t get_uint(const json::object& o, std::string_view name) {
  const json::value* v = find(o, name);
  if (v == nullptr || v->is_null()) return 0;
  return parse_integer<uint64_t>(*v, "uint64");
}

bool get_bool(const json::object& o, std::string_view name) {
  const json::value* v = find(o, name);
  if (v == nullptr || v->is_null()) return false;
  if (!v->is_bool()) {
    bad(fmt::format("json: cannot unmarshal {} into Go value of type bool", kind_of(*v)));
  }
  return v->as_bool();
}

int get_enum(const json::object& o, std::string_view name, std::initializer_list<const char*> names,
             std::string_view enum_type) {
  const json::value* v = find(o, name);
  if (v == nullptr || v->is_null()) return 0;
  if (v->is_string()) {
    std::string_view s = v->as_string();
    int i = 0;
    for (const char* n : names) {
      if (s == n) return i;
      ++i;
    }
    bad(fmt::format("unknown value \"{}\" for enum {}", s, enum_type));
  }
  return static_cast<int>(parse_integer<int32_t>(*v, "int32"));
}

const json::object* get_object(const json::object& o, std::string_view name) {
  const json::value* v = find(o, name);
  if (v == nullptr || v->is_null()) return nullptr;
  if (!v->is_object()) bad(fmt::format("json: cannot unmarshal {} into object ({})", kind_of(*v), name));
  return &v->as_object();
}

const json::array* get_array(const json::object& o, std::string_view name) {
  const json::value* v = find(o, name);
  if (v == nullptr || v->is_null()) return nullptr;
  if (!v->is_array()) bad(fmt::format("json: cannot unmarshal {} into array ({})", kind_of(*v), name));
  return &v->as_array();
}

void put_bytes(json::object& o, std::string_view name, std::string_view bytes) {
  if (!bytes.empty()) o[name] = base64_encode(bytes);
}

void put_int(json::object& o, std::string_view name, int64_t value) {
  if (value != 0) o[name] = std::to_string(value);
}

void put_uint(json::object& o, std::string_view name, uint64_t value) {
  if (value != 0) o[name] = std::to_string(value);
}

void put_bool(json::object& o, std::string_view name, bool value) {
  if (value) o[name] = true;
}

std::string serialize(const json::value& v) { return json::serialize(v); }

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

// A port of Go's StdEncoding.Decode (padding required, \r and \n ignored), so malformed input
// gets the same "illegal base64 data at input byte N" as etcd answers.
std::string base64_decode(std::string_view src) {
  static const std::array<int8_t, 256> map = decode_map();
  std::string out;
  out.reserve(src.size() / 4 * 3);
  size_t si = 0;
  for (;;) {
    uint8_t dbuf[4] = {0, 0, 0, 0};
    int dlen = 4;
    bool end = false;
    for (int j = 0; j < 4; ++j) {
      if (si == src.size()) {
        if (j == 0) return out;
        corrupt(si - static_cast<size_t>(j));  // a quantum cut short: padding is required
      }
      uint8_t in = static_cast<uint8_t>(src[si++]);
      int8_t value = map[in];
      if (value >= 0) {
        dbuf[j] = static_cast<uint8_t>(value);
        continue;
      }
      if (in == '\n' || in == '\r') {
        --j;
        continue;
      }
      if (in != '=') corrupt(si - 1);
      if (j == 0 || j == 1) corrupt(si - 1);  // padding too early
      if (j == 2) {  // "==" expected: the first '=' is consumed
        while (si < src.size() && (src[si] == '\n' || src[si] == '\r')) ++si;
        if (si == src.size()) corrupt(src.size());
        if (src[si] != '=') corrupt(si - 1);
        ++si;
      }
      while (si < src.size() && (src[si] == '\n' || src[si] == '\r')) ++si;
      if (si < src.size()) corrupt(si);  // data after the padding
      dlen = j;
      end = true;
      break;
    }
    uint32_t v = (dbuf[0] << 18) | (dbuf[1] << 12) | (dbuf[2] << 6) | dbuf[3];
    out += static_cast<char>((v >> 16) & 0xff);
    if (dlen >= 3) out += static_cast<char>((v >> 8) & 0xff);
    if (dlen >= 4) out += static_cast<char>(v & 0xff);
    if (end) return out;
  }
}

}  // namespace etcdlab::gateway
