// member list|add|remove|update|promote, endpoint status and endpoint health, as etcdctl
// 3.4's member_command.go and ep_command.go. Member changes are sent to any member: the
// server forwards them to the leader.
#include <iostream>
#include <mutex>
#include <thread>

#include "../gateway/json_fields.h"
#include "context.h"
#include "go_format.h"

namespace etcdlab::cli {
namespace {

namespace json = boost::json;
using Args = std::vector<std::string>;
using Clock = std::chrono::steady_clock;

// strings.Split(s, ","): "" is one empty item, as Go's.
std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma - start));
    if (comma == std::string::npos) return out;
    start = comma + 1;
  }
}

struct EndpointOptions {
  bool cluster = false;  // --cluster: every member's client URLs instead of --endpoints
};

// etcdctl's endpointsFromCluster.
std::vector<std::string> endpoints_of(Context& ctx, const EndpointOptions& o, const Command& cmd) {
  if (!o.cluster) return ctx.global().endpoints;
  const Client& client = ctx.client(cmd);
  MemberListResponse members;
  try {
    members = decode_member_list(
        client.call("/v3/cluster/member/list", json::object{}, ctx.deadline(), Retry::kRepeatable));
  } catch (const EtcdError& e) {
    throw ExitError(
        kExitError,
        std::string("failed to fetch endpoints from etcd cluster member list: ") + e.what());
  }
  std::vector<std::string> out;
  for (const Member& m : members.members) {
    out.insert(out.end(), m.client_urls.begin(), m.client_urls.end());
  }
  return out;
}

void member_list_command(Context& ctx, const Command& cmd, const Args&) {
  const Client& client = ctx.client(cmd);
  MemberListResponse resp = decode_member_list(
      client.call("/v3/cluster/member/list", json::object{}, ctx.deadline(), Retry::kRepeatable));
  ctx.printer().member_list(resp);
}

struct MemberOptions {
  std::string peer_urls;  // --peer-urls, comma-separated
  bool learner = false;   // --learner
};

// etcdctl's strconv.ParseUint(arg, 16, 64) of a member id, with its error.
uint64_t parse_member_id(const Args& args) {
  if (args.size() != 1) throw ExitError(kExitBadArgs, "member ID is not provided");
  const std::string& a = args[0];
  bool valid = !a.empty() && a.size() <= 16 &&
               a.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
  if (!valid) {
    bool digits = !a.empty() && a.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
    throw ExitError(kExitBadArgs, "bad member ID arg (strconv.ParseUint: parsing " + go_quote(a) +
                                      ": " + (digits ? "value out of range" : "invalid syntax") +
                                      "), expecting ID in Hex");
  }
  return std::stoull(a, nullptr, 16);
}

json::array url_array(const std::string& comma_separated) {
  json::array out;
  for (const std::string& u : split_commas(comma_separated)) out.emplace_back(u);
  return out;
}

// Member changes are not repeatable: a 503 from the server is the answer.
json::object member_call(Context& ctx, const Command& cmd, const std::string& path,
                         const json::object& req) {
  return ctx.client(cmd).call(path, req, ctx.deadline(), Retry::kNotRepeatable);
}

void member_add_command(Context& ctx, const MemberOptions& o, const Command& cmd,
                        const Args& args) {
  if (args.empty()) throw ExitError(kExitBadArgs, "member name not provided");
  if (args.size() > 1) {
    std::string ev = "too many arguments";
    for (const std::string& a : args) {
      std::string lower = a;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower.rfind("http", 0) == 0) ev += ", did you mean --peer-urls=" + a;
    }
    throw ExitError(kExitBadArgs, ev);
  }
  const std::string& name = args[0];
  if (o.peer_urls.empty()) throw ExitError(kExitBadArgs, "member peer urls not provided");
  json::object req;
  req["peerURLs"] = url_array(o.peer_urls);
  if (o.learner) req["isLearner"] = true;
  MemberAddResponse resp =
      decode_member_add(member_call(ctx, cmd, "/v3/cluster/member/add", req));
  ctx.printer().member_add(resp);
  if (ctx.global().write_out != "simple") return;

  // What the new member needs to start: the configuration as the member that answered sees it
  // (etcdctl re-reads the list from that member).
  const Client& client = ctx.client(cmd);
  MemberListResponse list = decode_member_list(
      client.call("/v3/cluster/member/list", json::object{}, ctx.deadline(), Retry::kRepeatable));
  std::vector<std::string> conf;
  for (const Member& m : list.members) {
    for (const std::string& u : m.peer_urls) {
      conf.push_back((m.id == resp.member.id ? name : m.name) + "=" + u);
    }
  }
  std::string joined;
  for (size_t i = 0; i < conf.size(); ++i) joined += (i ? "," : "") + conf[i];
  std::cout << "\n"
            << "ETCD_NAME=" << go_quote(name) << "\n"
            << "ETCD_INITIAL_CLUSTER=" << go_quote(joined) << "\n"
            << "ETCD_INITIAL_ADVERTISE_PEER_URLS=" << go_quote(o.peer_urls) << "\n"
            << "ETCD_INITIAL_CLUSTER_STATE=\"existing\"\n";
}

void member_remove_command(Context& ctx, const Command& cmd, const Args& args) {
  uint64_t id = parse_member_id(args);
  json::object req;
  req["ID"] = std::to_string(id);
  MemberChangeResponse r =
      decode_member_change(member_call(ctx, cmd, "/v3/cluster/member/remove", req));
  ctx.printer().member_remove(id, r);
}

void member_update_command(Context& ctx, const MemberOptions& o, const Command& cmd,
                           const Args& args) {
  uint64_t id = parse_member_id(args);
  if (o.peer_urls.empty()) throw ExitError(kExitBadArgs, "member peer urls not provided");
  json::object req;
  req["ID"] = std::to_string(id);
  req["peerURLs"] = url_array(o.peer_urls);
  MemberChangeResponse r =
      decode_member_change(member_call(ctx, cmd, "/v3/cluster/member/update", req));
  ctx.printer().member_update(id, r);
}

void member_promote_command(Context& ctx, const Command& cmd, const Args& args) {
  uint64_t id = parse_member_id(args);
  json::object req;
  req["ID"] = std::to_string(id);
  MemberChangeResponse r =
      decode_member_change(member_call(ctx, cmd, "/v3/cluster/member/promote", req));
  ctx.printer().member_promote(id, r);
}

// Each endpoint in turn, each with its own --command-timeout; the failures are reported on
// stderr, the rest printed, and any failure is exit 1 (with no "Error:" line).
void endpoint_status_command(Context& ctx, const EndpointOptions& o, const Command& cmd,
                             const Args&) {
  const Client& client = ctx.client(cmd);
  std::vector<EndpointStatus> statuses;
  bool failed = false;
  for (const std::string& ep : endpoints_of(ctx, o, cmd)) {
    try {
      statuses.push_back(
          {ep, decode_status(client.call_at(ep, "/v3/maintenance/status", json::object{},
                                            ctx.deadline(), Retry::kRepeatable))});
    } catch (const EtcdError& e) {
      std::cerr << "Failed to get the status of endpoint " << ep << " (" << e.what() << ")\n";
      failed = true;
    }
  }
  ctx.printer().endpoint_status(statuses);
  if (failed) throw SilentExit{kExitError};
}

// All endpoints at once, each a linearizable read of the key "health" (which proves a leader
// and a quorum); the results in the order they finish.
void endpoint_health_command(Context& ctx, const EndpointOptions& o, const Command& cmd,
                             const Args&) {
  Printer& printer = ctx.display(cmd);
  std::vector<std::string> endpoints = endpoints_of(ctx, o, cmd);
  const GlobalOptions& g = ctx.global();
  const std::optional<Login>& who = ctx.login();
  std::vector<EndpointHealth> results;
  std::mutex mu;
  std::vector<std::thread> checks;
  for (const std::string& ep : endpoints) {
    checks.emplace_back([&, ep] {
      Client client({ep}, g.dial_timeout, g.tls);  // (--cacert etc.: every endpoint's)
      if (who) {
        // As etcdctl's, each endpoint's client signs in; one that cannot is unhealthy.
        try {
          sign_in(client, *who, ctx.sign_in_deadline());
        } catch (const EtcdError& e) {
          std::lock_guard lock(mu);
          results.push_back({ep, false, "", e.what()});
          return;
        }
      }
      json::object req;
      req["key"] = gateway::base64_encode("health");
      auto start = Clock::now();
      std::string error;
      try {
        client.call("/v3/kv/range", req, ctx.deadline(), Retry::kRepeatable);
      } catch (const EtcdError& e) {
        // Permission denied still went through consensus.
        if (std::string_view(e.what()) != "etcdserver: permission denied") error = e.what();
      }
      std::string took = go_duration(Clock::now() - start);
      std::lock_guard lock(mu);
      results.push_back({ep, error.empty(), took, error});
    });
  }
  for (auto& t : checks) t.join();
  printer.endpoint_health(results);
  for (const EndpointHealth& h : results) {
    if (!h.health) throw ExitError(kExitError, "unhealthy cluster");
  }
}

}  // namespace

void add_cluster_commands(Command& root, Context& ctx) {
  auto endpoint = std::make_shared<EndpointOptions>();
  Command& e = root.add("endpoint <subcommand>", "Endpoint related commands");
  e.persistent_flags().add_bool("cluster", &endpoint->cluster,
                                "use all endpoints from the cluster member list");
  e.add("health", "Checks the healthiness of endpoints specified in `--endpoints` flag", "",
        [&ctx, endpoint](Command& self, const Args& args) {
          endpoint_health_command(ctx, *endpoint, self, args);
        });
  e.add("status", "Prints out the status of endpoints specified in `--endpoints` flag",
        "When --write-out is set to simple, this command prints out comma-separated status "
        "lists for each endpoint.\nThe items in the lists are endpoint, ID, version, db size, "
        "is leader, is learner, raft term, raft index, raft applied index, errors.\n",
        [&ctx, endpoint](Command& self, const Args& args) {
          endpoint_status_command(ctx, *endpoint, self, args);
        });

  Command& m = root.add("member <subcommand>", "Membership related commands");
  m.add("list", "Lists all members in the cluster",
        "When --write-out is set to simple, this command prints out comma-separated member "
        "lists for each endpoint.\nThe items in the lists are ID, Status, Name, Peer Addrs, "
        "Client Addrs, Is Learner.\n",
        [&ctx](Command& self, const Args& args) { member_list_command(ctx, self, args); });

  auto add = std::make_shared<MemberOptions>();
  Command& a = m.add("add <memberName> [options]", "Adds a member into the cluster", "",
                     [&ctx, add](Command& self, const Args& args) {
                       member_add_command(ctx, *add, self, args);
                     });
  a.flags().add_string("peer-urls", &add->peer_urls,
                       "comma separated peer URLs for the new member.");
  a.flags().add_bool("learner", &add->learner, "indicates if the new member is raft learner");

  m.add("remove <memberID>", "Removes a member from the cluster", "",
        [&ctx](Command& self, const Args& args) { member_remove_command(ctx, self, args); });

  auto update = std::make_shared<MemberOptions>();
  Command& u = m.add("update <memberID> [options]", "Updates a member in the cluster", "",
                     [&ctx, update](Command& self, const Args& args) {
                       member_update_command(ctx, *update, self, args);
                     });
  u.flags().add_string("peer-urls", &update->peer_urls,
                       "comma separated peer URLs for the updated member.");

  m.add("promote <memberID>", "Promotes a non-voting member in the cluster",
        "Promotes a non-voting learner member to a voting one in the cluster.\n",
        [&ctx](Command& self, const Args& args) { member_promote_command(ctx, self, args); });
}

}  // namespace etcdlab::cli
