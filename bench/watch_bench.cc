// `etcdlab-bench watch-catch-up`: what a watcher far behind costs the member that serves it.
// A SQLite store (as the node runs it) gets --revisions puts over --keys keys; then --watchers
// watchers, each on its own stream, watch from revision 1 (one key, a 100-key prefix, or every
// key) with the node's hub configuration, and the member does what its tick does — one sync()
// — with readers that take everything, until every watcher has caught up. Figures: the syncs
// it took, the time of all of them and of the longest (the node's thread does nothing else
// meanwhile: the figure that matters), and the responses and events delivered.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_command.h"
#include "etcdlab/mvcc/store.h"
#include "etcdlab/watch/watch_hub.h"

namespace etcdlab::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string dir = "build/bench-tmp";
  int64_t revisions = 100000;
  int64_t keys = 1000;
  int64_t value_bytes = 64;
  int64_t watchers = 1;
  std::string range = "prefix";  // key | prefix | all
  bool prev_kv = false;
  bool json = false;
};

double cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::string key_of(int64_t i) { return fmt::format("p{:04}/{:02}", i / 100, i % 100); }

mvcc::KeyRange range_of(const std::string& kind) {
  if (kind == "key") return {key_of(0), ""};
  if (kind == "prefix") return {"p0000/", mvcc::prefix_end("p0000/")};
  if (kind == "all") return {std::string(1, '\0'), std::string(1, '\0')};
  throw std::invalid_argument("--range is key, prefix or all");
}

// The database and what SQLite and the store's one-writer lock leave beside it.
void remove_store(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm", ".lock"}) std::filesystem::remove(path + suffix);
}

void run(const Options& o) {
  if (o.revisions <= 0 || o.keys <= 0 || o.watchers <= 0) {
    throw std::invalid_argument("sizes must be positive");
  }
  std::filesystem::create_directories(o.dir);
  std::string path = o.dir + "/watch-catch-up.db";
  remove_store(path);
  mvcc::StoreOptions so;
  so.path = path;
  auto store = mvcc::KvStore::open(so);
  std::string value(static_cast<size_t>(o.value_bytes), 'v');
  uint64_t ci = 0;
  for (int64_t i = 0; i < o.revisions;) {
    store->begin_batch();
    for (int64_t n = 0; n < 1000 && i < o.revisions; ++n, ++i) {
      store->put(key_of(i % o.keys), value);
    }
    store->commit_batch(++ci);
  }

  watch::WatchHub hub;  // the node's configuration (etcd's limits)
  std::vector<watch::StreamId> streams;
  watch::WatchRequest request;
  request.range = range_of(o.range);
  request.start_revision = 1;
  request.prev_kv = o.prev_kv;
  for (int64_t w = 0; w < o.watchers; ++w) {
    streams.push_back(hub.open_stream());
    hub.watch(streams.back(), request, *store);
  }

  int64_t syncs = 0, events = 0, responses = 0;
  double longest_ms = 0, sync_s = 0;
  double cpu = cpu_seconds();
  auto start = Clock::now();
  while (true) {
    for (watch::StreamId s : streams) {
      for (const auto& r : hub.take(s, 1 << 20)) {
        ++responses;
        events += static_cast<int64_t>(r.events.size());
      }
    }
    if (hub.unsynced() == 0) break;
    auto t = Clock::now();
    hub.sync(*store);
    double took = std::chrono::duration<double>(Clock::now() - t).count();
    sync_s += took;
    longest_ms = std::max(longest_ms, 1000 * took);
    ++syncs;
    if (syncs > 10 * o.revisions) throw std::runtime_error("the watchers never caught up");
  }
  double wall = std::chrono::duration<double>(Clock::now() - start).count();
  cpu = cpu_seconds() - cpu;
  store.reset();
  remove_store(path);

  if (o.json) {
    fmt::print(
        "{{\"revisions\":{},\"watchers\":{},\"range\":\"{}\",\"prev_kv\":{},\"syncs\":{},"
        "\"responses\":{},\"events\":{},\"sync_s\":{:.3f},\"wall_s\":{:.3f},\"cpu_s\":{:.3f},"
        "\"longest_sync_ms\":{:.1f}}}\n",
        o.revisions, o.watchers, o.range, o.prev_kv, syncs, responses, events, sync_s, wall, cpu,
        longest_ms);
    return;
  }
  fmt::print("catch-up of {} watcher(s) ({}{}) from revision 1 of {} ({} keys, {}-byte values)\n",
             o.watchers, o.range, o.prev_kv ? ", prev_kv" : "", o.revisions, o.keys,
             o.value_bytes);
  fmt::print("  syncs            {:>10}\n", syncs);
  fmt::print("  responses        {:>10}   events {}\n", responses, events);
  fmt::print("  time in sync()   {:>10.2f} s   (CPU {:.2f} s, wall {:.2f} s)\n", sync_s, cpu, wall);
  fmt::print("  longest sync()   {:>10.1f} ms\n", longest_ms);
}

}  // namespace

void add_watch_command(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("watch-catch-up", "watchers far behind catching up");
  cmd->add_option("--dir", opts->dir, "scratch directory on the disk to measure");
  cmd->add_option("--revisions", opts->revisions, "revisions of history to catch up with");
  cmd->add_option("--keys", opts->keys, "distinct keys the puts go to");
  cmd->add_option("--value-bytes", opts->value_bytes, "bytes per value");
  cmd->add_option("--watchers", opts->watchers, "watchers, one stream each");
  cmd->add_option("--range", opts->range, "what each watches: key, prefix (100 keys) or all");
  cmd->add_flag("--prev-kv", opts->prev_kv, "watchers ask for the previous key-values");
  cmd->add_flag("--json", opts->json, "print JSON");
  cmd->callback([opts] { run(*opts); });
}

}  // namespace etcdlab::bench
