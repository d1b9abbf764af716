#pragma once
// Reading requests and writing responses the way etcd's v3 JSON gateway does
// (../shared/reference/etcd-v3-json-api.md §1): bytes as standard base64, int64 as strings (a
// number or a string accepted on input), enums by name or number, proto field names or their
// lowerCamel aliases on input, unknown fields ignored, zero values left out of the output.

#include <boost/json.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "errors.h"

namespace etcdlab::gateway {

namespace json = boost::json;

// Parses a request body (empty = {}); malformed JSON is a 400 with the parser's message.
json::object parse_body(std::string_view body);
// The next request of a client stream's body (JSON values one after another, read as Go's
// json.Decoder reads them), from byte `at`, which moves past it: nullopt when only whitespace
// is left, {} for `null`; malformed JSON or a value that is not an object is parse_body's 400.
std::optional<json::object> parse_next(std::string_view body, size_t& at);

// Field readers. Each takes the proto name; the lowerCamel alias is tried too. A missing field
// gives the zero value; a field of the wrong type is a 400 naming it.
std::string get_bytes(const json::object& o, std::string_view name);
int64_t get_int(const json::object& o, std::string_view name);
uint64_t get_uint(const json::object& o, std::string_view name);
bool get_bool(const json::object& o, std::string_view name);
// An enum given by name (one of `names`, in value order) or by number; an unknown name is a 400
// as etcd words it ("unknown value \"X\" for enum <type>").
int get_enum(const json::object& o, std::string_view name, std::initializer_list<const char*> names,
             std::string_view enum_type);
const json::object* get_object(const json::object& o, std::string_view name);
// The field itself (proto name or lowerCamel alias), or nullptr.
const json::value* find_field(const json::object& o, std::string_view name);
const json::array* get_array(const json::object& o, std::string_view name);

// Writers that leave zero values out.
void put_bytes(json::object& o, std::string_view name, std::string_view bytes);
void put_int(json::object& o, std::string_view name, int64_t value);   // as a string
void put_uint(json::object& o, std::string_view name, uint64_t value);  // as a string
void put_bool(json::object& o, std::string_view name, bool value);

std::string serialize(const json::value& v);

// Standard base64 with padding, as Go's encoding/base64 (etcd's errors quote Go's messages).
std::string base64_encode(std::string_view bytes);
// Throws GatewayError 400 "illegal base64 data at input byte N".
std::string base64_decode(std::string_view text);

}  // namespace etcdlab::gateway
