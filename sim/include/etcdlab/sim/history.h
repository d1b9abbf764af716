#pragma once
// Client operations as the simulator records them, for the checkers: what was asked, when it
// was called and returned (virtual time), and how it ended.

#include <cstdint>
#include <limits>
#include <string>

namespace etcdlab::sim {

inline constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

enum class Outcome {
  kPending,  // still running
  kOk,       // the cluster did it (and told the client)
  kFailed,   // definitely not done (refused before it reached the log)
  kUnknown,  // may or may not have happened (the client gave up waiting)
};
std::string to_string(Outcome outcome);

struct Operation {
  enum class Kind { kPropose, kRead, kConfChange, kTransfer };
  uint64_t id = 0;
  Kind kind = Kind::kPropose;
  std::string input;   // kPropose: the data
  std::string output;  // kRead: the value read
  int via = -1;        // the node the client asked (-1: any)
  uint64_t call_us = 0;
  uint64_t return_us = kNever;
  Outcome outcome = Outcome::kPending;
  uint64_t index = 0;  // kPropose: the log index it was applied at; kRead: the read index
  int attempts = 0;
  bool done() const { return outcome != Outcome::kPending; }
};

}  // namespace etcdlab::sim
