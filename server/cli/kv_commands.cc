// put, get, del and compaction, as etcdctl 3.4's put_command.go, get_command.go,
// del_command.go and compaction_command.go: the request (kv_ops.cc: the same argument checks
// in the same order, all before connecting), then the printer.
#include <iostream>
#include <iterator>

#include "context.h"
#include "go_format.h"
#include "kv_ops.h"

namespace etcdlab::cli {
namespace {

namespace json = boost::json;
using Args = std::vector<std::string>;

void put_command(Context& ctx, const PutOptions& o, const Command& cmd, const Args& args) {
  json::object req = put_request(
      o, args, [] { return std::string(std::istreambuf_iterator<char>(std::cin), {}); });
  const Client& client = ctx.client(cmd);
  PutResponse resp =
      decode_put(client.call("/v3/kv/put", req, ctx.deadline(), Retry::kNotRepeatable));
  ctx.printer().put(resp);
}

void get_command(Context& ctx, const GetOptions& o, const Command& cmd, const Args& args) {
  json::object req = range_request(o, args);
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

void del_command(Context& ctx, const DelOptions& o, const Command& cmd, const Args& args) {
  json::object req = delete_request(o, args);
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
  add_get_command(
      root, *get,
      [&ctx, get](Command& self, const Args& args) { get_command(ctx, *get, self, args); }, true);
  auto put = std::make_shared<PutOptions>();
  add_put_command(root, *put, [&ctx, put](Command& self, const Args& args) {
    put_command(ctx, *put, self, args);
  });
  auto del = std::make_shared<DelOptions>();
  add_del_command(root, *del, [&ctx, del](Command& self, const Args& args) {
    del_command(ctx, *del, self, args);
  });

  auto compaction = std::make_shared<CompactionOptions>();
  Command& c = root.add("compaction [options] <revision>", "Compacts the event history in etcd", "",
                        [&ctx, compaction](Command& self, const Args& args) {
                          compaction_command(ctx, *compaction, self, args);
                        });
  c.flags().add_bool("physical", &compaction->physical,
                     "'true' to wait for compaction to physically remove all old revisions");
}

}  // namespace etcdlab::cli
