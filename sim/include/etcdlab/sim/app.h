#pragma once
// The state machine a simulated node applies committed entries to. Until the KV node lands
// (server issue), the cluster replicates a plain log: LogApp counts the commands it applied,
// keeps their ids (a retried command is applied once) and a running hash of their order.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

namespace etcdlab::sim {

// A client command as the simulator puts it in an entry: an 8-byte operation id, then the
// client's data.
std::string encode_command(uint64_t op_id, std::string_view data);
// The operation id and data of an entry's payload; op id 0 for anything else (empty no-ops).
std::pair<uint64_t, std::string_view> decode_command(std::string_view payload);

class SimApp {
 public:
  virtual ~SimApp() = default;
  // Applies one committed normal entry; returns the id of the operation it completed (0: none).
  virtual uint64_t apply(uint64_t index, std::string_view payload) = 0;
  virtual std::string snapshot() const = 0;
  virtual void restore(std::string_view payload) = 0;
  virtual std::string read() const = 0;  // the value a read returns
};

class LogApp final : public SimApp {
 public:
  uint64_t apply(uint64_t index, std::string_view payload) override;
  std::string snapshot() const override;
  void restore(std::string_view payload) override;
  std::string read() const override;  // the number of commands applied, in decimal
  uint64_t count() const { return count_; }
  uint64_t hash() const { return hash_; }

 private:
  uint64_t count_ = 0;
  uint64_t hash_ = 0;
  std::unordered_set<uint64_t> seen_;  // op ids applied
};

}  // namespace etcdlab::sim
