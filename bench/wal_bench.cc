// `etcdlab-bench wal`: how fast the WAL appends and syncs 256-byte records, compared in the same
// run with the raw fdatasync rate of the same disk for the same write pattern (one write of
// the batch's bytes, then fdatasync), both appending to a growing file and overwriting a
// preallocated one. The WAL should come close to the better raw pattern at batch size 1 (its
// segments are preallocated for that reason) and amortize syncs at large batches.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_command.h"
#include "etcdlab/fs/posix_file_system.h"
#include "etcdlab/log/record.h"
#include "etcdlab/log/wal.h"

namespace etcdlab::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string dir = "build/bench-tmp";
  double seconds = 2.0;
  uint64_t record_bytes = 256;
  std::vector<uint64_t> batches = {1, 8, 64, 512};
  bool json = false;
};

struct Rate {
  double syncs_per_second = 0;
  double records_per_second = 0;
};

double elapsed(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The raw pattern: `bytes` written with one pwrite, then fdatasync, until time runs out.
Rate raw_rate(const std::string& path, uint64_t bytes, uint64_t records, bool preallocate,
              double seconds) {
  std::filesystem::remove(path);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw std::runtime_error("open " + path);
  const uint64_t file_bytes = 256ULL << 20;
  if (preallocate) {
    if (::posix_fallocate(fd, 0, file_bytes) != 0 || ::fsync(fd) != 0) {
      throw std::runtime_error("preallocate " + path);
    }
  }
  std::string buf(bytes, 'r');
  uint64_t offset = 0, syncs = 0;
  auto start = Clock::now();
  while (elapsed(start) < seconds) {
    if (offset + bytes > file_bytes) offset = 0;
    if (::pwrite(fd, buf.data(), bytes, static_cast<off_t>(offset)) !=
            static_cast<ssize_t>(bytes) ||
        ::fdatasync(fd) != 0) {
      throw std::runtime_error("write/fdatasync " + path);
    }
    offset += bytes;
    syncs++;
  }
  double dt = elapsed(start);
  ::close(fd);
  std::filesystem::remove(path);
  return {syncs / dt, syncs * records / dt};
}

Rate wal_rate(const std::string& dir, uint64_t batch, uint64_t record_bytes, double seconds) {
  std::filesystem::remove_all(dir);
  PosixFileSystem fs;
  auto wal = Wal::open(fs, dir, WalOptions{});
  std::vector<Entry> entries(batch);
  uint64_t index = 1, syncs = 0;
  auto start = Clock::now();
  while (elapsed(start) < seconds) {
    for (auto& e : entries) {
      e = Entry{index++, 1, EntryType::kNormal, std::string(record_bytes, 'w')};
    }
    wal->append_entries(entries);
    wal->sync();
    syncs++;
  }
  double dt = elapsed(start);
  wal.reset();
  std::filesystem::remove_all(dir);
  return {syncs / dt, syncs * batch / dt};
}

void run(const Options& o) {
  std::filesystem::create_directories(o.dir);
  if (!o.json) {
    fmt::print("WAL append+fdatasync, {}-byte entries, {:.1f} s per figure, in {}\n",
               o.record_bytes, o.seconds, std::filesystem::absolute(o.dir).string());
    fmt::print("{:>6} {:>14} {:>12} {:>14} {:>14} {:>10}\n", "batch", "WAL records/s",
               "WAL syncs/s", "raw append/s", "raw overwr/s", "WAL/raw");
  }
  std::string json = "[";
  for (uint64_t batch : o.batches) {
    // The raw pattern writes what the WAL writes for one batch: the framed records.
    std::string framed;
    append_record(framed, RecordType::kEntry, std::string(o.record_bytes + 8, 'x'));
    uint64_t bytes = framed.size() * batch;
    Rate append = raw_rate(o.dir + "/raw-append", bytes, batch, false, o.seconds);
    Rate overwrite = raw_rate(o.dir + "/raw-overwrite", bytes, batch, true, o.seconds);
    Rate wal = wal_rate(o.dir + "/wal", batch, o.record_bytes, o.seconds);
    double best = std::max(append.syncs_per_second, overwrite.syncs_per_second);
    double ratio = wal.syncs_per_second / best;
    if (o.json) {
      json += fmt::format(
          "{}{{\"batch\":{},\"wal_records_per_s\":{:.0f},\"wal_syncs_per_s\":{:.0f},"
          "\"raw_append_syncs_per_s\":{:.0f},\"raw_overwrite_syncs_per_s\":{:.0f},"
          "\"wal_to_raw\":{:.3f}}}",
          json.size() > 1 ? "," : "", batch, wal.records_per_second, wal.syncs_per_second,
          append.syncs_per_second, overwrite.syncs_per_second, ratio);
    } else {
      fmt::print("{:>6} {:>14.0f} {:>12.0f} {:>14.0f} {:>14.0f} {:>9.0f}%\n", batch,
                 wal.records_per_second, wal.syncs_per_second, append.syncs_per_second,
                 overwrite.syncs_per_second, 100 * ratio);
    }
  }
  if (o.json) fmt::print("{}]\n", json);
}

}  // namespace

void add_wal_command(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("wal", "WAL append+sync throughput vs the raw fdatasync rate");
  cmd->add_option("--dir", opts->dir, "scratch directory on the disk to measure");
  cmd->add_option("--seconds", opts->seconds, "seconds per figure");
  cmd->add_option("--record-bytes", opts->record_bytes, "entry payload bytes");
  cmd->add_option("--batches", opts->batches, "batch sizes (records per sync)");
  cmd->add_flag("--json", opts->json, "print JSON");
  cmd->callback([opts] { run(*opts); });
}

}  // namespace etcdlab::bench
