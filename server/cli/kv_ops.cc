#include "kv_ops.h"

#include "../gateway/json_fields.h"
#include "context.h"
#include "go_format.h"

namespace etcdlab::cli {

namespace json = boost::json;
using Args = std::vector<std::string>;
using gateway::base64_encode;

std::string prefix_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<uint8_t>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<uint8_t>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

namespace {

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// A key range from `get`/`del` arguments and --prefix/--from-key, as clientv3's WithRange,
// WithPrefix and WithFromKey build it (an empty key with either flag means "\0": every key).
void put_range(json::object& req, const Args& args, bool prefix, bool from_key) {
  std::string key = args[0], end = args.size() > 1 ? args[1] : "";
  if (prefix) {
    if (key.empty()) {
      key = end = std::string(1, '\0');
    } else {
      end = prefix_end(key);
    }
  }
  if (from_key) {
    if (key.empty()) key = std::string(1, '\0');
    end = std::string(1, '\0');
  }
  req["key"] = base64_encode(key);
  if (!end.empty()) req["range_end"] = base64_encode(end);
}

void check_prefix_from_key(bool prefix, bool from_key) {
  if (prefix && from_key) {
    throw ExitError(kExitBadArgs,
                    "`--prefix` and `--from-key` cannot be set at the same time, choose one");
  }
}

void check_one_argument(const Args& args, bool prefix, bool from_key) {
  if (args.size() > 1 && (prefix || from_key)) {
    throw ExitError(kExitBadArgs,
                    "too many arguments, only accept one argument when `--prefix` or "
                    "`--from-key` is set");
  }
}

}  // namespace

json::object range_request(const GetOptions& o, const Args& args) {
  if (args.empty()) {
    throw ExitError(kExitBadArgs,
                    "get command needs one argument as key and an optional argument as range_end");
  }
  check_prefix_from_key(o.prefix, o.from_key);
  if (o.keys_only && o.count_only) {  // (3.5)
    throw ExitError(kExitBadArgs,
                    "`--keys-only` and `--count-only` cannot be set at the same time, choose one");
  }
  if (o.consistency != "l" && o.consistency != "s") {
    throw ExitError(kExitBadFeature, "unknown consistency flag " + go_quote(o.consistency));
  }
  check_one_argument(args, o.prefix, o.from_key);
  std::string order = upper(o.order), target = upper(o.sort_by);
  if (order != "" && order != "ASCEND" && order != "DESCEND") {
    throw ExitError(kExitBadFeature, "bad sort order " + o.order);
  }
  if (target != "" && target != "KEY" && target != "CREATE" && target != "MODIFY" &&
      target != "VALUE" && target != "VERSION") {
    throw ExitError(kExitBadFeature, "bad sort target " + o.sort_by);
  }

  json::object req;
  put_range(req, args, o.prefix, o.from_key);
  if (o.limit != 0) req["limit"] = std::to_string(o.limit);
  if (o.rev > 0) req["revision"] = std::to_string(o.rev);
  // clientv3.WithSort: an ascending sort by key is no sort (the server's order already); no
  // --order is NONE, which the server reads as ascending by the target.
  if (target == "" || target == "KEY") {
    if (order == "DESCEND") req["sort_order"] = "DESCEND";
  } else {
    if (!order.empty()) req["sort_order"] = order;
    req["sort_target"] = target == "MODIFY" ? "MOD" : target;
  }
  if (o.consistency == "s") req["serializable"] = true;
  if (o.keys_only) req["keys_only"] = true;
  if (o.count_only) req["count_only"] = true;
  return req;
}

json::object put_request(const PutOptions& o, const Args& args,
                         const std::function<std::string()>& read_stdin) {
  const char* usage = "put command needs 1 argument and input from stdin or 2 arguments";
  if (args.empty()) throw ExitError(kExitBadArgs, usage);
  if (o.ignore_value && args.size() > 1) {
    throw ExitError(kExitBadArgs, "put command needs only 1 argument when 'ignore-value' is set");
  }
  std::string value;
  if (!o.ignore_value) {
    value = args.size() > 1 ? args[1] : read_stdin();
    if (value.empty() && args.size() < 2) throw ExitError(kExitBadArgs, usage);
  }
  auto lease = go_parse_int(o.lease, 16);
  if (!lease.value) {
    throw ExitError(kExitBadArgs, "bad lease ID (" + lease.error + "), expecting ID in Hex");
  }
  json::object req;
  req["key"] = base64_encode(args[0]);
  if (!value.empty()) req["value"] = base64_encode(value);
  if (*lease.value != 0) req["lease"] = std::to_string(*lease.value);
  if (o.prev_kv) req["prev_kv"] = true;
  if (o.ignore_value) req["ignore_value"] = true;
  if (o.ignore_lease) req["ignore_lease"] = true;
  return req;
}

json::object delete_request(const DelOptions& o, const Args& args) {
  if (args.empty() || args.size() > 2) {
    throw ExitError(kExitBadArgs,
                    "del command needs one argument as key and an optional argument as range_end");
  }
  check_prefix_from_key(o.prefix, o.from_key);
  check_one_argument(args, o.prefix, o.from_key);
  json::object req;
  put_range(req, args, o.prefix, o.from_key);
  if (o.prev_kv) req["prev_kv"] = true;
  return req;
}

Command& add_get_command(Command& parent, GetOptions& o, Command::Run run, bool count_only) {
  Command& g = parent.add("get [options] <key> [range_end]", "Gets the key or a range of keys", "",
                          std::move(run));
  g.flags().add_string("consistency", &o.consistency, "Linearizable(l) or Serializable(s)");
  g.flags().add_string("order", &o.order,
                       "Order of results; ASCEND or DESCEND (ASCEND by default)");
  g.flags().add_string("sort-by", &o.sort_by,
                       "Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION");
  g.flags().add_int64("limit", &o.limit, "Maximum number of results");
  g.flags().add_bool("prefix", &o.prefix, "Get keys with matching prefix");
  g.flags().add_bool("from-key", &o.from_key,
                     "Get keys that are greater than or equal to the given key using byte compare");
  g.flags().add_int64("rev", &o.rev, "Specify the kv revision");
  g.flags().add_bool("keys-only", &o.keys_only, "Get only the keys");
  if (count_only) g.flags().add_bool("count-only", &o.count_only, "Get only the count");
  g.flags().add_bool("print-value-only", &o.print_value_only,
                     "Only write values when using the \"simple\" output format");
  return g;
}

Command& add_put_command(Command& parent, PutOptions& o, Command::Run run) {
  Command& p = parent.add("put [options] <key> <value> (<value> can also be given from stdin)",
                          "Puts the given key into the store",
                          R"(
Puts the given key into the store.

When <value> begins with '-', <value> is interpreted as a flag.
Insert '--' for workaround:

$ put <key> -- <value>
$ put -- <key> <value>

If <value> isn't given as a command line argument and '--ignore-value' is not specified,
this command tries to read the value from standard input.

If <lease> isn't given as a command line argument and '--ignore-lease' is not specified,
this command tries to read the value from standard input.

For example,
$ cat file | put <key>
will store the content of the file to <key>.
)",
                          std::move(run));
  p.flags().add_string("lease", &o.lease, "lease ID (in hexadecimal) to attach to the key");
  p.flags().add_bool("prev-kv", &o.prev_kv,
                     "return the previous key-value pair before modification");
  p.flags().add_bool("ignore-value", &o.ignore_value, "updates the key using its current value");
  p.flags().add_bool("ignore-lease", &o.ignore_lease, "updates the key using its current lease");
  return p;
}

Command& add_del_command(Command& parent, DelOptions& o, Command::Run run) {
  Command& d =
      parent.add("del [options] <key> [range_end]",
                 "Removes the specified key or range of keys [key, range_end)", "", std::move(run));
  d.flags().add_bool("prefix", &o.prefix, "delete keys with matching prefix");
  d.flags().add_bool("prev-kv", &o.prev_kv, "return deleted key-value pairs");
  d.flags().add_bool(
      "from-key", &o.from_key,
      "delete keys that are greater than or equal to the given key using byte compare");
  return d;
}

}  // namespace etcdlab::cli
