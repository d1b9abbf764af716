// put, get, del and compaction, as etcdctl 3.4's put_command.go, get_command.go,
// del_command.go and compaction_command.go: the same argument checks in the same order (all
// before connecting), the same requests (clientv3's Op options), then the printer.
#include <iostream>
#include <iterator>

#include "../gateway/json_fields.h"
#include "context.h"
#include "go_format.h"

namespace etcdlab::cli {
namespace {

namespace json = boost::json;
using Args = std::vector<std::string>;
using gateway::base64_encode;

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

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

// A key range from `get`/`del` arguments and --prefix/--from-key, as clientv3's WithRange,
// WithPrefix and WithFromKey build it (an empty key with either flag means "\0": every key).
struct KeyRange {
  std::string key;
  std::string end;
};

KeyRange key_range(const Args& args, bool prefix, bool from_key) {
  KeyRange r{args[0], args.size() > 1 ? args[1] : ""};
  if (prefix) {
    if (r.key.empty()) {
      r.key = r.end = std::string(1, '\0');
    } else {
      r.end = prefix_end(r.key);
    }
  }
  if (from_key) {
    if (r.key.empty()) r.key = std::string(1, '\0');
    r.end = std::string(1, '\0');
  }
  return r;
}

// ---- put

struct PutOptions {
  std::string lease = "0";
  bool prev_kv = false;
  bool ignore_value = false;
  bool ignore_lease = false;
};

void put_command(Context& ctx, const PutOptions& o, const Command& cmd, const Args& args) {
  const char* usage = "put command needs 1 argument and input from stdin or 2 arguments";
  if (args.empty()) throw ExitError(kExitBadArgs, usage);
  if (o.ignore_value && args.size() > 1) {
    throw ExitError(kExitBadArgs, "put command needs only 1 argument when 'ignore-value' is set");
  }
  std::string value;
  if (!o.ignore_value) {
    if (args.size() > 1) {
      value = args[1];
    } else {
      value.assign(std::istreambuf_iterator<char>(std::cin), {});
      if (value.empty()) throw ExitError(kExitBadArgs, usage);
    }
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
  const Client& client = ctx.client(cmd);
  PutResponse resp =
      decode_put(client.call("/v3/kv/put", req, ctx.deadline(), Retry::kNotRepeatable));
  ctx.printer().put(resp);
}

// ---- get

struct GetOptions {
  std::string consistency = "l";
  std::string order;
  std::string sort_by;
  int64_t limit = 0;
  bool prefix = false;
  bool from_key = false;
  int64_t rev = 0;
  bool keys_only = false;
  bool count_only = false;  // etcdctl 3.5's flag; see the printing below
  bool print_value_only = false;
};

void get_command(Context& ctx, const GetOptions& o, const Command& cmd, const Args& args) {
  if (args.empty()) {
    throw ExitError(kExitBadArgs,
                    "get command needs one argument as key and an optional argument as range_end");
  }
  if (o.prefix && o.from_key) {
    throw ExitError(kExitBadArgs,
                    "`--prefix` and `--from-key` cannot be set at the same time, choose one");
  }
  if (o.keys_only && o.count_only) {  // (3.5)
    throw ExitError(kExitBadArgs,
                    "`--keys-only` and `--count-only` cannot be set at the same time, choose one");
  }
  if (o.consistency != "l" && o.consistency != "s") {
    throw ExitError(kExitBadFeature, "unknown consistency flag " + go_quote(o.consistency));
  }
  if (args.size() > 1 && (o.prefix || o.from_key)) {
    throw ExitError(kExitBadArgs,
                    "too many arguments, only accept one argument when `--prefix` or "
                    "`--from-key` is set");
  }
  std::string order = upper(o.order), target = upper(o.sort_by);
  if (order != "" && order != "ASCEND" && order != "DESCEND") {
    throw ExitError(kExitBadFeature, "bad sort order " + o.order);
  }
  if (target != "" && target != "KEY" && target != "CREATE" && target != "MODIFY" &&
      target != "VALUE" && target != "VERSION") {
    throw ExitError(kExitBadFeature, "bad sort target " + o.sort_by);
  }

  KeyRange range = key_range(args, o.prefix, o.from_key);
  json::object req;
  req["key"] = base64_encode(range.key);
  if (!range.end.empty()) req["range_end"] = base64_encode(range.end);
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
  const Client& client = ctx.client(cmd);
  RangeResponse resp =
      decode_range(client.call("/v3/kv/range", req, ctx.deadline(), Retry::kRepeatable));

  Printer& printer = ctx.printer();
  // Our extension of 3.5's --count-only (which allows only -w fields): every format works, and
  // simple prints the count alone.
  if (o.count_only && printer.format() == "simple") {
    std::cout << resp.count << "\n";
    return;
  }
  if (o.print_value_only && !set_value_only(printer)) {
    throw ExitError(kExitBadArgs, "print-value-only is only for `--write-out=simple`");
  }
  printer.get(resp);
}

// ---- del

struct DelOptions {
  bool prefix = false;
  bool prev_kv = false;
  bool from_key = false;
};

void del_command(Context& ctx, const DelOptions& o, const Command& cmd, const Args& args) {
  if (args.empty() || args.size() > 2) {
    throw ExitError(kExitBadArgs,
                    "del command needs one argument as key and an optional argument as range_end");
  }
  if (o.prefix && o.from_key) {
    throw ExitError(kExitBadArgs,
                    "`--prefix` and `--from-key` cannot be set at the same time, choose one");
  }
  if (args.size() > 1 && (o.prefix || o.from_key)) {
    throw ExitError(kExitBadArgs,
                    "too many arguments, only accept one argument when `--prefix` or "
                    "`--from-key` is set");
  }
  KeyRange range = key_range(args, o.prefix, o.from_key);
  json::object req;
  req["key"] = base64_encode(range.key);
  if (!range.end.empty()) req["range_end"] = base64_encode(range.end);
  if (o.prev_kv) req["prev_kv"] = true;
  const Client& client = ctx.client(cmd);
  DeleteRangeResponse resp = decode_delete_range(
      client.call("/v3/kv/deleterange", req, ctx.deadline(), Retry::kNotRepeatable));
  ctx.printer().del(resp);
}

// ---- compaction

struct CompactionOptions {
  bool physical = false;
};

void compaction_command(Context& ctx, const CompactionOptions& o, const Command& cmd,
                        const Args& args) {
  if (args.size() != 1) throw ExitError(kExitBadArgs, "compaction command needs 1 argument");
  auto rev = go_parse_int(args[0], 10);
  if (!rev.value) throw ExitError(kExitError, rev.error);
  json::object req;
  if (*rev.value != 0) req["revision"] = std::to_string(*rev.value);
  if (o.physical) req["physical"] = true;
  const Client& client = ctx.client(cmd);
  CompactionResponse resp = decode_compaction(
      client.call("/v3/kv/compaction", req, ctx.deadline(), Retry::kNotRepeatable));
  ctx.printer().compact(resp, *rev.value);
}

}  // namespace

void add_kv_commands(Command& root, Context& ctx) {
  auto get = std::make_shared<GetOptions>();
  Command& g = root.add(
      "get [options] <key> [range_end]", "Gets the key or a range of keys", "",
      [&ctx, get](Command& self, const Args& args) { get_command(ctx, *get, self, args); });
  g.flags().add_string("consistency", &get->consistency, "Linearizable(l) or Serializable(s)");
  g.flags().add_string("order", &get->order,
                       "Order of results; ASCEND or DESCEND (ASCEND by default)");
  g.flags().add_string("sort-by", &get->sort_by,
                       "Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION");
  g.flags().add_int64("limit", &get->limit, "Maximum number of results");
  g.flags().add_bool("prefix", &get->prefix, "Get keys with matching prefix");
  g.flags().add_bool("from-key", &get->from_key,
                     "Get keys that are greater than or equal to the given key using byte compare");
  g.flags().add_int64("rev", &get->rev, "Specify the kv revision");
  g.flags().add_bool("keys-only", &get->keys_only, "Get only the keys");
  g.flags().add_bool("count-only", &get->count_only, "Get only the count");
  g.flags().add_bool("print-value-only", &get->print_value_only,
                     "Only write values when using the \"simple\" output format");

  auto put = std::make_shared<PutOptions>();
  Command& p = root.add(
      "put [options] <key> <value> (<value> can also be given from stdin)",
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
      [&ctx, put](Command& self, const Args& args) { put_command(ctx, *put, self, args); });
  p.flags().add_string("lease", &put->lease, "lease ID (in hexadecimal) to attach to the key");
  p.flags().add_bool("prev-kv", &put->prev_kv,
                     "return the previous key-value pair before modification");
  p.flags().add_bool("ignore-value", &put->ignore_value, "updates the key using its current value");
  p.flags().add_bool("ignore-lease", &put->ignore_lease, "updates the key using its current lease");

  auto del = std::make_shared<DelOptions>();
  Command& d = root.add(
      "del [options] <key> [range_end]",
      "Removes the specified key or range of keys [key, range_end)", "",
      [&ctx, del](Command& self, const Args& args) { del_command(ctx, *del, self, args); });
  d.flags().add_bool("prefix", &del->prefix, "delete keys with matching prefix");
  d.flags().add_bool("prev-kv", &del->prev_kv, "return deleted key-value pairs");
  d.flags().add_bool(
      "from-key", &del->from_key,
      "delete keys that are greater than or equal to the given key using byte compare");

  auto compaction = std::make_shared<CompactionOptions>();
  Command& c = root.add("compaction [options] <revision>", "Compacts the event history in etcd", "",
                        [&ctx, compaction](Command& self, const Args& args) {
                          compaction_command(ctx, *compaction, self, args);
                        });
  c.flags().add_bool("physical", &compaction->physical,
                     "'true' to wait for compaction to physically remove all old revisions");
}

}  // namespace etcdlab::cli
