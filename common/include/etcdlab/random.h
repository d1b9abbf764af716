#pragma once
// A seeded random source. Every random choice in the simulator, the tests and Raft's election
// timeouts comes from one of these, so a seed reproduces a run exactly. The mapping from the
// engine's 64-bit outputs to ranges is written here (not std::uniform_int_distribution, whose
// results differ between standard libraries) so the same seed gives the same run everywhere.

#include <cstdint>
#include <random>

namespace etcdlab {

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  uint64_t next() { return engine_(); }
  // Uniform in [lo, hi] (inclusive). Requires lo <= hi.
  uint64_t uniform(uint64_t lo, uint64_t hi) {
    uint64_t span = hi - lo + 1;
    return span == 0 ? next() : lo + next() % span;  // the modulo bias is below 2^-40 here
  }
  // True with probability p.
  bool chance(double p) { return p > 0 && (next() >> 11) * 0x1.0p-53 < p; }
  double unit() { return (next() >> 11) * 0x1.0p-53; }  // uniform in [0, 1)

 private:
  std::mt19937_64 engine_;
};

}  // namespace etcdlab
