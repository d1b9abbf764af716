#pragma once
// Seeds for randomized tests. One environment variable, ETCDLAB_SEED, replays one seed:
//   ETCDLAB_SEED=1234 make lab1 TEST=WalCrashMatrix.TornWrite
// Without it a test runs `count` seeds derived from ETCDLAB_SEED_BASE (default 1); the grader
// sets ETCDLAB_SEED_BASE to values students have not seen. Every failure inside
// ETCDLAB_FOR_EACH_SEED prints the seed and the one-line replay command.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace etcdlab::testing {

// The seeds to run: {ETCDLAB_SEED} if set, else `count` seeds from ETCDLAB_SEED_BASE.
std::vector<uint64_t> seeds(size_t count);

// How many seeds a property runs: `normal`, or `long_run` when ETCDLAB_LONG=1 (the long runs
// kept out of make check).
size_t seed_count(size_t normal, size_t long_run);

// Whether ETCDLAB_SEED is set (a replay of one seed: tests may print more).
bool replaying();

// The command that replays `seed` for the running test. `lab` is the lab number, or 0 for the
// project's own tests (then the line names the test binary).
std::string replay_command(uint64_t seed, int lab);

}  // namespace etcdlab::testing

#ifndef ETCDLAB_LAB_NUMBER
#define ETCDLAB_LAB_NUMBER 0
#endif

// A SCOPED_TRACE naming the seed and the replay line: every failure inside the scope shows it.
#define ETCDLAB_SEED_TRACE(seed)                \
  SCOPED_TRACE("seed " + std::to_string(seed) + \
               "; replay: " + ::etcdlab::testing::replay_command((seed), ETCDLAB_LAB_NUMBER))

namespace etcdlab::testing {

// Runs body(seed) for each of seeds(count), under ETCDLAB_SEED_TRACE. An exception escaping the
// body is reported as a failure of that seed (with its replay line), and the first seed that
// fails fatally stops the loop.
template <typename Body>
void for_each_seed(size_t count, Body&& body) {
  for (uint64_t seed : seeds(count)) {
    ETCDLAB_SEED_TRACE(seed);
    try {
      body(seed);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "unexpected exception: " << e.what();
      return;
    }
    if (::testing::Test::HasFatalFailure()) return;
  }
}

}  // namespace etcdlab::testing
