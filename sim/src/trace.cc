#include "etcdlab/sim/trace.h"

#include <fmt/format.h>

namespace etcdlab::sim {
namespace {

// A cheap 64-bit mix per word (multiply-xorshift); the hash needs determinism, not strength.
void mix(uint64_t& h, uint64_t v) {
  h = (h ^ v) * 0x9E3779B97F4A7C15ULL;
  h ^= h >> 29;
}

const char* kind_name(TraceEvent::Kind k) {
  switch (k) {
    case TraceEvent::Kind::kTick:
      return "tick";
    case TraceEvent::Kind::kDeliver:
      return "recv";
    case TraceEvent::Kind::kDrop:
      return "drop";
    case TraceEvent::Kind::kPersisted:
      return "persisted";
    case TraceEvent::Kind::kApply:
      return "apply";
    case TraceEvent::Kind::kCrash:
      return "CRASH";
    case TraceEvent::Kind::kRestart:
      return "RESTART";
    case TraceEvent::Kind::kFault:
      return "fault";
    case TraceEvent::Kind::kClient:
      return "client";
    case TraceEvent::Kind::kLog:
      return "log";
    case TraceEvent::Kind::kSnapshot:
      return "snapshot";
    case TraceEvent::Kind::kClientAttempt:
      return "client";
    case TraceEvent::Kind::kClientDone:
      return "client";
  }
  return "?";
}

}  // namespace

std::string TraceEvent::to_string() const {
  std::string head =
      // Nodes are named by Raft id (index + 1) here, as in the messages the line shows.
      fmt::format("#{:<7} {:>10.3f}ms {:<3} {:<9}", seq, time_us / 1000.0,
                  node < 0 ? std::string("-") : "n" + std::to_string(node + 1), kind_name(kind));
  switch (kind) {
    case Kind::kDeliver:
    case Kind::kDrop: {
      Message m;
      m.type = type;
      m.from = from;
      m.to = to;
      m.term = term;
      m.log_term = log_term;
      m.index = index;
      m.commit = commit;
      m.reject = reject;
      m.reject_hint = reject_hint;
      // The trace keeps only the entry count; stand-ins give to_string the count and range.
      m.entries.resize(a);
      for (uint64_t i = 0; i < a && type == MessageType::kAppend; ++i)
        m.entries[i].index = index + 1 + i;
      return head + " " + etcdlab::to_string(m);
    }
    case Kind::kPersisted:
      return head + fmt::format(" last={} commit={}", a, b);
    case Kind::kApply:
      return head + fmt::format(" index={} term={}", a, b);
    case Kind::kClientAttempt:
      return head + fmt::format(" op {} attempt {}", a, b);
    case Kind::kClientDone: {
      static const char* outcomes[] = {"pending", "ok", "failed", "unknown"};
      return head + fmt::format(" op {} {} {}", a, b < 4 ? outcomes[b] : "?", text);
    }
    default:
      return text.empty() ? head : head + " " + text;
  }
}

void TraceEvent::set_message(const Message& m) {
  type = m.type;
  from = m.from;
  to = m.to;
  term = m.term;
  log_term = m.log_term;
  index = m.index;
  commit = m.commit;
  reject = m.reject;
  reject_hint = m.reject_hint;
  a = m.entries.size();
}

void Trace::Ring::push(TraceEvent e, size_t capacity) {
  cap = capacity;
  if (events.size() < cap) {
    events.push_back(std::move(e));
  } else {
    events[next] = std::move(e);
  }
  next = (next + 1) % cap;
}

template <typename Fn>
void Trace::Ring::for_each(Fn&& fn) const {
  size_t start = events.size() < cap ? 0 : next;  // full: the oldest is at `next`
  for (size_t i = 0; i < events.size(); ++i) fn(events[(start + i) % events.size()]);
}

void Trace::add(TraceEvent event) {
  // The hash covers what decides a run (time, kind, node, message header), not log text.
  if (event.kind != TraceEvent::Kind::kLog) hash_event(event);
  if (recording_) all_.push_back(event);
  if (keep_first_ && !first_) first_ = event;
  auto& ring = event.node >= 0 && static_cast<size_t>(event.node) < recent_.size()
                   ? recent_[event.node]
                   : global_recent_;
  ring.push(std::move(event), recent_cap_);
}

void Trace::hash_event(const TraceEvent& event) {
  mix(hash_, event.time_us);
  mix(hash_, static_cast<uint64_t>(event.kind) * 131 + static_cast<uint64_t>(event.node + 1));
  if (event.kind == TraceEvent::Kind::kDeliver || event.kind == TraceEvent::Kind::kDrop) {
    mix(hash_, static_cast<uint64_t>(event.type) | (event.from << 8) | (event.to << 24));
    mix(hash_, event.term);
    mix(hash_, event.index ^ (event.log_term << 20) ^ (event.commit << 40));
    mix(hash_, event.a + (event.reject ? 1ULL << 40 : 0));
  } else {
    mix(hash_, event.a ^ (event.b << 32));
  }
}

std::string Trace::hash_hex() const {
  return fmt::format("{:016x}", hash_);
}

std::string Trace::recent() const {
  std::string out;
  for (size_t n = 0; n < recent_.size(); ++n) {
    // The lines below name nodes by Raft id, as the messages they show do: say which it is.
    out += fmt::format("  -- last events of node {} (Raft id {}, n{} below)\n", n, n + 1, n + 1);
    recent_[n].for_each([&](const TraceEvent& e) { out += "    " + e.to_string() + "\n"; });
  }
  if (!global_recent_.events.empty()) {
    out += "  -- last cluster-wide events\n";
    global_recent_.for_each([&](const TraceEvent& e) { out += "    " + e.to_string() + "\n"; });
  }
  return out;
}

}  // namespace etcdlab::sim
