// Auth under faults: the server's node in the simulator with auth on, clients writing as
// users with overlapping permissions while root grants and revokes roles and permissions and
// deletes and re-creates roles, under partitions, lost and duplicated messages and crashes.
//
// Checkers:
//   - a model of etcd 3.4's auth rules, written here independently of auth_store.cc, replays
//     the committed auth entries in log order; every put the store holds must have been
//     permitted to its stamp's user at its apply index (and not stale), and every put the
//     model permits must be in the store: permission is decided by the log, not by timing;
//   - every member's auth state is the same at the same applied index (watched after every
//     apply batch on every member), and the same on all at the end;
//   - a token whose user's password changed is refused by every member that applied the
//     change.
// 50 seeds in make check (under a second), 3,000 with ETCDLAB_LONG=1 (40 s); a failure prints
// its seed and the line that replays it (ETCDLAB_SEED=<seed>).
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "etcdlab/testing/seeds.h"
#include "kv_workload.h"

namespace etcdlab::sim::testing {
namespace {

using etcdlab::testing::for_each_seed;
using etcdlab::testing::seed_count;
using server::auth::AuthStamp;
using server::auth::Permission;
using server::auth::PermType;

const std::vector<std::string> kUsers = {"u1", "u2", "u3"};
const std::vector<std::string> kRoles = {"ra", "rb", "rc"};
const std::vector<std::string> kKeys = {"a", "b", "c", "d", "e"};

std::string as(const std::string& user, const server::Request& r) {
  return server::encode_request(0, r, AuthStamp{user, 0});  // (the client's user: kv_node_logic.h)
}

// One role's permissions the workload picks from: overlapping single keys and ranges.
Permission random_perm(Rng& rng) {
  switch (rng.uniform(0, 3)) {
    case 0: return {PermType::kWrite, kKeys[rng.uniform(0, kKeys.size() - 1)], ""};
    case 1: return {PermType::kReadWrite, "a", "c"};
    case 2: return {PermType::kWrite, "c", std::string(1, '\0')};
    default: return {PermType::kRead, "a", "z"};
  }
}

// etcd 3.4's rules, as simply as they can be said (the model the log is replayed into).
struct Model {
  bool enabled = false;
  uint64_t revision = 1;
  std::map<std::string, std::set<std::string>> users;
  std::map<std::string, std::vector<Permission>> roles;
  std::set<uint64_t> seen;  // request ids applied (a duplicated proposal applies once)

  bool is_root(const std::string& u) const { return users.count(u) && users.at(u).count("root"); }

  bool covers(const Permission& p, const std::string& key) const {
    if (p.type == PermType::kRead) return false;
    if (p.range_end.empty()) return key == p.key;
    if (p.range_end == std::string(1, '\0')) return key >= p.key;
    return key >= p.key && key < p.range_end;
  }

  // Whether a put of `key` stamped `stamp` goes through now.
  bool put_allowed(const std::optional<AuthStamp>& stamp, const std::string& key) const {
    if (!enabled) return true;
    if (!stamp || stamp->user.empty()) return false;
    if (stamp->revision < revision) return false;
    if (!users.count(stamp->user)) return false;
    if (is_root(stamp->user)) return true;
    for (const std::string& r : users.at(stamp->user)) {
      auto it = roles.find(r);
      if (it == roles.end()) continue;
      for (const Permission& p : it->second) {
        if (covers(p, key)) return true;
      }
    }
    return false;
  }

  void apply(const server::Request& req, const std::optional<AuthStamp>& stamp) {
    if (enabled && !(stamp && is_root(stamp->user))) return;  // admin needs root
    bool changed = false;
    if (const auto* ua = std::get_if<server::UserAddRequest>(&req)) {
      if (!ua->name.empty() && !users.count(ua->name)) users[ua->name], changed = true;
    } else if (const auto* ra = std::get_if<server::RoleAddRequest>(&req)) {
      if (!ra->name.empty() && !roles.count(ra->name)) roles[ra->name], changed = true;
    } else if (const auto* ug = std::get_if<server::UserGrantRoleRequest>(&req)) {
      if (users.count(ug->user) && (ug->role == "root" || roles.count(ug->role))) {
        changed = users[ug->user].insert(ug->role).second;
      }
    } else if (const auto* ur = std::get_if<server::UserRevokeRoleRequest>(&req)) {
      bool root_of_root = enabled && ur->name == "root" && ur->role == "root";
      if (!root_of_root && users.count(ur->name)) changed = users[ur->name].erase(ur->role) > 0;
    } else if (const auto* rd = std::get_if<server::RoleDeleteRequest>(&req)) {
      if (!(enabled && rd->role == "root") && roles.erase(rd->role) > 0) {
        for (auto& [name, held] : users) held.erase(rd->role);
        changed = true;
      }
    } else if (const auto* pg = std::get_if<server::RoleGrantPermissionRequest>(&req)) {
      if (roles.count(pg->name)) {
        auto& perms = roles[pg->name];
        std::erase_if(perms, [&](const Permission& p) {
          return p.key == pg->perm.key && p.range_end == pg->perm.range_end;
        });
        perms.push_back(pg->perm);
        changed = true;
      }
    } else if (const auto* pr = std::get_if<server::RoleRevokePermissionRequest>(&req)) {
      if (roles.count(pr->role)) {
        changed = std::erase_if(roles[pr->role], [&](const Permission& p) {
                    return p.key == pr->key && p.range_end == pr->range_end;
                  }) > 0;
      }
    } else if (const auto* pw = std::get_if<server::UserChangePasswordRequest>(&req)) {
      changed = users.count(pw->name) > 0;
    } else if (std::holds_alternative<server::AuthEnableRequest>(req)) {
      if (!enabled && is_root("root")) enabled = true;  // (no new revision)
    }
    if (changed) ++revision;
  }
};

// One member's auth state as text: equal texts, equal states.
std::string describe(const server::auth::AuthState& s) {
  std::string out = (s.enabled ? "on " : "off ") + std::to_string(s.revision);
  for (const auto& [name, u] : s.users) {
    out += " user " + name + ":" + u.hash + "[";
    for (const auto& r : u.roles) out += r + ",";
    out += "]";
  }
  for (const auto& [name, r] : s.roles) {
    out += " role " + name + "[";
    for (const auto& p : r.perms) {
      out += std::to_string(static_cast<int>(p.type)) + ":" + p.key + "-" + p.range_end + ",";
    }
    out += "]";
  }
  return out;
}

// What every member applied: the log by index (first seen; Raft makes every member's entry
// at an index the same), and each member's auth state after each batch.
// Tokens: an Authenticate entry at index i names the token "<prefix>.<i>" on every member
// that applies it; a password change of its user at index k > i must kill it on every member
// that has applied k.
struct Recorder {
  std::map<uint64_t, std::string> entries;
  std::map<uint64_t, std::string> auth_at;  // applied index -> the first member's auth state
  std::vector<std::string> problems;
  struct Token {
    std::string user;
    uint64_t index = 0;
  };
  std::map<std::string, Token> tokens;                  // token -> who and where it was issued
  std::map<std::string, std::set<uint64_t>> password_changes;  // user -> indexes
  uint64_t killed_tokens_checked = 0;

  void note(const Entry& e) {
    server::DecodedRequest d = server::decode_stamped_request(e.data);
    if (const auto* a = std::get_if<server::AuthenticateRequest>(&d.request)) {
      tokens[a->token_prefix + "." + std::to_string(e.index)] = Token{a->name, e.index};
    } else if (const auto* pw = std::get_if<server::UserChangePasswordRequest>(&d.request)) {
      password_changes[pw->name].insert(e.index);
    }
  }

  void check_tokens(NodeId member, server::KvNode& node) {
    uint64_t applied = node.applied_index();
    for (const auto& [token, t] : tokens) {
      const auto& changes = password_changes[t.user];
      auto kill = changes.upper_bound(t.index);
      if (kill == changes.end() || *kill > applied) continue;
      ++killed_tokens_checked;
      if (!node.authorize(server::Credentials{token, std::nullopt},
                          server::Access::kTokenOnly) &&
          problems.size() < 5) {
        problems.push_back("member " + std::to_string(member) + " at applied index " +
                           std::to_string(applied) + " accepts token " + token + " of " +
                           t.user + ", killed by the password change at index " +
                           std::to_string(*kill));
      }
    }
  }

  void applied(NodeId member, const std::vector<Entry>& batch, server::KvNode& node) {
    for (const Entry& e : batch) {
      if (e.type != EntryType::kNormal || e.data.empty()) continue;
      auto [it, first] = entries.emplace(e.index, e.data);
      if (first) note(e);
      if (!first && it->second != e.data) {
        problems.push_back("entry " + std::to_string(e.index) + " differs on member " +
                           std::to_string(member));
      }
    }
    check_tokens(member, node);
    std::string state = describe(node.auth().state());
    auto [it, first] = auth_at.emplace(node.applied_index(), state);
    if (!first && it->second != state && problems.size() < 5) {
      problems.push_back("member " + std::to_string(member) + " at applied index " +
                         std::to_string(node.applied_index()) + " holds auth state\n  " + state +
                         "\nwhere another held\n  " + it->second);
    }
  }
};

struct AuthRun {
  explicit AuthRun(uint64_t seed) : rng(seed * 6151 + 3), recorder(std::make_shared<Recorder>()) {
    KvSimOptions kv;
    auto rec = recorder;
    kv.applied = [rec](NodeId m, const std::vector<Entry>& b, server::KvNode& n) {
      rec->applied(m, b, n);
    };
    ClusterOptions o = kv_cluster(seed, 3, kv);
    o.snapshot_every = 40;  // members restore auth state from snapshots too
    c = std::make_unique<Cluster>(o);
  }

  // Runs a request to its end with no fault, retrying what the cluster could not take.
  void setup(const std::string& payload) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      uint64_t op = c->propose(payload);
      c->run_until([&] { return c->op(op).done(); }, 10000);
      if (c->op(op).outcome == Outcome::kOk) return;
    }
    ADD_FAILURE() << "a setup request never went through\n" << cluster_report(*c);
  }

  void go(int rounds) {
    c->run_until([&] { return c->leader().has_value(); }, 10000);
    using namespace server;
    setup(encode_request(0, UserAddRequest{"root", "$2b$04$root"}));
    setup(encode_request(0, UserGrantRoleRequest{"root", "root"}));
    for (const auto& u : kUsers) setup(encode_request(0, UserAddRequest{u, "$2b$04$" + u}));
    for (const auto& r : kRoles) {
      setup(encode_request(0, RoleAddRequest{r}));
      setup(encode_request(0, RoleGrantPermissionRequest{r, random_perm(rng)}));
    }
    for (size_t i = 0; i < kUsers.size(); ++i) {
      setup(encode_request(0, UserGrantRoleRequest{kUsers[i], kRoles[i]}));
    }
    setup(encode_request(0, AuthEnableRequest{}));
    FaultSchedule faults(*c, rng, 1);
    for (int r = 0; r < rounds; ++r) {
      for (uint64_t k = rng.uniform(1, 4); k > 0; --k) submit();
      faults.next();
      c->run_ms(static_cast<double>(rng.uniform(5, 300)));
    }
    faults.end();
    server::DeleteRangeRequest last;
    last.range.key = "settled";
    ASSERT_TRUE(settle(*c, 30000, as("root", last))) << "the cluster did not settle\n"
                                                     << auth_report() << cluster_report(*c);
  }

  // Each member's auth state and what the recorder saw go wrong.
  std::string auth_report() const {
    std::string out;
    for (int i = 0; i < c->size(); ++i) {
      const server::KvNode* n = kv_node_of(c->logic(i));
      out += "member " + std::to_string(i) + " auth: " + (n ? describe(n->auth().state()) : "-") +
             "\n";
    }
    for (const auto& p : recorder->problems) out += p + "\n";
    return out;
  }

  void submit() {
    using namespace server;
    std::optional<int> via;
    if (rng.chance(0.5)) via = static_cast<int>(rng.uniform(0, c->size() - 1));
    const std::string& user = kUsers[rng.uniform(0, kUsers.size() - 1)];
    const std::string& role = kRoles[rng.uniform(0, kRoles.size() - 1)];
    double what = static_cast<double>(rng.uniform(0, 99)) / 100.0;
    if (what < 0.6) {
      std::string value = "v" + std::to_string(c->history().size() + 1);
      std::string key = kKeys[rng.uniform(0, kKeys.size() - 1)];
      std::string who = rng.chance(0.05) ? "root" : user;
      c->propose(as(who, PutRequest{key, value, 0, {}}), via);
      ++puts;
    } else if (what < 0.72) {
      c->propose(as("root", UserGrantRoleRequest{user, role}), via);
    } else if (what < 0.84) {
      c->propose(as("root", UserRevokeRoleRequest{user, role}), via);
    } else if (what < 0.88) {
      c->propose(as("root", RoleDeleteRequest{role}), via);
    } else if (what < 0.92) {
      c->propose(as("root", RoleAddRequest{role}), via);
    } else if (what < 0.95) {
      c->propose(as("root", RoleGrantPermissionRequest{role, random_perm(rng)}), via);
    } else if (what < 0.97) {
      // (anonymous: the simulated rpc fills in the checked revision; the token is
      // "<prefix>.<index>", which the recorder learns from the log)
      std::string prefix = "T" + std::to_string(c->history().size() + 1);
      c->propose(encode_request(0, AuthenticateRequest{user, prefix, 0}), via);
    } else if (what < 0.98) {
      c->propose(as("root", UserChangePasswordRequest{user, "$2b$04$changed"}), via);
    } else {
      Permission p = random_perm(rng);
      c->propose(as("root", RoleRevokePermissionRequest{role, p.key, p.range_end}), via);
    }
  }

  Rng rng;
  std::shared_ptr<Recorder> recorder;
  std::unique_ptr<Cluster> c;
  uint64_t puts = 0;
};

struct Tally {
  std::map<std::string, uint64_t> n;
  void print() const {
    std::string line;
    for (const auto& [k, v] : n) line += (line.empty() ? "" : ", ") + std::to_string(v) + " " + k;
    std::printf("[tally] %s\n", line.c_str());
  }
};

TEST(KvAuthUnderFaults, NoWriteAppliesThatItsUserMayNotMakeAtItsApplyIndex) {
  Tally tally;
  for_each_seed(seed_count(50, 3000), [&](uint64_t seed) {
    AuthRun run(seed);
    run.go(40);
    if (::testing::Test::HasFatalFailure()) return;
    const Recorder& rec = *run.recorder;
    for (const auto& p : rec.problems) ADD_FAILURE() << p;

    // Replay the log into the model: which puts it permits, by their unique value.
    Model model;
    std::map<std::string, std::pair<uint64_t, bool>> verdict;  // value -> (index, allowed)
    for (const auto& [index, data] : rec.entries) {
      server::DecodedRequest d = server::decode_stamped_request(data);
      if (d.id != 0 && !model.seen.insert(d.id).second) continue;  // a duplicate: skipped
      if (server::is_auth_request(d.request)) {
        model.apply(d.request, d.stamp);
      } else if (const auto* put = std::get_if<server::PutRequest>(&d.request)) {
        verdict[put->value] = {index, model.put_allowed(d.stamp, put->key)};
      }
    }
    ASSERT_TRUE(model.enabled) << "auth was never enabled: the run checks nothing";
    auto history = history_of(store_of(*run.c, 0));
    std::set<std::string> in_store;
    for (const auto& [revision, events] : history) {
      for (const auto& e : events) {
        if (e.type == mvcc::Event::Type::kPut) in_store.insert(e.kv.value);
      }
    }
    for (const auto& [value, v] : verdict) {
      bool stored = in_store.count(value) > 0;
      ++tally.n[v.second ? "puts permitted" : "puts refused"];
      EXPECT_EQ(stored, v.second)
          << "the put of " << value << " at index " << v.first << " is "
          << (stored ? "in the store" : "not in the store") << " but the model says it was "
          << (v.second ? "permitted" : "refused") << "\n" << cluster_report(*run.c);
    }
    // Every member ends with the same auth state, the model's revision.
    std::string first = describe(kv_node_of(run.c->logic(0))->auth().state());
    for (int i = 1; i < run.c->size(); ++i) {
      EXPECT_EQ(describe(kv_node_of(run.c->logic(i))->auth().state()), first) << "member " << i;
    }
    EXPECT_EQ(kv_node_of(run.c->logic(0))->auth().revision(), model.revision);
    for (int i = 0; i < run.c->size(); ++i) tally.n["restarts"] += run.c->node(i).restarts;
    tally.n["auth states compared"] += rec.auth_at.size();
    tally.n["tokens issued"] += rec.tokens.size();
    tally.n["checks of killed tokens"] += rec.killed_tokens_checked;
  });
  tally.print();
}

}  // namespace
}  // namespace etcdlab::sim::testing
