// txn [-i], as etcdctl 3.4's txn_command.go: the client (and printer) first, then stdin's three
// sections (txn_input.cc: compares, success requests, failure requests; -i prints a prompt
// before each), then one /v3/kv/txn request and the printer's "SUCCESS"/"FAILURE" and the
// responses.
//
// A choice of etcdctl that is not copied: it sends the txn without a deadline
// (context.Background()), so against endpoints that do not answer it waits for ever; here it
// gives up after --command-timeout ("context deadline exceeded", exit 1), as lease_commands.cc
// does for the lease commands that wait the same way.
#include <iostream>

#include "context.h"
#include "txn_input.h"

namespace etcdlab::cli {
namespace {

namespace json = boost::json;
using Args = std::vector<std::string>;

struct TxnOptions {
  bool interactive = false;
};

void txn_command(Context& ctx, const TxnOptions& o, const Command& cmd, const Args& args) {
  if (!args.empty()) throw ExitError(kExitBadArgs, "txn command does not accept argument");
  const Client& client = ctx.client(cmd);
  auto prompt = [&](const char* text) {
    if (o.interactive) std::cout << text << "\n" << std::flush;
  };
  TxnReader in;
  json::object body;
  prompt("compares:");
  json::array compare = read_compares(in);
  prompt("success requests (get, put, del):");
  json::array success = read_ops(in);
  prompt("failure requests (get, put, del):");
  json::array failure = read_ops(in);
  if (!compare.empty()) body["compare"] = std::move(compare);
  if (!success.empty()) body["success"] = std::move(success);
  if (!failure.empty()) body["failure"] = std::move(failure);
  // Not sent again after a 503: clientv3 retries a txn only when it was never sent.
  TxnResponse resp =
      decode_txn(client.call("/v3/kv/txn", body, ctx.deadline(), Retry::kNotRepeatable));
  ctx.printer().txn(resp);
}

}  // namespace

void add_txn_commands(Command& root, Context& ctx) {
  auto options = std::make_shared<TxnOptions>();
  Command& t = root.add(
      "txn [options]", "Txn processes all the requests in one transaction", "",
      [&ctx, options](Command& self, const Args& args) { txn_command(ctx, *options, self, args); });
  t.flags().add_bool("interactive", &options->interactive, "Input transaction in interactive mode",
                     'i');
}

}  // namespace etcdlab::cli
