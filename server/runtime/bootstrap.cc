#include "bootstrap.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "../node/membership.h"
#include "data_dir.h"
#include "db_check.h"
#include "etcdlab/codec.h"
#include "peer_transport.h"
#include "tls_context.h"

namespace etcdlab::runtime {
namespace {

bool same_urls(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

// As etcd: ask the members named in --initial-cluster for the cluster; our entry there (added
// with member add) has our peer URLs, and its id becomes ours.
void join_existing(const ServerConfig& config, OpenedMember& out) {
  for (const auto& m : out.members) {
    if (same_urls(m.peer_urls, config.initial_advertise_peer_urls)) continue;
    for (const auto& url : m.peer_urls) {
      std::optional<std::string> answer;
      try {
        auto [host, port] = parse_host_port(url);
        answer =
            fetch_members(host, port, config.initial_cluster_token,
                          config.initial_advertise_peer_urls, std::chrono::milliseconds(2000),
                          is_tls_url(url) ? make_client_tls(config.peer_tls, false, "") : nullptr);
      } catch (const std::exception& e) {
        spdlog::warn("etcdlab {}: {}: {}", config.name, url, e.what());
      }
      if (!answer) continue;
      auto [cluster_id, known] = decode_members_answer(*answer);
      for (const auto& k : known) {
        if (!same_urls(k.peer_urls, config.initial_advertise_peer_urls)) continue;
        out.cluster = cluster_id;
        out.id = k.id;
        out.members = known;
        spdlog::info("etcdlab {}: joining cluster {:x} as member {:x} (learned from {})",
                     config.name, out.cluster, out.id, url);
        return;
      }
      throw std::runtime_error(fmt::format(
          "the cluster at {} has no member with peer URLs {}: add it first (member add)", url,
          fmt::join(config.initial_advertise_peer_urls, ",")));
    }
  }
  throw std::runtime_error(
      "--initial-cluster-state existing: no member of --initial-cluster answered; is the "
      "cluster running, with the same --initial-cluster-token?");
}

// As etcd's bootstrap: the members of a new cluster are the first entries of its log. Every
// member writes the same bytes (names and peer URLs; client URLs come with each member's
// publish), as Raft requires of entries with the same index and term.
void write_first_entries(WalStorage& storage, const std::vector<server::Member>& members) {
  std::vector<Entry> entries;
  for (server::Member m : members) {
    m.client_urls.clear();
    ConfChange cc{ConfChange::Type::kAddVoter, m.id, server::encode_member_context(m)};
    entries.push_back(Entry{entries.size() + 1, 1, EntryType::kConfChange, encode_value(cc)});
  }
  storage.append(entries);
  storage.set_hard_state(HardState{1, kNoNode, entries.size()});
  storage.sync();
}

}  // namespace

OpenedMember open_member(const ServerConfig& config, FileSystem& fs, const WalStorageOptions& wal) {
  OpenedMember out;
  DataDir dir(config.data_dir);
  fs.create_dirs(dir.member());
  out.lock = std::make_unique<DirectoryLock>(dir.lock());

  std::vector<uint64_t> ids;
  for (const auto& [name, urls] : parse_initial_cluster(config.initial_cluster)) {
    server::Member m;
    m.name = name;
    m.peer_urls = urls;
    m.id = server::member_id_of(urls, config.initial_cluster_token);
    if (name == config.name) out.id = m.id;
    ids.push_back(m.id);
    out.members.push_back(m);
  }
  if (out.id == 0) {
    throw std::invalid_argument(
        fmt::format("--initial-cluster does not name this member ({})", config.name));
  }
  out.cluster = server::cluster_id_of(ids);

  out.storage = WalStorage::open(fs, dir.raft(), wal);
  bool empty_log = out.storage->last_index() == 0 && out.storage->hard_state().empty() &&
                   out.storage->snapshot().empty();
  std::string cluster_file = dir.cluster_file();
  if (auto known = read_cluster_file(fs, cluster_file)) {
    // A restart: the data dir says who we are; the --initial-* flags no longer matter.
    out.cluster = known->cluster;
    out.id = known->member;
    out.members.clear();  // rebuilt from the snapshot and the log
  } else if (config.initial_cluster_state == "existing") {
    if (!empty_log) {
      throw std::runtime_error(fmt::format(
          "{}: the Raft log has entries but member/cluster is missing: not a data dir this "
          "member can join with; remove it and join again", dir.member()));
    }
    join_existing(config, out);
    write_cluster_file(fs, cluster_file, {out.cluster, out.id});
  } else {
    // Written again even if a crash left some of it: without member/cluster nothing else was
    // ever written to this log, and a crash may have kept the entries but not the hard state
    // (or a prefix of the entries). The same bytes at the same indexes, then one sync.
    write_first_entries(*out.storage, out.members);
    out.voters = ids;
    write_cluster_file(fs, cluster_file, {out.cluster, out.id});
  }

  // A damaged store is refused here, before anything is served from it.
  check_database_file(dir.db());
  out.db = dir.db();
  return out;
}

std::string encode_members_answer(uint64_t cluster, const std::vector<server::Member>& members) {
  std::string out;
  Writer w(out);
  w.u64(cluster);
  w.u64(members.size());
  for (server::Member m : members) {
    m.client_urls.clear();
    w.bytes(server::encode_member_context(m));
  }
  return out;
}

std::string answer_members_request(uint64_t cluster, const std::vector<server::Member>& members,
                                   const std::vector<std::string>& peer_urls) {
  for (const auto& m : members) {
    if (same_urls(m.peer_urls, peer_urls)) return encode_members_answer(cluster, members);
  }
  return {};
}

std::pair<uint64_t, std::vector<server::Member>> decode_members_answer(std::string_view data) {
  Reader r(data);
  uint64_t cluster = r.u64("cluster id");
  std::vector<server::Member> members;
  uint64_t n = r.count("members", 1);
  for (uint64_t i = 0; i < n; ++i) {
    members.push_back(server::decode_member_context(r.bytes("member")).second);
  }
  return {cluster, std::move(members)};
}

}  // namespace etcdlab::runtime
