#pragma once
// The live view's private half (view.h is the public one).
//
// The recorder runs after every event of a run, so it must cost little. It keeps, in a ring,
// each frame's head (time, event) and each node's state by value (a few words per node, no
// allocation); the parts that change seldom (each node's configuration and log tail, the cut
// links, the client list) are kept as versions, each holding from the frame it appeared in to
// the next version; the messages in flight are kept as flights (shown from frame k to frame j).
// A frame is put together only when it is read. Versions and flights no kept frame shows are
// dropped as the ring turns. The recorder only reads the cluster: no random draw, no trace
// event, no change to the run.

#include <algorithm>
#include <cstddef>
#include <deque>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "etcdlab/sim/trace.h"
#include "etcdlab/sim/view.h"

namespace etcdlab::sim {

struct SimNode;
struct Event;

// ---- the parts of a frame, as read from the simulator (view_parts.cc)

// A node's state (ViewNode without its configuration and log).
struct ViewState {
  NodeId id = kNoNode;
  bool up = true;
  bool member = true;
  Role role = Role::kFollower;
  uint64_t term = 0;
  NodeId vote = kNoNode;
  NodeId leader = kNoNode;
  uint64_t commit = 0;
  uint64_t applied = 0;
  friend bool operator==(const ViewState&, const ViewState&) = default;
};

// A node's log (ViewNode's log fields).
struct ViewLog {
  uint64_t first_index = 0;
  uint64_t last_index = 0;
  uint64_t snapshot_index = 0;
  uint64_t log_from = 0;
  std::vector<uint64_t> terms;
  friend bool operator==(const ViewLog&, const ViewLog&) = default;
};

using ViewLinks = std::vector<std::pair<NodeId, NodeId>>;

ViewState view_state(const SimNode& n);
// The last kViewLogTail entries (none while down). Given the log read `before` and the index
// from which it may have changed since, only the terms from there on are read again.
ViewLog view_log(const SimNode& n, const ViewLog* before = nullptr, uint64_t changed_from = 0);
ViewLinks view_links(const Cluster::Impl& c);
// A kDeliver event's message; sent_us is kNever (unknown) unless given.
ViewMessage view_message(const Event& e, uint64_t sent_us = kNever);
std::vector<ViewMessage> messages_in_flight(const Cluster::Impl& c);  // in the queue now
ViewClient view_client(const Cluster::Impl& c, size_t k);             // operation k + 1
ViewNode view_node(const ViewState& state, const ConfState& conf, const ViewLog& log);

// ---- the recorder (view_recorder.cc)

// A value over frame numbers: each version holds from the frame it was set at on.
template <typename T>
class Versions {
 public:
  const T* latest() const { return v_.empty() ? nullptr : &v_.back().second; }
  void set(uint64_t frame, T value) {
    if (!v_.empty() && v_.back().first == frame) {
      v_.back().second = std::move(value);
    } else {
      v_.emplace_back(frame, std::move(value));
    }
  }
  // The version frame `frame` shows (the last one set at or before it).
  const T& at(uint64_t frame) const {
    auto it =
        std::upper_bound(v_.begin(), v_.end(), frame,
                         [](uint64_t f, const std::pair<uint64_t, T>& v) { return f < v.first; });
    return std::prev(it)->second;
  }
  // Drops the versions no frame from `oldest` on shows.
  void trim(uint64_t oldest) {
    while (v_.size() >= 2 && v_[1].first <= oldest) v_.pop_front();
  }

 private:
  std::deque<std::pair<uint64_t, T>> v_;
};

class ViewRecorder {
 public:
  ViewRecorder(size_t cap, size_t nodes);
  // A message was put on the wire (a kDeliver event queued), and taken off it (the event ran).
  void sent(const Event& e, uint64_t now);
  void arrived(uint64_t event_seq);
  // Node `node`'s log changed from index `from` on (0: all of it).
  void log_changed(int node, uint64_t from);
  // After an event, a fault or a client call: records a frame if anything it shows changed, or
  // `always`. `event` is the first trace event of what happened, if it made one (moved from
  // only when a frame is recorded).
  void observe(const Cluster::Impl& c, std::optional<TraceEvent>& event, bool always = false);
  uint64_t recorded() const { return recorded_; }
  std::vector<ViewFrame> frames(uint64_t since) const;  // numbered `since` and later

 private:
  struct Head {
    uint64_t time_us = 0;
    uint64_t seq = 0;
    std::optional<TraceEvent> event;  // made into a line only when the frame is read
  };
  struct Flight {
    ViewMessage message;
    uint64_t from_frame = 0;     // the first frame that shows it
    uint64_t to_frame = kNever;  // the first that does not
  };
  bool update(const Cluster::Impl& c);  // true if anything a frame shows changed
  uint64_t oldest() const { return recorded_ - heads_.size(); }
  ViewFrame frame(uint64_t k) const;

  size_t cap_;
  size_t n_;
  uint64_t recorded_ = 0;
  std::vector<Head> heads_;  // the ring: frame k is at heads_[k % cap_]
  // What the nodes were read from.
  std::vector<uint64_t> touches_;           // SimNode::touches when it was read
  std::vector<uint64_t> log_changed_from_;  // kNever: not since it was read
  std::optional<uint64_t> blocked_changes_, client_changes_;
  std::vector<ViewClient> client_info_;  // by op id - 1, made once (outcomes: in clients_)
  // The parts, each as versions: a node's state changes after one event in several, the others
  // seldom.
  std::vector<Versions<ViewState>> states_;
  std::vector<Versions<ConfState>> confs_;
  std::vector<Versions<ViewLog>> logs_;
  Versions<ViewLinks> blocked_;
  // The last kViewClients operations: their ids and how they stand.
  struct ClientRow {
    uint64_t op = 0;
    Outcome outcome = Outcome::kPending;
    uint64_t return_us = kNever;
    friend bool operator==(const ClientRow&, const ClientRow&) = default;
  };
  Versions<std::vector<ClientRow>> clients_;
  // By id from flights_[flights_from_] on; those before were shown by no kept frame. (A vector
  // rather than a deque: arrived() searches it, and indexing a vector is cheaper.)
  std::vector<Flight> flights_;
  size_t flights_from_ = 0;
  bool flights_changed_ = false;
};

}  // namespace etcdlab::sim
