#pragma once
// What happened in a run, event by event. Every event feeds a running hash (same seed and
// schedule, same hash); each node keeps its last events for failure reports; the whole trace
// is kept only when asked (ClusterOptions::record_trace).

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "etcdlab/types.h"

namespace etcdlab::sim {

struct TraceEvent {
  enum class Kind {
    kTick,
    kDeliver,
    kDrop,
    kPersisted,
    kApply,
    kCrash,
    kRestart,
    kFault,
    kClient,
    kLog,
    kSnapshot,
    kClientAttempt,
    kClientDone,
  };
  uint64_t seq = 0;  // event number
  uint64_t time_us = 0;
  Kind kind = Kind::kLog;
  int node = -1;
  // kDeliver, kDrop: the message's header (its entries are not kept, only counted in `a`).
  MessageType type = MessageType::kAppend;
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  uint64_t term = 0;
  uint64_t log_term = 0;
  uint64_t index = 0;
  uint64_t commit = 0;
  bool reject = false;
  uint64_t reject_hint = 0;
  uint64_t a = 0, b = 0;  // kDeliver/kDrop: entry count; kApply: index, term;
                          // kPersisted: last index, commit; kClientAttempt: op, attempt;
                          // kClientDone: op, outcome
  std::string text;       // kLog, kFault, kClient, kCrash, kRestart, kSnapshot

  void set_message(const Message& m);
  std::string to_string() const;
};

class Trace {
 public:
  explicit Trace(size_t per_node_recent = 24) : recent_cap_(per_node_recent) {}
  void resize(int nodes) { recent_.resize(static_cast<size_t>(nodes)); }
  void set_recording(bool on) { recording_ = on; }
  void add(TraceEvent event);
  uint64_t hash() const { return hash_; }
  std::string hash_hex() const;
  const std::vector<TraceEvent>& all() const { return all_; }
  // The last events of every node, one block per node, for failure messages.
  std::string recent() const;
  // The live view (view.h) names each frame by the first event added since its last frame:
  // with keep_first(true), add() keeps a copy of it until forget_first().
  void keep_first(bool on) { keep_first_ = on; }
  std::optional<TraceEvent>& first() { return first_; }
  void forget_first() { first_.reset(); }

 private:
  // A fixed-size ring of the latest events (no allocation per event once full).
  struct Ring {
    std::vector<TraceEvent> events;
    size_t next = 0;
    size_t cap = 0;
    void push(TraceEvent e, size_t cap);
    template <typename Fn>
    void for_each(Fn&& fn) const;
  };
  void hash_event(const TraceEvent& event);

  size_t recent_cap_;
  bool recording_ = false;
  bool keep_first_ = false;
  std::optional<TraceEvent> first_;
  uint64_t hash_ = 0xcbf29ce484222325ULL;
  std::vector<Ring> recent_;
  Ring global_recent_;
  std::vector<TraceEvent> all_;
};

}  // namespace etcdlab::sim
