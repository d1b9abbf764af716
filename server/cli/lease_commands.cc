// lease grant|revoke|timetolive|list|keep-alive, as etcdctl 3.4's lease_command.go: the same
// argument checks (all before connecting), the same errors and exit codes, then the printer.
// Lease ids are hex on the command line and in the simple output (put --lease is in
// kv_commands.cc).
//
// A choice of etcdctl that is not copied: its timetolive, list and keep-alive --once send
// without a deadline (context.TODO), so against a member that does not answer they wait
// forever (timetolive also retries "no leader" forever); here they give up after
// --command-timeout ("context deadline exceeded", exit 2, the exit those commands take for any
// failed request). So against a member without a quorum, etcdctl's keep-alive --once prints
// the server's "etcdserver: no leader" once the server's own wait ends (5 s plus two election
// timeouts), and etcdlabctl's does so only with a --command-timeout longer than that wait.
#include <iostream>

#include "context.h"
#include "go_format.h"
#include "keep_alive.h"

namespace etcdlab::cli {
namespace {

namespace json = boost::json;
using Args = std::vector<std::string>;

// etcdctl's leaseFromArgs: a hex int64, without Go's prefixes ("0x12" is invalid syntax).
int64_t lease_from_arg(const std::string& arg) {
  auto id = go_parse_int(arg, 16);
  if (!id.value) {
    throw ExitError(kExitBadArgs, "bad lease ID arg (" + id.error + "), expecting ID in Hex");
  }
  return *id.value;
}

json::object id_body(int64_t id) {
  json::object body;
  body["ID"] = std::to_string(id);
  return body;
}

// Sends a lease request within --command-timeout (read once the client, and so the
// environment, is set up). clientv3 sends its unary lease requests again after a "no leader"
// answer (repeatable).
json::object call(Context& ctx, const Command& cmd, const std::string& path,
                  const json::object& body) {
  const Client& client = ctx.client(cmd);
  return client.call(path, body, ctx.deadline(), Retry::kRepeatable);
}

void grant_command(Context& ctx, const Command& cmd, const Args& args) {
  if (args.size() != 1) throw ExitError(kExitBadArgs, "lease grant command needs TTL argument");
  auto ttl = go_parse_int(args[0], 10);
  if (!ttl.value) throw ExitError(kExitBadArgs, "bad TTL (" + ttl.error + ")");
  json::object body;
  body["TTL"] = std::to_string(*ttl.value);
  LeaseGrantResponse resp;
  try {
    resp = decode_lease_grant(call(ctx, cmd, "/v3/lease/grant", body));
  } catch (const EtcdError& e) {
    throw ExitError(kExitError, std::string("failed to grant lease (") + e.what() + ")");
  }
  ctx.printer().lease_grant(resp);
}

void revoke_command(Context& ctx, const Command& cmd, const Args& args) {
  if (args.size() != 1) throw ExitError(kExitBadArgs, "lease revoke command needs 1 argument");
  int64_t id = lease_from_arg(args[0]);
  LeaseRevokeResponse resp;
  try {
    resp = decode_lease_revoke(call(ctx, cmd, "/v3/lease/revoke", id_body(id)));
  } catch (const EtcdError& e) {
    throw ExitError(kExitError, std::string("failed to revoke lease (") + e.what() + ")");
  }
  ctx.printer().lease_revoke(id, resp);
}

struct TimeToLiveOptions {
  bool keys = false;
};

void time_to_live_command(Context& ctx, const TimeToLiveOptions& o, const Command& cmd,
                          const Args& args) {
  if (args.size() != 1) {
    throw ExitError(kExitBadArgs, "lease timetolive command needs lease ID as argument");
  }
  int64_t id = lease_from_arg(args[0]);
  json::object body = id_body(id);
  if (o.keys) body["keys"] = true;
  LeaseTimeToLiveResponse resp;
  try {
    resp = decode_lease_time_to_live(call(ctx, cmd, "/v3/lease/timetolive", body));
  } catch (const EtcdError& e) {
    throw ExitError(kExitBadConnection, e.what());
  }
  ctx.printer().lease_time_to_live(resp, o.keys);
}

void list_command(Context& ctx, const Command& cmd, const Args&) {
  LeaseLeasesResponse resp;
  try {
    resp = decode_lease_leases(call(ctx, cmd, "/v3/lease/leases", json::object{}));
  } catch (const EtcdError& e) {
    throw ExitError(kExitBadConnection, e.what());
  }
  ctx.printer().lease_leases(resp);
}

// etcdctl's keep-alive loop (keep_alive.cc), printing each answer as it comes (flushed: a
// pipe's reader sees it at once), then its last line.
void keep_alive_forever(Context& ctx, const Command& cmd, int64_t id) {
  Printer& printer = ctx.printer();
  Cancel never;
  keep_alive(
      ctx.client(cmd), id, ctx.global().dial_timeout,
      [&printer](const LeaseKeepAliveResponse& resp) {
        printer.lease_keep_alive(resp);
        std::cout.flush();
      },
      never);
  if (printer.format() == "simple") {
    std::cout << "lease " << lease_hex(id) << " expired or revoked.\n";
  }
}

struct KeepAliveOptions {
  bool once = false;
};

void keep_alive_command(Context& ctx, const KeepAliveOptions& o, const Command& cmd,
                        const Args& args) {
  if (args.size() != 1) {
    throw ExitError(kExitBadArgs, "lease keep-alive command needs lease ID as argument");
  }
  int64_t id = lease_from_arg(args[0]);
  ctx.client(cmd);  // the printer too: an unknown -w fails before anything is sent
  if (!o.once) {
    keep_alive_forever(ctx, cmd, id);
    return;
  }
  LeaseKeepAliveResponse resp;
  try {
    resp = keep_alive_once(ctx.client(cmd), id, ctx.deadline());
  } catch (const EtcdError& e) {
    throw ExitError(kExitBadConnection, e.what());
  }
  // clientv3's KeepAliveOnce turns an answer without a TTL into ErrLeaseNotFound.
  if (resp.ttl <= 0) throw ExitError(kExitBadConnection, "etcdserver: requested lease not found");
  ctx.printer().lease_keep_alive(resp);
}

}  // namespace

void add_lease_commands(Command& root, Context& ctx) {
  Command& l = root.add("lease <subcommand>", "Lease related commands");
  l.add("grant <ttl>", "Creates leases", "",
        [&ctx](Command& self, const Args& args) { grant_command(ctx, self, args); });
  l.add("revoke <leaseID>", "Revokes leases", "",
        [&ctx](Command& self, const Args& args) { revoke_command(ctx, self, args); });

  auto ttl = std::make_shared<TimeToLiveOptions>();
  Command& t = l.add("timetolive <leaseID> [options]", "Get lease information", "",
                     [&ctx, ttl](Command& self, const Args& args) {
                       time_to_live_command(ctx, *ttl, self, args);
                     });
  t.flags().add_bool("keys", &ttl->keys, "Get keys attached to this lease");

  l.add("list", "List all active leases", "",
        [&ctx](Command& self, const Args& args) { list_command(ctx, self, args); });

  auto keep = std::make_shared<KeepAliveOptions>();
  Command& k = l.add("keep-alive [options] <leaseID>", "Keeps leases alive (renew)", "",
                     [&ctx, keep](Command& self, const Args& args) {
                       keep_alive_command(ctx, *keep, self, args);
                     });
  k.flags().add_bool("once", &keep->once,
                     "Resets the keep-alive time to its original value and exits immediately");
}

}  // namespace etcdlab::cli
