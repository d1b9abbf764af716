#include "data_dir.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "etcdlab/codec.h"
#include "etcdlab/crc32c.h"
#include "etcdlab/errors.h"
#include "etcdlab/fs/posix_file_system.h"
#include "etcdlab/log/wal_storage.h"
#include "etcdlab/mvcc/store.h"
#include "etcdlab/sha256.h"

namespace etcdlab::runtime {
namespace {

constexpr uint64_t kClusterFileVersion = 1;
constexpr size_t kShaBytes = 32;

// Copies the database part of a saved snapshot to `to`, checking its SHA-256 trailer; returns
// the database's size.
uint64_t extract_db(const std::string& from, const std::string& to, bool skip_hash_check) {
  PosixFileSystem fs;
  // Go's os.Stat error, as etcdctl reports it.
  if (!fs.exists(from)) throw StorageError("stat " + from + ": no such file or directory");
  auto in = fs.open(from);
  uint64_t size = in->size();
  if (size <= kShaBytes) throw StorageError(fmt::format("{}: too short to be a snapshot", from));
  uint64_t db_size = size - kShaBytes;
  std::string trailer = in->read_at(db_size, kShaBytes);
  Sha256 sha;
  if (fs.exists(to)) fs.remove(to);
  auto out = fs.create(to);
  for (uint64_t at = 0; at < db_size; at += 1 << 20) {
    std::string chunk = in->read_at(at, std::min<uint64_t>(1 << 20, db_size - at));
    sha.update(chunk);
    out->append(chunk);
  }
  out->sync();
  if (!skip_hash_check && sha.digest() != trailer) {
    out.reset();
    fs.remove(to);
    throw StorageError(fmt::format(
        "{}: the SHA-256 at its end does not match its {} bytes (a damaged or cut snapshot; "
        "--skip-hash-check restores it anyway)", from, db_size));
  }
  return db_size;
}

}  // namespace

std::optional<ClusterIds> read_cluster_file(FileSystem& fs, const std::string& path) {
  if (!fs.exists(path)) return std::nullopt;
  auto f = fs.open(path);
  std::string data = f->read_at(0, f->size());
  Reader r(data);
  if (r.u64("cluster file version") != kClusterFileVersion) {
    throw StorageError(path + ": unknown cluster file version");
  }
  ClusterIds ids;
  ids.cluster = r.u64("cluster id");
  ids.member = r.u64("member id");
  return ids;
}

void write_cluster_file(FileSystem& fs, const std::string& path, const ClusterIds& ids) {
  std::string data;
  Writer w(data);
  w.u64(kClusterFileVersion);
  w.u64(ids.cluster);
  w.u64(ids.member);
  std::string tmp = path + ".tmp";
  if (fs.exists(tmp)) fs.remove(tmp);
  auto f = fs.create(tmp);
  f->append(data);
  f->sync();
  f.reset();
  fs.rename(tmp, path);
  fs.sync_dir(parent_dir(path));
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::vector<std::pair<std::string, std::vector<std::string>>> parse_initial_cluster(
    const std::string& text) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& item : split(text, ',')) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw std::invalid_argument("--initial-cluster: expected name=url, got \"" + item + "\"");
    }
    std::string name = item.substr(0, eq);
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == name; });
    if (it == out.end()) {
      out.push_back({name, {}});
      it = out.end() - 1;
    }
    it->second.push_back(item.substr(eq + 1));
  }
  return out;
}

SnapshotFileStatus snapshot_file_status(const std::string& path, bool skip_hash_check) {
  std::string tmp = (std::filesystem::temp_directory_path() /
                     fmt::format("etcdlab-snapshot-status-{}.db", ::getpid()))
                        .string();
  SnapshotFileStatus st;
  st.total_size = extract_db(path, tmp, skip_hash_check);
  try {
    mvcc::StoreOptions o;
    o.path = tmp;
    auto store = mvcc::KvStore::open(o);
    st.revision = store->revision();
    st.total_keys = store->key_count();
    st.hash = crc32c(fmt::format("{}:{}:{}", store->hash_kv(0), store->revision(),
                                 store->compact_revision()));
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw;
  }
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::filesystem::remove(tmp + suffix, ec);
  }
  return st;
}

RestoreResult restore_snapshot(const RestoreOptions& o) {
  RestoreResult result;
  result.data_dir = o.data_dir.empty() ? o.name + ".etcdlab" : o.data_dir;
  std::string initial = o.initial_cluster;
  if (initial.empty()) {
    for (const auto& u : o.initial_advertise_peer_urls) {
      initial += (initial.empty() ? "" : ",") + o.name + "=" + u;
    }
  }
  std::vector<server::Member> members;
  std::vector<uint64_t> ids;
  for (const auto& [name, urls] : parse_initial_cluster(initial)) {
    server::Member m;
    m.name = name;
    m.peer_urls = urls;
    m.id = member_id_of(urls, o.initial_cluster_token);
    if (name == o.name) result.member = m.id;
    ids.push_back(m.id);
    members.push_back(std::move(m));
  }
  if (result.member == 0) {  // etcd's words
    throw std::invalid_argument(fmt::format(
        "couldn't find local name \"{}\" in the initial cluster configuration", o.name));
  }
  // The --initial-advertise-peer-urls must be this member's entry, as etcd checks.
  for (const auto& m : members) {
    if (m.id == result.member) {
      std::vector<std::string> a = m.peer_urls, b = o.initial_advertise_peer_urls;
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      if (a != b) {
        throw std::invalid_argument(fmt::format(
            "--initial-cluster has {}={} but --initial-advertise-peer-urls is {}", o.name,
            fmt::join(m.peer_urls, ","), fmt::join(o.initial_advertise_peer_urls, ",")));
      }
    }
  }
  result.cluster = cluster_id_of(ids);
  if (std::filesystem::exists(result.data_dir)) {
    throw std::invalid_argument(fmt::format("data-dir \"{}\" exists", result.data_dir));
  }

  // Built in place, and removed again if anything fails: a failed restore leaves nothing
  // behind that a retry would refuse as "exists".
  try {
    DataDir dir(result.data_dir);
    PosixFileSystem fs;
    fs.create_dirs(dir.member());
    extract_db(o.snapshot_path, dir.db(), o.skip_hash_check);
    mvcc::StoreOptions so;
    so.path = dir.db();
    auto store = mvcc::KvStore::open(so);
    result.revision = store->revision();
    // The new cluster's log starts after a Raft snapshot at least as far as the store's
    // consistent index, so the store never skips one of the new cluster's entries.
    result.index = std::max<uint64_t>({store->consistent_index(), members.size(), 1});
    server::KvStateMachine sm(std::move(store), members);
    auto storage = WalStorage::open(fs, dir.raft());
    ConfState conf;
    conf.voters = ids;
    auto w = storage->begin_snapshot(SnapshotMeta{result.index, 1, conf});
    sm.write_snapshot([&](std::string_view chunk) { w->write(chunk); });
    w->commit();
    storage->set_hard_state(HardState{1, kNoNode, result.index});
    storage->sync();
    write_cluster_file(fs, dir.cluster_file(), {result.cluster, result.member});
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove_all(result.data_dir, ec);
    throw;
  }
  return result;
}

void defragment_data_dir(const std::string& data_dir) {
  DataDir dir(data_dir);
  if (!std::filesystem::exists(dir.db())) {
    throw std::invalid_argument(fmt::format("no database at {}", dir.db()));
  }
  DirectoryLock lock(dir.lock());
  mvcc::StoreOptions so;
  so.path = dir.db();
  mvcc::KvStore::open(so)->defragment();
}

}  // namespace etcdlab::runtime
