#pragma once
// The state machine a simulated node applies committed entries to. By default the cluster
// replicates a plain log: LogApp counts the commands it applied, keeps their ids (a retried
// command is applied once) and a running hash of their order. ClusterOptions::app can supply
// another one (a custom state machine); ClusterOptions::node_logic replaces the whole node.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

#include "etcdlab/codec.h"

namespace etcdlab::sim {

// A client command as the simulator puts it in an entry: an 8-byte operation id, then the
// client's data.
std::string encode_command(uint64_t op_id, std::string_view data);
// The operation id and data of an entry's payload; op id 0 for anything else (empty no-ops).
std::pair<uint64_t, std::string_view> decode_command(std::string_view payload);

// What applying one entry did: the client operation it completes (0: none, e.g. a retry that
// was applied before) and that operation's output.
struct Applied {
  uint64_t op = 0;
  std::string output;
};

// What an app keeps about the client commands it applied: their op ids (a retried command is
// applied once), how many, and a running hash of their order. Snapshotted as u64 count, u64
// hash, u64 n, then the n ids ascending (deterministic bytes).
class AppliedLedger {
 public:
  // Records `op` and says whether it is new (false: a retry of a command already applied).
  bool first_time(uint64_t op) { return seen_.insert(op).second; }
  // Counts a command applied and folds `payload` into the hash, salted with `salt`.
  void record(std::string_view payload, uint64_t salt);
  void write(Writer& w) const;
  void read(Reader& r);
  uint64_t count() const { return count_; }
  uint64_t hash() const { return hash_; }

 private:
  uint64_t count_ = 0;
  uint64_t hash_ = 0;
  std::unordered_set<uint64_t> seen_;
};

class SimApp {
 public:
  virtual ~SimApp() = default;
  // The entry payload for client operation `op` proposing `data` (a retry proposes the same
  // bytes again). Throws std::invalid_argument when the app cannot take `data`.
  virtual std::string command(uint64_t op, std::string_view data) const {
    return encode_command(op, data);
  }
  // Applies one committed normal entry (empty ones too: a new leader's).
  virtual Applied apply(uint64_t index, std::string_view payload) = 0;
  virtual std::string snapshot() = 0;
  virtual void restore(std::string_view payload) = 0;
  // What a read with this query returns (the query is the client's read input).
  virtual std::string read(std::string_view query) const = 0;
  virtual uint64_t count() const = 0;  // client commands applied
  virtual uint64_t hash() const = 0;   // equal on nodes that applied the same commands
};

class LogApp final : public SimApp {
 public:
  Applied apply(uint64_t index, std::string_view payload) override;
  std::string snapshot() override;
  void restore(std::string_view payload) override;
  // The number of commands applied, in decimal (the query is ignored).
  std::string read(std::string_view query) const override;
  uint64_t count() const override { return ledger_.count(); }
  uint64_t hash() const override { return ledger_.hash(); }

 private:
  AppliedLedger ledger_;
};

}  // namespace etcdlab::sim
