// alarm list|disarm, defrag, and snapshot save|status|restore, as etcdctl 3.4's
// alarm_command.go, defrag_command.go and snapshot_command.go. `snapshot status` and
// `snapshot restore` work on files, without a server (runtime/data_dir.h does the work);
// `defrag --data-dir` too.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "../gateway/json_fields.h"
#include "../runtime/data_dir.h"
#include "context.h"
#include "etcdlab/sha256.h"
#include "go_format.h"

namespace etcdlab::cli {
namespace {

namespace json = boost::json;
using Args = std::vector<std::string>;
using Clock = std::chrono::steady_clock;

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out;
}

// ---- alarm

AlarmResponse list_alarms(Context& ctx, const Command& cmd) {
  json::object req;
  req["action"] = "GET";
  return decode_alarm(ctx.client(cmd).call("/v3/maintenance/alarm", req, ctx.deadline(),
                                           Retry::kRepeatable));
}

void alarm_list_command(Context& ctx, const Command& cmd, const Args& args) {
  if (!args.empty()) throw ExitError(kExitBadArgs, "alarm list command accepts no arguments");
  AlarmResponse r = list_alarms(ctx, cmd);  // makes the printer, so first
  ctx.printer().alarm(r);
}

// clientv3's AlarmDisarm of the empty AlarmMember: every raised alarm, one request each; the
// answer lists what was disarmed.
void alarm_disarm_command(Context& ctx, const Command& cmd, const Args& args) {
  if (!args.empty()) throw ExitError(kExitBadArgs, "alarm disarm command accepts no arguments");
  AlarmResponse disarmed;
  for (const AlarmMember& a : list_alarms(ctx, cmd).alarms) {
    json::object req;
    req["action"] = "DEACTIVATE";
    req["memberID"] = std::to_string(a.member_id);
    req["alarm"] = a.alarm;
    AlarmResponse r = decode_alarm(ctx.client(cmd).call("/v3/maintenance/alarm", req,
                                                        ctx.deadline(), Retry::kNotRepeatable));
    disarmed.alarms.insert(disarmed.alarms.end(), r.alarms.begin(), r.alarms.end());
  }
  ctx.printer().alarm(disarmed);
}

// ---- defrag

struct DefragOptions {
  bool cluster = false;
  std::string data_dir;
};

void defrag_command(Context& ctx, const DefragOptions& o, const Command& cmd, const Args&) {
  if (!o.data_dir.empty()) {
    try {
      runtime::defragment_data_dir(o.data_dir);
    } catch (const std::exception& e) {
      std::cerr << "Failed to defragment etcd data[" << o.data_dir << "] (" << e.what() << ")\n";
      throw SilentExit{kExitError};
    }
    return;
  }
  const Client& client = ctx.client(cmd);
  std::vector<std::string> endpoints = ctx.global().endpoints;
  if (o.cluster) {
    endpoints.clear();
    MemberListResponse members = decode_member_list(client.call(
        "/v3/cluster/member/list", json::object{}, ctx.deadline(), Retry::kRepeatable));
    for (const Member& m : members.members) {
      endpoints.insert(endpoints.end(), m.client_urls.begin(), m.client_urls.end());
    }
  }
  int failures = 0;
  for (const std::string& ep : endpoints) {
    try {
      client.call_at(ep, "/v3/maintenance/defragment", json::object{}, ctx.deadline(),
                     Retry::kNotRepeatable);
      std::cout << "Finished defragmenting etcd member[" << ep << "]\n";
    } catch (const EtcdError& e) {
      std::cerr << "Failed to defragment etcd member[" << ep << "] (" << e.what() << ")\n";
      ++failures;
    }
  }
  if (failures != 0) throw SilentExit{kExitError};
}

// ---- snapshot save

// The file being written: <path>.part until the stream has ended and its hash matched, then
// fsynced and renamed to <path>.
class PartFile {
 public:
  explicit PartFile(std::string path) : path_(std::move(path)), part_(path_ + ".part") {
    fd_ = ::open(part_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0) fail("could not create " + part_);
  }
  ~PartFile() {
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(part_.c_str());
    }
  }
  void write(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("could not write " + part_);
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }
  void commit() {
    if (::fdatasync(fd_) != 0) fail("could not sync " + part_);
    ::close(fd_);
    fd_ = -1;
    if (::rename(part_.c_str(), path_.c_str()) != 0) fail("could not rename " + part_);
  }

 private:
  [[noreturn]] static void fail(const std::string& what) {
    throw ExitError(kExitInterrupted, what + ": " + std::strerror(errno));
  }
  std::string path_, part_;
  int fd_ = -1;
};

// The stream is one JSON message per line, {"result":{"remaining_bytes","blob"}}, the last
// blob being the SHA-256 of the others; or {"error":{...}} when the server fails midway.
class SnapshotReceiver {
 public:
  explicit SnapshotReceiver(PartFile& file) : file_(file) {}

  void piece(std::string_view bytes) {
    line_ += bytes;
    size_t start = 0;
    for (size_t nl; (nl = line_.find('\n', start)) != std::string::npos; start = nl + 1) {
      message(std::string_view(line_).substr(start, nl - start));
    }
    line_.erase(0, start);
  }

  // Checks the hash and writes it last, as etcdctl's file has it.
  void finish() {
    message(line_);
    if (!pending_ || *pending_ != sha_.digest()) {
      throw ExitError(kExitInterrupted, "snapshot stream ended without a matching SHA-256 (" +
                                            std::to_string(size_) + " bytes received)");
    }
    file_.write(*pending_);
  }

 private:
  void message(std::string_view text) {
    if (text.find_first_not_of(" \r\t") == std::string_view::npos) return;
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) {
      throw ExitError(kExitInterrupted, "unexpected snapshot message: " + std::string(text));
    }
    const json::object& o = v.as_object();
    if (const json::object* err = gateway::get_object(o, "error")) {
      auto it = err->find("message");
      throw ExitError(kExitInterrupted, it != err->end() && it->value().is_string()
                                            ? std::string(it->value().as_string())
                                            : json::serialize(*err));
    }
    const json::object* result = gateway::get_object(o, "result");
    if (!result) {
      throw ExitError(kExitInterrupted, "unexpected snapshot message: " + std::string(text));
    }
    // Held back one message: the last one is the hash, not data.
    if (pending_) {
      sha_.update(*pending_);
      file_.write(*pending_);
      size_ += pending_->size();
    }
    pending_ = gateway::get_bytes(*result, "blob");
  }

  PartFile& file_;
  Sha256 sha_;
  std::string line_;
  std::optional<std::string> pending_;
  uint64_t size_ = 0;
};

void snapshot_save_command(Context& ctx, const Command& cmd, const Args& args) {
  if (args.size() != 1) throw ExitError(kExitBadArgs, "snapshot save expects one argument");
  const Client& client = ctx.client(cmd);
  const std::vector<std::string>& endpoints = ctx.global().endpoints;
  if (endpoints.size() != 1) {
    throw ExitError(kExitInterrupted, "snapshot must be requested to one selected node, not "
                                      "multiple [" + join(endpoints, " ") + "]");
  }
  // No --command-timeout: no deadline, as etcdctl (a large database takes what it takes).
  Deadline deadline = ctx.command_timeout_set(cmd) ? ctx.deadline()
                                                   : Clock::now() + std::chrono::hours(24 * 365);
  const std::string& path = args[0];
  PartFile file(path);
  SnapshotReceiver receiver(file);
  try {
    client.stream_at(endpoints[0], "/v3/maintenance/snapshot", json::object{}, deadline,
                     [&](std::string_view piece) { receiver.piece(piece); });
  } catch (const EtcdError& e) {
    throw ExitError(kExitInterrupted, e.what());
  }
  receiver.finish();
  file.commit();
  std::cout << "Snapshot saved at " << path << "\n";
}

// ---- snapshot status and restore: files only

void snapshot_status_command(Context& ctx, const Command& cmd, const Args& args) {
  if (args.size() != 1) {
    throw ExitError(kExitBadArgs, "snapshot status requires exactly one argument");
  }
  Printer& printer = ctx.display(cmd);
  runtime::SnapshotFileStatus st;
  try {
    st = runtime::snapshot_file_status(args[0]);
  } catch (const std::exception& e) {
    throw ExitError(kExitError, e.what());
  }
  printer.db_status(SnapshotStatus{st.hash, st.revision, st.total_keys,
                                   static_cast<int64_t>(st.total_size)});
}

struct RestoreFlags {
  std::string data_dir;
  std::string wal_dir;
  std::string initial_cluster = "default=http://localhost:2380";
  std::string initial_cluster_token = "etcd-cluster";
  std::string initial_advertise_peer_urls = "http://localhost:2380";
  std::string name = "default";
  bool skip_hash_check = false;
};

void snapshot_restore_command(const RestoreFlags& f, const Args& args) {
  if (args.size() != 1) {
    throw ExitError(kExitBadArgs, "snapshot restore requires exactly one argument");
  }
  if (!f.wal_dir.empty()) {
    throw ExitError(kExitBadFeature,
                    "--wal-dir is not supported: etcdlab keeps its log under --data-dir");
  }
  runtime::RestoreOptions o;
  o.snapshot_path = args[0];
  o.name = f.name;
  o.data_dir = f.data_dir;
  o.initial_cluster = f.initial_cluster;
  o.initial_cluster_token = f.initial_cluster_token;
  o.initial_advertise_peer_urls = runtime::split(f.initial_advertise_peer_urls, ',');
  o.skip_hash_check = f.skip_hash_check;
  runtime::RestoreResult r;
  try {
    r = runtime::restore_snapshot(o);
  } catch (const std::exception& e) {
    throw ExitError(kExitError, e.what());
  }
  // etcdctl logs this on stderr; stdout stays empty.
  std::cerr << "restored snapshot " << o.snapshot_path << " into " << r.data_dir << " (member "
            << hex(r.member) << " of cluster " << hex(r.cluster) << ", revision " << r.revision
            << ", raft index " << r.index << ")\n";
}

}  // namespace

void add_maintenance_commands(Command& root, Context& ctx) {
  Command& a = root.add("alarm <subcommand>", "Alarm related commands");
  a.add("disarm", "Disarms all alarms", "",
        [&ctx](Command& self, const Args& args) { alarm_disarm_command(ctx, self, args); });
  a.add("list", "Lists all alarms", "",
        [&ctx](Command& self, const Args& args) { alarm_list_command(ctx, self, args); });

  auto defrag = std::make_shared<DefragOptions>();
  Command& d = root.add("defrag", "Defragments the storage of the etcd members with given endpoints",
                        "", [&ctx, defrag](Command& self, const Args& args) {
                          defrag_command(ctx, *defrag, self, args);
                        });
  d.flags().add_bool("cluster", &defrag->cluster, "use all endpoints from the cluster member list");
  d.flags().add_string("data-dir", &defrag->data_dir,
                       "Optional. If present, defragments a data directory not in use by etcd.");

  Command& s = root.add("snapshot <subcommand>", "Manages etcd node snapshots");
  s.add("save <filename>", "Stores an etcd node backend snapshot to a given file", "",
        [&ctx](Command& self, const Args& args) { snapshot_save_command(ctx, self, args); });
  auto restore = std::make_shared<RestoreFlags>();
  Command& r = s.add("restore <filename> [options]",
                     "Restores an etcd member snapshot to an etcd directory", "",
                     [restore](Command&, const Args& args) {
                       snapshot_restore_command(*restore, args);
                     });
  r.flags().add_string("data-dir", &restore->data_dir, "Path to the data directory");
  r.flags().add_string("wal-dir", &restore->wal_dir,
                       "Path to the WAL directory (use --data-dir if none given)");
  r.flags().add_string("initial-cluster", &restore->initial_cluster,
                       "Initial cluster configuration for restore bootstrap");
  r.flags().add_string("initial-cluster-token", &restore->initial_cluster_token,
                       "Initial cluster token for the etcd cluster during restore bootstrap");
  r.flags().add_string("initial-advertise-peer-urls", &restore->initial_advertise_peer_urls,
                       "List of this member's peer URLs to advertise to the rest of the cluster");
  r.flags().add_string("name", &restore->name, "Human-readable name for this member");
  r.flags().add_bool("skip-hash-check", &restore->skip_hash_check,
                     "Ignore snapshot integrity hash value (required if copied from data directory)");
  s.add("status <filename>", "Gets backend snapshot status of a given file",
        "When --write-out is set to simple, this command prints out comma-separated status lists "
        "for each endpoint.\nThe items in the lists are hash, revision, total keys, total size.\n",
        [&ctx](Command& self, const Args& args) { snapshot_status_command(ctx, self, args); });
}

}  // namespace etcdlab::cli
