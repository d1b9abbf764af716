// The gateway's JSON conventions (etcd-v3-json-api.md §1), field by field.
#include "../gateway/json_fields.h"

#include <gtest/gtest.h>

namespace etcdlab::gateway {
namespace {

std::string decode_error(std::string_view text) {
  try {
    base64_decode(text);
  } catch (const GatewayError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(Base64, RoundTripsEveryLength) {
  std::string data;
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(base64_decode(base64_encode(data)), data) << data.size();
    data.push_back(static_cast<char>(i * 37));
  }
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("bar2"), "YmFyMg==");
}

TEST(Base64, ErrorsNameTheByteAsGoDoes) {
  // Go's encoding/base64 (what etcd's gateway uses) reports these positions.
  EXPECT_EQ(decode_error("Zm9v!"), "illegal base64 data at input byte 4");
  EXPECT_EQ(decode_error("Zm9"), "illegal base64 data at input byte 0");
  EXPECT_EQ(decode_error("Zg="), "illegal base64 data at input byte 3");
  EXPECT_EQ(decode_error("Z==="), "illegal base64 data at input byte 1");
  EXPECT_EQ(decode_error("Zg==Zg=="), "illegal base64 data at input byte 4");
  EXPECT_EQ(decode_error("not base64 at all"), "illegal base64 data at input byte 3");
  EXPECT_EQ(base64_decode("Zm9v\nYmFy"), "foobar") << "newlines are ignored";
}

TEST(JsonFields, IntegersAcceptNumbersAndStrings) {
  json::object o = parse_body(R"({"limit": 2, "revision": "17", "minModRevision": "3"})");
  EXPECT_EQ(get_int(o, "limit"), 2);
  EXPECT_EQ(get_int(o, "revision"), 17);
  EXPECT_EQ(get_int(o, "min_mod_revision"), 3) << "lowerCamel aliases are accepted";
  EXPECT_EQ(get_int(o, "missing"), 0);
  json::object bad = parse_body(R"({"limit": "abc"})");
  EXPECT_THROW(get_int(bad, "limit"), GatewayError);
}

// Found by the gateway fuzzer (fuzz/regressions/gateway_json): a byte of a UTF-8 sequence in
// a quoted integer went into the error raw, so the error body was not valid UTF-8, nor JSON.
// Go's encoding/json names the byte as the rune of its value, quoted.
TEST(JsonFields, ErrorsAboutAByteNameItAsGoDoesInValidUtf8) {
  auto error_of = [](const char* body) {
    try {
      get_int(parse_body(body), "revision");
    } catch (const GatewayError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(error_of("{\"revision\": \"3\xc3\x8c" "66 \"}"),
            "invalid character '\u00c3' after top-level value");
  EXPECT_EQ(error_of(R"({"revision": "x1"})"), "invalid character 'x' looking for beginning of value");
  EXPECT_EQ(error_of(R"({"revision": "-x"})"), "invalid character 'x' in numeric literal");
  EXPECT_EQ(error_of("{\"revision\": \"1\\u0001\"}"),
            "invalid character '\\x01' after top-level value");
}

TEST(JsonFields, EnumsByNameOrNumber) {
  json::object o = parse_body(R"({"sort_order": "DESCEND", "sort_target": 3})");
  EXPECT_EQ(get_enum(o, "sort_order", {"NONE", "ASCEND", "DESCEND"}, "T"), 2);
  EXPECT_EQ(get_enum(o, "sort_target", {"KEY", "VERSION", "CREATE", "MOD", "VALUE"}, "T"), 3);
  json::object bad = parse_body(R"({"sort_order": "BOGUS"})");
  try {
    get_enum(bad, "sort_order", {"NONE"}, "etcdserverpb.RangeRequest_SortOrder");
    FAIL();
  } catch (const GatewayError& e) {
    EXPECT_STREQ(e.what(),
                 "unknown value \"BOGUS\" for enum etcdserverpb.RangeRequest_SortOrder");
  }
}

TEST(JsonFields, MalformedJsonAndWrongTypesAreBadRequests) {
  EXPECT_THROW(parse_body("{"), GatewayError);
  EXPECT_THROW(parse_body("[1, 2]"), GatewayError);
  json::object o = parse_body(R"({"key": 5, "prev_kv": "yes"})");
  EXPECT_THROW(get_bytes(o, "key"), GatewayError);
  EXPECT_THROW(get_bool(o, "prev_kv"), GatewayError);
  EXPECT_TRUE(parse_body("").empty()) << "an empty body is {}";
}

TEST(JsonFields, AStreamedBodyIsReadOneRequestAtATimeAsGosDecoderReadsIt) {
  std::string body = "{\"ID\":1}{\"ID\":\"2\"}\n null [3]";
  size_t at = 0;
  EXPECT_EQ(get_int(parse_next(body, at).value(), "ID"), 1);
  EXPECT_EQ(at, 8u) << "just past the first object";
  EXPECT_EQ(get_int(parse_next(body, at).value(), "ID"), 2);
  EXPECT_TRUE(parse_next(body, at).value().empty()) << "null is a request with no fields";
  EXPECT_THROW(parse_next(body, at), GatewayError) << "an array is no request";
  std::string tail = "{} 5";
  at = 0;
  EXPECT_TRUE(parse_next(tail, at).has_value());
  EXPECT_THROW(parse_next(tail, at), GatewayError) << "a number at the very end is read whole";
  std::string blank = " \n\t";
  at = 0;
  EXPECT_FALSE(parse_next(blank, at).has_value()) << "only whitespace: the end";
  std::string broken = "{\"ID\":1} {bad";
  at = 0;
  parse_next(broken, at);
  EXPECT_THROW(parse_next(broken, at), GatewayError);
  EXPECT_FALSE(parse_next(broken, at).has_value()) << "nothing after a syntax error is read";
}

TEST(JsonFields, ZeroValuesAreLeftOut) {
  json::object o;
  put_int(o, "count", 0);
  put_bool(o, "more", false);
  put_bytes(o, "value", "");
  EXPECT_TRUE(o.empty());
  put_int(o, "revision", 5);
  EXPECT_EQ(serialize(o), R"({"revision":"5"})") << "int64 values are strings";
}

TEST(GatewayErrors, HttpStatusAndBodyAsEtcd34) {
  HttpResponse r = error_response(GatewayError(GrpcCode::kOutOfRange, "etcdserver: mvcc: "
                                                                      "required revision is a "
                                                                      "future revision"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            R"({"error":"etcdserver: mvcc: required revision is a future revision",)"
            R"("message":"etcdserver: mvcc: required revision is a future revision","code":11})");
  EXPECT_EQ(http_status(GrpcCode::kFailedPrecondition), 412);
  EXPECT_EQ(http_status(GrpcCode::kUnavailable), 503);
  EXPECT_EQ(http_status(GrpcCode::kNotFound), 404);
  EXPECT_EQ(http_status(GrpcCode::kResourceExhausted), 429);
}

}  // namespace etcdlab::gateway
