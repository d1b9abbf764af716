// `etcdlab-bench mvcc`: the MVCC store on a SQLite file (synchronous=NORMAL, as the node runs
// it). Figures, in this order:
//   memory     RSS growth per key after loading --memory-keys keys of --value-bytes (a fresh
//              store; read from /proc/self/statm; the SQLite page cache, at most
//              StoreOptions::cache_kib, is part of it)
//   puts       --puts puts over --keys keys in batches of --batch (one SQLite transaction and
//              one consistent index per batch)
//   reads      --reads point reads of random keys
//   ranges     --ranges reads of a random 100-key prefix (keys are "p<prefix>/<nn>")
//   compaction compact(revision) and compaction_step() until done, over the --puts revisions
// Targets (issue 6): >= 100,000 puts/s in batches of 100, >= 200,000 point reads/s, compaction
// of 1,000,000 revisions in under 10 s.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "bench_command.h"
#include "etcdlab/mvcc/store.h"
#include "etcdlab/random.h"

namespace etcdlab::bench {
namespace {

using Clock = std::chrono::steady_clock;
using mvcc::KeyRange;
using mvcc::KvStore;

struct Options {
  std::string dir = "build/bench-tmp";
  int64_t puts = 1000000;
  int64_t keys = 100000;
  int64_t batch = 100;
  int64_t reads = 1000000;
  int64_t ranges = 20000;
  int64_t memory_keys = 1000000;
  int64_t value_bytes = 256;
  bool json = false;
};

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// This process's CPU seconds: on a shared machine the rate per CPU second is the steadier
// figure (another build on the same cores slows the wall-clock rate, not this one).
double cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// A phase's wall-clock time and CPU time.
struct Timer {
  Clock::time_point wall = Clock::now();
  double cpu = cpu_seconds();
  double wall_s() const { return since(wall); }
  double cpu_s() const { return cpu_seconds() - cpu; }
};

uint64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

// Key i of n, grouped in prefixes of 100 keys: "p0000/00" ... "p0999/99".
std::string key_of(int64_t i) {
  return fmt::format("p{:04}/{:02}", i / 100, i % 100);
}

std::string value_of(int64_t i, int64_t bytes) {
  std::string v = fmt::format("{:016}", i);
  v.resize(static_cast<size_t>(bytes), 'v');
  return v;
}

std::unique_ptr<KvStore> open_fresh(const std::string& path) {
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  mvcc::StoreOptions o;
  o.path = path;
  return KvStore::open(o);
}

void load(KvStore& s, int64_t puts, int64_t keys, int64_t batch, int64_t value_bytes) {
  uint64_t ci = 0;
  for (int64_t i = 0; i < puts;) {
    s.begin_batch();
    for (int64_t n = 0; n < batch && i < puts; ++n, ++i) {
      s.put(key_of(i % keys), value_of(i, value_bytes));
    }
    s.commit_batch(++ci);
  }
}

struct Figures {
  double memory_bytes_per_key = 0;
  double db_bytes_per_key = 0;
  double puts_per_s = 0;
  double puts_per_cpu_s = 0;
  double reads_per_s = 0;
  double reads_per_cpu_s = 0;
  double ranges_per_s = 0;
  double ranges_per_cpu_s = 0;
  double compaction_s = 0;
  double compaction_cpu_s = 0;
  int64_t compaction_steps = 0;
  double longest_step_ms = 0;
  int64_t compacted_revisions = 0;
};

void measure_memory(const Options& o, Figures& f) {
  std::string path = o.dir + "/mvcc-memory.db";
  uint64_t before = rss_bytes();
  {
    auto s = open_fresh(path);
    load(*s, o.memory_keys, o.memory_keys, 1000, o.value_bytes);
    f.memory_bytes_per_key = static_cast<double>(rss_bytes() - before) / o.memory_keys;
    f.db_bytes_per_key = static_cast<double>(s->db_size()) / o.memory_keys;
  }
  std::filesystem::remove(path);
}

void measure_store(const Options& o, Figures& f) {
  std::string path = o.dir + "/mvcc.db";
  auto s = open_fresh(path);
  Timer t;
  load(*s, o.puts, o.keys, o.batch, o.value_bytes);
  f.puts_per_s = o.puts / t.wall_s();
  f.puts_per_cpu_s = o.puts / t.cpu_s();

  Rng rng(1);
  int64_t found = 0;
  int64_t live = std::min(o.puts, o.keys);
  t = Timer{};
  for (int64_t i = 0; i < o.reads; ++i) {
    auto k = key_of(static_cast<int64_t>(rng.uniform(0, static_cast<uint64_t>(live - 1))));
    found += static_cast<int64_t>(s->range(KeyRange{k, ""}).kvs.size());
  }
  f.reads_per_s = o.reads / t.wall_s();
  f.reads_per_cpu_s = o.reads / t.cpu_s();
  if (found != o.reads) throw std::runtime_error("a point read found nothing");

  int64_t prefixes = std::max<int64_t>(1, live / 100);
  t = Timer{};
  for (int64_t i = 0; i < o.ranges; ++i) {
    std::string prefix =
        fmt::format("p{:04}/", rng.uniform(0, static_cast<uint64_t>(prefixes - 1)));
    auto r = s->range(KeyRange{prefix, mvcc::prefix_end(prefix)});
    if (live >= 100 && r.kvs.size() != 100) throw std::runtime_error("a prefix is not 100 keys");
  }
  f.ranges_per_s = o.ranges / t.wall_s();
  f.ranges_per_cpu_s = o.ranges / t.cpu_s();

  f.compacted_revisions = s->revision();
  t = Timer{};
  s->compact(s->revision());
  for (bool done = false; !done; ++f.compaction_steps) {
    auto step = Clock::now();
    done = s->compaction_step();
    f.longest_step_ms = std::max(f.longest_step_ms, 1000 * since(step));
  }
  f.compaction_s = t.wall_s();
  f.compaction_cpu_s = t.cpu_s();
  s.reset();
  std::filesystem::remove(path);
}

void run(const Options& o) {
  if (o.keys <= 0 || o.puts <= 0 || o.batch <= 0 || o.memory_keys <= 0) {
    throw std::invalid_argument("sizes must be positive");
  }
  std::filesystem::create_directories(o.dir);
  Figures f;
  measure_memory(o, f);
  measure_store(o, f);
  if (o.json) {
    fmt::print(
        "{{\"memory_bytes_per_key\":{:.0f},\"db_bytes_per_key\":{:.0f},\"puts_per_s\":{:.0f},"
        "\"puts_per_cpu_s\":{:.0f},\"reads_per_s\":{:.0f},\"reads_per_cpu_s\":{:.0f},"
        "\"prefix_ranges_per_s\":{:.0f},\"prefix_ranges_per_cpu_s\":{:.0f},"
        "\"compaction_s\":{:.3f},\"compaction_cpu_s\":{:.3f},\"compaction_steps\":{},"
        "\"longest_step_ms\":{:.2f},\"compacted_revisions\":{}}}\n",
        f.memory_bytes_per_key, f.db_bytes_per_key, f.puts_per_s, f.puts_per_cpu_s, f.reads_per_s,
        f.reads_per_cpu_s, f.ranges_per_s, f.ranges_per_cpu_s, f.compaction_s, f.compaction_cpu_s,
        f.compaction_steps, f.longest_step_ms, f.compacted_revisions);
    return;
  }
  fmt::print("MVCC store on SQLite (WAL, synchronous=NORMAL), {}-byte values, in {}\n",
             o.value_bytes, std::filesystem::absolute(o.dir).string());
  fmt::print("  memory       {:>10.0f} bytes/key RSS growth ({} keys; database {:.0f} bytes/key)\n",
             f.memory_bytes_per_key, o.memory_keys, f.db_bytes_per_key);
  fmt::print("{:>25} {:>12} {:>12}\n", "", "wall clock", "per CPU s");
  fmt::print("  puts/s                  {:>12.0f} {:>12.0f}   ({} over {} keys, batches of {})\n",
             f.puts_per_s, f.puts_per_cpu_s, o.puts, o.keys, o.batch);
  fmt::print("  point reads/s           {:>12.0f} {:>12.0f}   ({} reads)\n", f.reads_per_s,
             f.reads_per_cpu_s, o.reads);
  fmt::print("  100-key prefix reads/s  {:>12.0f} {:>12.0f}   ({} reads)\n", f.ranges_per_s,
             f.ranges_per_cpu_s, o.ranges);
  fmt::print(
      "  compaction, s           {:>12.2f} {:>12.2f}   ({} revisions, {} steps, "
      "longest step {:.1f} ms)\n",
      f.compaction_s, f.compaction_cpu_s, f.compacted_revisions, f.compaction_steps,
      f.longest_step_ms);
}

}  // namespace

void add_mvcc_command(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("mvcc", "MVCC store: puts, reads, ranges, compaction, memory");
  cmd->add_option("--dir", opts->dir, "scratch directory on the disk to measure");
  cmd->add_option("--puts", opts->puts, "puts (and so revisions to compact)");
  cmd->add_option("--keys", opts->keys, "distinct keys the puts go to");
  cmd->add_option("--batch", opts->batch, "puts per batch (one SQLite transaction)");
  cmd->add_option("--reads", opts->reads, "point reads");
  cmd->add_option("--ranges", opts->ranges, "100-key prefix reads");
  cmd->add_option("--memory-keys", opts->memory_keys, "keys loaded for the memory figure");
  cmd->add_option("--value-bytes", opts->value_bytes, "bytes per value");
  cmd->add_flag("--json", opts->json, "print JSON");
  cmd->callback([opts] { run(*opts); });
}

}  // namespace etcdlab::bench
