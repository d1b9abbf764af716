#pragma once
// txn's standard input, read and parsed as etcdctl 3.4's txn_command.go does: three sections
// (compares, success requests, failure requests), each a line at a time until a blank line
// (lines are trimmed of Go's spaces). A compare is `<target>("<key>") <op> "<value>"`, read
// with fmt.Sscanf's "%q) %s %q" (so `back-quoted` strings and any trailing text pass); a request
// is a get, put or del command line with its flags, split as etcdctl's argify splits it and
// parsed by a fresh command tree with cobra's own usage texts. Errors are etcdctl's, and end
// the program as they end etcdctl: ExitError (exit 3 for bad input; 128 or 4 for what put, get
// and del refuse), or GoPanic where etcdctl 3.4 panics (an unknown operator, a lease compare).

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace etcdlab::cli {

// Standard input as bufio.NewReader(os.Stdin) reads it: 4096 bytes at a time.
class TxnReader {
 public:
  // ReadString('\n'): the next line, newline included. At the end of the input (a last line
  // without a newline included), or on a read error, throws ExitError(3) with Go's error
  // ("EOF", "read /dev/stdin: ...").
  std::string read_line();
  // ioutil.ReadAll(os.Stdin) past what the buffer holds (a put without a value reads it).
  std::string read_rest();

 private:
  bool fill();  // one read into the buffer; false at the end
  std::string buffer_;
  size_t at_ = 0;
  std::string error_;  // Go's message for a failed read
};

// readCompares / readOps: the lines of one section, as the gateway's Compare and RequestOp
// objects.
boost::json::array read_compares(TxnReader& in);
boost::json::array read_ops(TxnReader& in);

// One line of each kind (already trimmed).
boost::json::object parse_compare(std::string_view line);
boost::json::object parse_op(const std::string& line, TxnReader& in);

}  // namespace etcdlab::cli
