// etcdlabctl: etcdctl's commands against etcdlab (or etcd: it speaks the v3 JSON gateway).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <iterator>

#include "../gateway/json_fields.h"
#include "client.h"
#include "output.h"

namespace {

using etcdlab::cli::Client;
using etcdlab::cli::EtcdError;
namespace json = boost::json;
using etcdlab::gateway::base64_decode;
using etcdlab::gateway::base64_encode;

// An error with etcdctl's exit code for it (cobrautl: 1 error, 3 invalid input, 4 bad feature).
struct ExitError : std::runtime_error {
  ExitError(int exit_code, const std::string& message)
      : std::runtime_error(message), code(exit_code) {}
  int code;
};

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

struct Global {
  std::string endpoints = "127.0.0.1:2379";
  std::string write_out = "simple";
  int command_timeout_s = 5;
};

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string field(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
}

uint64_t number(const json::object& o, std::string_view name) {
  std::string s = field(o, name);
  return s.empty() ? 0 : std::stoull(s);
}

std::string bytes(const json::object& o, std::string_view name) {
  return base64_decode(field(o, name));
}

// The range_end for "everything with this prefix" (etcd's clientv3.GetPrefixRangeEnd).
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

void print_json(const json::value& v) {
  std::cout << json::serialize(etcdlab::cli::numbers_for_ints(v)) << "\n";
}

void print_kv_lines(const json::object& kv) {
  std::cout << bytes(kv, "key") << "\n" << bytes(kv, "value") << "\n";
}

struct KeyArgs {
  std::string key;
  std::string range_end;
  bool prefix = false;
  bool from_key = false;
  void resolve() {
    if (prefix) {
      if (key.empty()) {
        key = std::string(1, '\0');
        range_end = std::string(1, '\0');
      } else {
        range_end = prefix_end(key);
      }
    }
    if (from_key) {
      if (key.empty()) key = std::string(1, '\0');
      range_end = std::string(1, '\0');
    }
  }
};

std::string go_duration(std::chrono::nanoseconds d) {
  double ms = static_cast<double>(d.count()) / 1e6;
  std::string s = fmt::format("{:.6f}", ms);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s + "ms";
}

}  // namespace

int main(int argc, char** argv) {
  Global g;
  CLI::App app{"etcdlabctl: a command line client for etcdlab (and etcd's v3 JSON gateway)"};
  app.add_option("--endpoints", g.endpoints, "gRPC-gateway endpoints (host:port or URLs)")
      ->capture_default_str();
  app.add_option("-w,--write-out", g.write_out, "simple, json or table")
      ->check(CLI::IsMember({"simple", "json", "table", "fields"}))
      ->capture_default_str();
  app.add_option("--command-timeout", g.command_timeout_s, "seconds a command may take")
      ->capture_default_str();
  app.require_subcommand(1);
  app.fallthrough();  // global flags may follow the command, as with etcdctl (inherited)

  std::function<void(Client&)> run;

  // ---- put
  auto* put = app.add_subcommand("put", "puts the given key into the store");
  std::string put_key, put_value, put_lease;
  bool put_prev = false, ignore_value = false, ignore_lease = false;
  put->add_option("key", put_key)->required();
  put->add_option("value", put_value, "the value (read from stdin when omitted)");
  put->add_flag("--prev-kv", put_prev, "return the previous key-value pair");
  put->add_flag("--ignore-value", ignore_value, "update the key using its current value");
  put->add_flag("--ignore-lease", ignore_lease, "update the key using its current lease");
  put->add_option("--lease", put_lease, "lease ID (in hexadecimal) to attach to the key");
  put->callback([&] {
    run = [&](Client& c) {
      if (put->count("value") == 0 && !ignore_value) {
        put_value.assign(std::istreambuf_iterator<char>(std::cin), {});
      }
      json::object req;
      req["key"] = base64_encode(put_key);
      if (!put_value.empty()) req["value"] = base64_encode(put_value);
      if (!put_lease.empty()) req["lease"] = std::to_string(std::stoull(put_lease, nullptr, 16));
      if (put_prev) req["prev_kv"] = true;
      if (ignore_value) req["ignore_value"] = true;
      if (ignore_lease) req["ignore_lease"] = true;
      json::object resp = c.call("/v3/kv/put", req);
      if (g.write_out == "json") return print_json(resp);
      std::cout << "OK\n";
      if (auto it = resp.find("prev_kv"); put_prev && it != resp.end()) {
        print_kv_lines(it->value().as_object());
      }
    };
  });

  // ---- get
  auto* get = app.add_subcommand("get", "gets the key or a range of keys");
  KeyArgs gk;
  int64_t rev = 0, limit = 0;
  bool keys_only = false, value_only = false, count_only = false;
  std::string order, sort_by, consistency = "l";
  get->add_option("key", gk.key)->required();
  get->add_option("range_end", gk.range_end);
  get->add_flag("--prefix", gk.prefix, "get keys with matching prefix");
  get->add_flag("--from-key", gk.from_key, "get keys >= the given key (byte order)");
  get->add_option("--rev", rev, "specify the kv revision");
  get->add_option("--limit", limit, "maximum number of results");
  get->add_flag("--keys-only", keys_only, "get only the keys");
  get->add_flag("--print-value-only", value_only, "only print the values (simple format)");
  get->add_flag("--count-only", count_only, "get only the count");
  get->add_option("--order", order, "order of results; ASCEND or DESCEND (ASCEND by default)");
  get->add_option("--sort-by", sort_by, "sort target; CREATE, KEY, MODIFY, VALUE, or VERSION");
  get->add_option("--consistency", consistency, "l (linearizable) or s (serializable)")
      ->check(CLI::IsMember({"l", "s"}));
  get->callback([&] {
    run = [&](Client& c) {
      gk.resolve();
      json::object req;
      req["key"] = base64_encode(gk.key);
      if (!gk.range_end.empty()) req["range_end"] = base64_encode(gk.range_end);
      if (rev != 0) req["revision"] = std::to_string(rev);
      if (limit != 0) req["limit"] = std::to_string(limit);
      if (keys_only) req["keys_only"] = true;
      if (count_only) req["count_only"] = true;
      if (consistency == "s") req["serializable"] = true;
      // As etcdctl: names in any case; a bad one exits 4 (ExitBadFeature). No order is sent as
      // NONE (the server then ascends by a target other than the key, after taking the limit
      // in key order), and an ascending sort by key is NONE too (clientv3.WithSort).
      std::string o = upper(order), t = upper(sort_by);
      if (o != "" && o != "ASCEND" && o != "DESCEND") {
        throw ExitError(4, "bad sort order " + order);
      }
      if (t != "" && t != "KEY" && t != "CREATE" && t != "MODIFY" && t != "VALUE" &&
          t != "VERSION") {
        throw ExitError(4, "bad sort target " + sort_by);
      }
      if (t == "" || t == "KEY") {
        if (o == "DESCEND") req["sort_order"] = "DESCEND";
      } else {
        if (!o.empty()) req["sort_order"] = o;
        req["sort_target"] = t == "MODIFY" ? "MOD" : t;
      }
      json::object resp = c.call("/v3/kv/range", req);
      if (g.write_out == "json") return print_json(resp);
      if (count_only) {
        std::cout << number(resp, "count") << "\n";
        return;
      }
      auto it = resp.find("kvs");
      if (it == resp.end()) return;
      for (const auto& v : it->value().as_array()) {
        const auto& kv = v.as_object();
        if (value_only) {
          std::cout << bytes(kv, "value") << "\n";
        } else if (keys_only) {
          std::cout << bytes(kv, "key") << "\n\n";
        } else {
          print_kv_lines(kv);
        }
      }
    };
  });

  // ---- del
  auto* del = app.add_subcommand("del", "removes the key or a range of keys");
  KeyArgs dk;
  bool del_prev = false;
  del->add_option("key", dk.key)->required();
  del->add_option("range_end", dk.range_end);
  del->add_flag("--prefix", dk.prefix, "delete keys with matching prefix");
  del->add_flag("--from-key", dk.from_key, "delete keys >= the given key");
  del->add_flag("--prev-kv", del_prev, "return the deleted key-value pairs");
  del->callback([&] {
    run = [&](Client& c) {
      dk.resolve();
      json::object req;
      req["key"] = base64_encode(dk.key);
      if (!dk.range_end.empty()) req["range_end"] = base64_encode(dk.range_end);
      if (del_prev) req["prev_kv"] = true;
      json::object resp = c.call("/v3/kv/deleterange", req);
      if (g.write_out == "json") return print_json(resp);
      std::cout << number(resp, "deleted") << "\n";
      if (auto it = resp.find("prev_kvs"); it != resp.end()) {
        for (const auto& v : it->value().as_array()) print_kv_lines(v.as_object());
      }
    };
  });

  // ---- compaction
  auto* compaction = app.add_subcommand("compaction", "compacts the event history");
  int64_t compact_rev = 0;
  bool physical = false;
  compaction->add_option("revision", compact_rev)->required();
  compaction->add_flag("--physical", physical, "wait until the compaction is physically applied");
  compaction->callback([&] {
    run = [&](Client& c) {
      json::object req;
      req["revision"] = std::to_string(compact_rev);
      if (physical) req["physical"] = true;
      json::object resp = c.call("/v3/kv/compaction", req);
      if (g.write_out == "json") return print_json(resp);
      std::cout << "compacted revision " << compact_rev << "\n";
    };
  });

  // ---- member list
  auto* member = app.add_subcommand("member", "membership commands");
  member->require_subcommand(1);
  auto* member_list = member->add_subcommand("list", "lists all members in the cluster");
  member_list->callback([&] {
    run = [&](Client& c) {
      json::object resp = c.call("/v3/cluster/member/list", json::object{});
      if (g.write_out == "json") return print_json(resp);
      std::vector<std::vector<std::string>> rows;
      if (auto it = resp.find("members"); it != resp.end()) {
        for (const auto& v : it->value().as_array()) {
          const auto& m = v.as_object();
          auto urls = [&](std::string_view name) {
            std::string out;
            if (auto u = m.find(name); u != m.end()) {
              for (const auto& x : u->value().as_array()) {
                out += (out.empty() ? "" : ",") + std::string(x.as_string());
              }
            }
            return out;
          };
          std::string name = field(m, "name");
          bool learner = m.contains("isLearner") && m.at("isLearner").as_bool();
          rows.push_back({etcdlab::cli::hex(number(m, "ID")), name.empty() ? "unstarted" : "started",
                          name, urls("peerURLs"), urls("clientURLs"), learner ? "true" : "false"});
        }
      }
      if (g.write_out == "table") {
        std::cout << etcdlab::cli::table(
            {"ID", "STATUS", "NAME", "PEER ADDRS", "CLIENT ADDRS", "IS LEARNER"}, rows);
        return;
      }
      for (const auto& r : rows) {
        std::cout << fmt::format("{}, {}, {}, {}, {}, {}\n", r[0], r[1], r[2], r[3], r[4], r[5]);
      }
    };
  });

  // ---- endpoint status / health
  auto* endpoint = app.add_subcommand("endpoint", "endpoint related commands");
  endpoint->require_subcommand(1);
  auto* status = endpoint->add_subcommand("status", "prints the status of each endpoint");
  status->callback([&] {
    run = [&](Client& c) {
      std::vector<std::vector<std::string>> rows;
      json::array all;
      bool failed = false;
      for (const auto& ep : c.endpoints()) {
        try {
          json::object s = c.call_at(ep, "/v3/maintenance/status", json::object{});
          const auto& h = s.at("header").as_object();
          std::string errors;
          if (auto e = s.find("errors"); e != s.end()) {
            for (const auto& x : e->value().as_array()) {
              errors += (errors.empty() ? "" : ", ") + std::string(x.as_string());
            }
          }
          bool learner = s.contains("isLearner") && s.at("isLearner").as_bool();
          rows.push_back({ep, etcdlab::cli::hex(number(h, "member_id")), field(s, "version"),
                          etcdlab::cli::human_bytes(number(s, "dbSize")),
                          number(s, "leader") == number(h, "member_id") ? "true" : "false",
                          learner ? "true" : "false", std::to_string(number(s, "raftTerm")),
                          std::to_string(number(s, "raftIndex")),
                          std::to_string(number(s, "raftAppliedIndex")), errors});
          json::object entry;
          entry["Endpoint"] = ep;
          entry["Status"] = s;
          all.push_back(entry);
        } catch (const EtcdError& e) {
          std::cerr << fmt::format("Failed to get the status of endpoint {} ({})\n", ep, e.what());
          failed = true;
        }
      }
      if (g.write_out == "json") {
        print_json(all);
      } else if (g.write_out == "table") {
        std::cout << etcdlab::cli::table({"ENDPOINT", "ID", "VERSION", "DB SIZE", "IS LEADER",
                                          "IS LEARNER", "RAFT TERM", "RAFT INDEX",
                                          "RAFT APPLIED INDEX", "ERRORS"},
                                         rows);
      } else {
        for (const auto& r : rows) {
          std::cout << fmt::format("{}, {}, {}, {}, {}, {}, {}, {}, {}, {}\n", r[0], r[1], r[2],
                                   r[3], r[4], r[5], r[6], r[7], r[8], r[9]);
        }
      }
      if (failed) throw EtcdError("unhealthy cluster");
    };
  });
  auto* health = endpoint->add_subcommand("health", "checks the health of each endpoint");
  health->callback([&] {
    run = [&](Client& c) {
      std::vector<std::vector<std::string>> rows;
      bool unhealthy = false;
      for (const auto& ep : c.endpoints()) {
        auto start = std::chrono::steady_clock::now();
        std::string error;
        try {
          // As etcdctl: a linearizable read proves a quorum and a leader.
          json::object req;
          req["key"] = base64_encode("health");
          c.call_at(ep, "/v3/kv/range", req);
        } catch (const EtcdError& e) {
          error = e.what();
        }
        auto took = std::chrono::steady_clock::now() - start;
        std::string t = go_duration(std::chrono::duration_cast<std::chrono::nanoseconds>(took));
        if (error.empty()) {
          rows.push_back({ep, "true", t, ""});
          if (g.write_out == "simple") {  // (etcdctl prints it on stderr too)
            std::cerr << fmt::format("{} is healthy: successfully committed proposal: took = {}\n", ep, t);
          }
        } else {
          unhealthy = true;
          rows.push_back({ep, "false", t, error});
          if (g.write_out == "simple") {
            std::cerr << fmt::format("{} is unhealthy: failed to commit proposal: {}\n", ep, error);
          }
        }
      }
      if (g.write_out == "table") {
        std::cout << etcdlab::cli::table({"ENDPOINT", "HEALTH", "TOOK", "ERROR"}, rows);
      } else if (g.write_out == "json") {
        json::array all;
        for (const auto& r : rows) {
          json::object o;
          o["endpoint"] = r[0];
          o["health"] = r[1] == "true";
          o["took"] = r[2];
          if (!r[3].empty()) o["error"] = r[3];
          all.push_back(o);
        }
        std::cout << json::serialize(all) << "\n";
      }
      if (unhealthy) throw EtcdError("unhealthy cluster");
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    Client client(split(g.endpoints), std::chrono::seconds(g.command_timeout_s));
    if (run) run(client);
  } catch (const ExitError& e) {
    std::cerr << "Error: " << e.what() << "\n";
    return e.code;
  } catch (const EtcdError& e) {
    std::cerr << "Error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
