#pragma once
// A failing scenario's run, kept for watching: the simulated cluster records the pictures of
// its last events (sim/include/etcdlab/sim/view.h), and on a failure they are written to
// <build>/lab2-traces/<Suite>.<Test>.seed<N>.json, which the page of `build/bin/etcdlab-view
// --trace <file>` replays step by step in a browser (labs/02-raft/README.md, "Watching a
// failing seed").

#include <string>

#include "etcdlab/sim/cluster.h"

namespace etcdlab::lab2 {

// The frames a scenario cluster keeps: a few seconds of a busy 5-node run.
inline constexpr size_t kTraceFrames = 3000;

// "Suite.Test" of the running test (call it from the test, never from gtest's listener).
std::string running_test_name();

// Writes the recording of `c` and returns the line that says how to watch it:
//   view this run: build/bin/etcdlab-view --trace build/lab2-traces/Suite.Test.seed7.json
// (paths as the current directory sees them), or a line saying why it could not be written.
// Calls nothing of gtest: the failure listener calls it.
std::string write_failure_trace(const sim::Cluster& c, const std::string& test,
                                const std::string& replay);

}  // namespace etcdlab::lab2
