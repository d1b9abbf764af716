#include "etcdlab/testing/seeds.h"

#include <cstdlib>
#include <optional>

namespace etcdlab::testing {
namespace {

std::optional<uint64_t> env_u64(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::strtoull(v, nullptr, 0);
}

uint64_t mix(uint64_t x) {  // splitmix64: spreads consecutive bases over unrelated seeds
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

std::vector<uint64_t> seeds(size_t count) {
  if (auto one = env_u64("ETCDLAB_SEED")) return {*one};
  auto base = env_u64("ETCDLAB_SEED_BASE");
  std::vector<uint64_t> out;
  for (size_t i = 0; i < count; ++i) {
    // Without a base the seeds are small and easy to type: 1, 2, 3, ...
    out.push_back(base ? mix(*base + i) % 1000000007ULL : i + 1);
  }
  return out;
}

size_t seed_count(size_t normal, size_t long_run) {
  const char* v = std::getenv("ETCDLAB_LONG");
  return v != nullptr && std::string(v) == "1" ? long_run : normal;
}

bool replaying() {
  return env_u64("ETCDLAB_SEED").has_value();
}

std::string replay_command(uint64_t seed, int lab) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info ? std::string(info->test_suite_name()) + "." + info->name() : "*";
  std::string prefix = "ETCDLAB_SEED=" + std::to_string(seed) + " ";
  if (lab > 0) return prefix + "make lab" + std::to_string(lab) + " TEST=" + name;
  std::string binary = ::testing::internal::GetArgvs().empty()
                           ? "<test binary>"
                           : ::testing::internal::GetArgvs().front();
  return prefix + binary + " --gtest_filter=" + name;
}

}  // namespace etcdlab::testing
