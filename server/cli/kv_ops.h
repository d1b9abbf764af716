#pragma once
// put, get and del as requests: their flags and the request bodies etcdctl 3.4's getPutOp,
// getGetOp and getDelOp make of a command line (clientv3's Op options, as the gateway's
// PutRequest, RangeRequest and DeleteRangeRequest), with the same argument checks in the same
// order. The commands (kv_commands.cc) send them; txn (txn_input.cc) puts them in its lists.

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "command.h"

namespace etcdlab::cli {

struct GetOptions {
  std::string consistency = "l";
  std::string order;
  std::string sort_by;
  int64_t limit = 0;
  bool prefix = false;
  bool from_key = false;
  int64_t rev = 0;
  bool keys_only = false;
  bool count_only = false;  // etcdctl 3.5's flag (kv_commands.cc says how it prints)
  bool print_value_only = false;
};

struct PutOptions {
  std::string lease = "0";
  bool prev_kv = false;
  bool ignore_value = false;
  bool ignore_lease = false;
};

struct DelOptions {
  bool prefix = false;
  bool prev_kv = false;
  bool from_key = false;
};

// Add the command under `parent`, its flags writing to `o`, with etcdctl's use line, summary
// and description. `count_only` adds get's --count-only (not in etcdctl 3.4).
Command& add_get_command(Command& parent, GetOptions& o, Command::Run run, bool count_only);
Command& add_put_command(Command& parent, PutOptions& o, Command::Run run);
Command& add_del_command(Command& parent, DelOptions& o, Command::Run run);

// The request bodies, or etcdctl's ExitError for bad arguments. A put without a value argument
// takes `read_stdin()` (all of stdin), as etcdctl's argOrStdin.
boost::json::object range_request(const GetOptions& o, const std::vector<std::string>& args);
boost::json::object put_request(const PutOptions& o, const std::vector<std::string>& args,
                                const std::function<std::string()>& read_stdin);
boost::json::object delete_request(const DelOptions& o, const std::vector<std::string>& args);

}  // namespace etcdlab::cli
