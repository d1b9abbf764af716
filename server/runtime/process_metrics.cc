// Go's ProcessCollector, as etcd exposes it: memory, descriptors, CPU time and start time, read
// from procfs at scrape time. (The registry and the exposition format are metrics.cc.)
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "etcd_metrics.h"
#include "metrics.h"

namespace etcdlab::runtime {

// ---- process metrics (what Go's ProcessCollector reads from procfs) ---------------------------

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The fields of /proc/self/stat after "pid (comm)": [0] is field 3 (state). The comm may hold
// spaces and parentheses, so split after the last ')'.
std::vector<std::string> read_self_stat() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) return {};
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(line.substr(close + 1));
  std::vector<std::string> fields;
  for (std::string f; rest >> f;) fields.push_back(std::move(f));
  return fields;
}

// Field n of /proc/self/stat (1-based, as in proc(5)), or NaN when unreadable.
double stat_field(const std::vector<std::string>& fields, size_t n) {
  if (n < 3 || n - 3 >= fields.size()) return kNaN;
  return std::strtod(fields[n - 3].c_str(), nullptr);
}

double clock_ticks() {
  return static_cast<double>(sysconf(_SC_CLK_TCK));
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("btime ")) return std::strtod(line.c_str() + 6, nullptr);
  }
  return kNaN;
}

double open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return kNaN;
  double n = 0;
  while (const dirent* e = readdir(dir)) {
    if (std::string_view(e->d_name) != "." && std::string_view(e->d_name) != "..") ++n;
  }
  closedir(dir);
  return n;  // counts the descriptor reading the directory, as Go's does
}

}  // namespace

void register_process_metrics(Registry& registry) {
  registry.gauge_func(etcd_metrics::kProcessResidentMemoryBytes, [] {
    return stat_field(read_self_stat(), 24) * static_cast<double>(sysconf(_SC_PAGESIZE));
  });
  registry.gauge_func(etcd_metrics::kProcessVirtualMemoryBytes,
                      [] { return stat_field(read_self_stat(), 23); });
  registry.gauge_func(etcd_metrics::kProcessOpenFds, open_fds);
  registry.gauge_func(etcd_metrics::kProcessMaxFds, [] {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return kNaN;
    return limit.rlim_cur == RLIM_INFINITY ? std::numeric_limits<double>::infinity()
                                           : static_cast<double>(limit.rlim_cur);
  });
  registry.counter_func(etcd_metrics::kProcessCpuSecondsTotal, [] {
    const std::vector<std::string> fields = read_self_stat();
    return (stat_field(fields, 14) + stat_field(fields, 15)) / clock_ticks();  // utime + stime
  });
  // Fixed for the process's life: read once.
  const double start = boot_time_seconds() + stat_field(read_self_stat(), 22) / clock_ticks();
  registry.gauge_func(etcd_metrics::kProcessStartTimeSeconds, [start] { return start; });
}

}  // namespace etcdlab::runtime
