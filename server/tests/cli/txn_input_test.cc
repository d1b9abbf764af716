// txn's stdin lines as etcdctl 3.4 reads them (server/cli/txn_input.cc, go_scan.cc): each rule
// here was seen on etcdctl 3.4.23 (python/tests/e2e/test_cli_txn_compat.py runs them all against
// it); these pin them without an etcd.
#include <gtest/gtest.h>

#include "context.h"
#include "go_scan.h"
#include "txn_input.h"

namespace etcdlab::cli {
namespace {

namespace json = boost::json;

GoScan scan(std::string_view input, std::string& key, std::string& op, std::string& value) {
  key = op = value = "";
  return go_sscanf(input, "%q) %s %q", {&key, &op, &value});
}

TEST(GoSscanf, ReadsQuotedStringsAndAWordAsFmtDoes) {
  std::string k, o, v;
  EXPECT_EQ(scan(R"("foo") = "bar")", k, o, v).n, 3);
  EXPECT_EQ(std::tie(k, o, v), std::tie("foo", "=", "bar"));
  // Back-quoted strings are raw; escapes are Go's; text past the format is left unread.
  EXPECT_EQ(scan(R"(`a\x`) != `b` trailing)", k, o, v).n, 3);
  EXPECT_EQ(k, "a\\x");
  EXPECT_EQ(scan(R"("k\"q\xff") < "\u00e9")", k, o, v).n, 3);
  EXPECT_EQ(k, "k\"q\xff");
  EXPECT_EQ(v, "\xc3\xa9");
  // Leading spaces before a verb are skipped; spaces of any kind match a space.
  EXPECT_EQ(scan(" \"foo\")\t=\t  \"bar\"", k, o, v).n, 3);
}

TEST(GoSscanf, StopsAtTheFirstMismatchKeepingWhatWasStored) {
  std::string k, o, v;
  // A space in the format wants one in the input.
  GoScan s = scan(R"("foo")="bar")", k, o, v);
  EXPECT_EQ(s.n, 1);
  EXPECT_EQ(s.error, "expected space in input to match format");
  // ')' must follow the string at once.
  EXPECT_EQ(scan(R"("foo" ) = "bar")", k, o, v).n, 1);
  EXPECT_EQ(scan(R"("foo") = bar)", k, o, v).n, 2);
  s = scan(R"("foo") =)", k, o, v);
  EXPECT_EQ(s.n, 2);
  EXPECT_EQ(s.error, "unexpected EOF");
  s = scan(R"("a\q") = "b")", k, o, v);
  EXPECT_EQ(s.n, 0);
  EXPECT_EQ(s.error, "invalid syntax");
  EXPECT_EQ(scan(R"(foo) = "b")", k, o, v).error, "expected quoted string");
}

TEST(GoScan, TrimsAndUnquotesAsGo) {
  EXPECT_EQ(go_trim_space("\t\r\n x y \xc2\xa0\xe3\x80\x80"), "x y");
  EXPECT_EQ(go_trim_space("x\xff "), "x\xff");
  EXPECT_EQ(go_unquote(R"("a\tb\101\x41\u00e9")"), "a\tbAA\xc3\xa9");
  EXPECT_EQ(go_unquote("\"a\xff\""), "a\xef\xbf\xbd");  // not UTF-8: U+FFFD, as Go's
  EXPECT_FALSE(go_unquote(R"("a\'")"));
  EXPECT_FALSE(go_unquote(R"("\ud800")"));
}

TEST(Argify, CutsSingleQuotedWordsAsEtcdctl34) {
  EXPECT_EQ(*argify("put 'a b' v", true), (std::vector<std::string>{"put", "a", "v"}));
  EXPECT_EQ(*argify("put 'a b' v", false), (std::vector<std::string>{"put", "a b", "v"}));
  // 'ab'[1:len(args)-1]: [1:0] on a line of one word, past the word's end on a long line.
  EXPECT_THROW(argify("'ab'", true), GoPanic);
  EXPECT_THROW(argify("put 'x' a b c d", true), GoPanic);
  EXPECT_FALSE(argify(R"(put "a\x" v)", true));
}

TEST(ParseCompare, WritesTheGatewaysCompareForEachTarget) {
  EXPECT_EQ(parse_compare(R"(ver("k") != "2")"),
            json::parse(R"({"key":"aw==","target":"VERSION","result":"NOT_EQUAL","version":"2"})"));
  EXPECT_EQ(parse_compare(R"(c("k") > "3")").at("create_revision"), "3");
  EXPECT_EQ(parse_compare(R"(m("k") < "-1")").at("mod_revision"), "-1");
  // A value compare always carries its value: "" is a value, not "no value".
  EXPECT_EQ(parse_compare(R"(val("k") = "")"),
            json::parse(R"({"key":"aw==","target":"VALUE","result":"EQUAL","value":""})"));
}

std::string exit_message(std::string_view line, int code) {
  try {
    parse_compare(line);
  } catch (const ExitError& e) {
    EXPECT_EQ(e.code(), code) << line;
    return e.what();
  }
  ADD_FAILURE() << "no error for " << line;
  return "";
}

TEST(ParseCompare, RefusesAsEtcdctl34) {
  EXPECT_EQ(exit_message(R"(value("foo")="bar")", kExitInvalidInput),
            R"(malformed comparison: value("foo")="bar"; got value("foo")  "")");
  EXPECT_EQ(exit_message("value foo", kExitInvalidInput), "malformed comparison: value foo");
  EXPECT_EQ(exit_message(R"(VALUE("k") = "v")", kExitInvalidInput),
            R"(malformed comparison: VALUE("k") = "v" (unknown target VALUE))");
  EXPECT_EQ(exit_message(R"(ver("k") = "0x2")", kExitInvalidInput),
            R"(invalid txn compare request: ver("k") = "0x2")");
  // clientv3.Compare panics on an operator it does not know, and a lease compare from
  // etcdctl 3.4 always panics (it hands over the value as a string).
  EXPECT_THROW(parse_compare(R"(value("k") == "v")"), GoPanic);
  EXPECT_THROW(parse_compare(R"(ver("k") >= "1")"), GoPanic);
  EXPECT_THROW(parse_compare(R"(lease("k") = "0")"), GoPanic);
}

}  // namespace
}  // namespace etcdlab::cli
