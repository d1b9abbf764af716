#include "descriptors.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>

namespace etcdlab::runtime {

DescriptorBudget raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return {};
  if (limit.rlim_cur < limit.rlim_max) {
    rlim_t before = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) == 0) {
      spdlog::info("open file limit raised from {} to {}", before, limit.rlim_cur);
    } else {
      getrlimit(RLIMIT_NOFILE, &limit);
    }
  }
  if (limit.rlim_cur == RLIM_INFINITY) return {};
  DescriptorBudget b;
  b.limit = limit.rlim_cur;
  b.reserve = std::clamp<uint64_t>(b.limit / 4, 8, 64);
  return b;
}

}  // namespace etcdlab::runtime
