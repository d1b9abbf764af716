#pragma once
// The live view of a simulated cluster: what the page of python/etcdlab/view draws (served by
// `python -m etcdlab.view`, embedded in notebooks, or opened on a failing lab 2 test's trace;
// the JSON shapes are written out in python/etcdlab/view/__init__.py).
//
// A frame is one picture of the cluster: each node's state and the terms of its log's last 64
// entries, the messages in flight, the links that cannot carry messages now, and the last 20
// client operations. A recording is the frames of a run. With ClusterOptions::view_frames = N
// the cluster keeps the last N frames as it runs: one after each event (or fault, or client
// call) that changed something a frame shows; a follower's tick that changes nothing adds none.
// Frames are kept compact (what changes seldom, once per change: sim/src/view_recorder.h),
// made into these structs when read, and into JSON only when asked. Recording only observes:
// the run and its trace hash are the same with it on or off.
//
// Nodes are named by Raft id (node index + 1) everywhere in a frame, as trace lines name them.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "etcdlab/sim/cluster.h"

namespace etcdlab::sim {

inline constexpr size_t kViewLogTail = 64;  // log terms a frame holds per node, at most
inline constexpr size_t kViewClients = 20;  // client operations a frame holds, at most

struct ViewNode {
  NodeId id = kNoNode;
  bool up = true;
  bool member = true;  // in its own configuration
  Role role = Role::kFollower;
  uint64_t term = 0;
  NodeId vote = kNoNode;    // kNoNode: no vote in this term
  NodeId leader = kNoNode;  // kNoNode: no leader known
  uint64_t commit = 0;
  uint64_t applied = 0;
  uint64_t first_index = 0;  // of the persisted log; these three are 0 while the node is down
  uint64_t last_index = 0;
  uint64_t snapshot_index = 0;
  uint64_t log_from = 0;            // the index of log_terms[0]
  std::vector<uint64_t> log_terms;  // the terms of entries log_from .. last_index
  std::vector<NodeId> voters;       // its configuration
  std::vector<NodeId> learners;
  friend bool operator==(const ViewNode&, const ViewNode&) = default;
};

// A Raft message on its way (sent, not yet delivered or dropped at its receiver).
struct ViewMessage {
  uint64_t id = 0;  // unique in the run (a duplicated message is two)
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  MessageType kind = MessageType::kAppend;
  uint64_t term = 0;
  uint64_t index = 0;
  uint64_t log_term = 0;
  uint64_t commit = 0;
  uint64_t entries = 0;
  bool reject = false;
  uint64_t sent_us = kNever;  // kNever: not known (in a frame of now, not recorded)
  uint64_t due_us = 0;
  friend bool operator==(const ViewMessage&, const ViewMessage&) = default;
};

struct ViewClient {
  uint64_t op = 0;
  Operation::Kind kind = Operation::Kind::kPropose;
  NodeId via = kNoNode;  // the node the client asked; kNoNode: any
  Outcome outcome = Outcome::kPending;
  uint64_t call_us = 0;
  uint64_t return_us = kNever;
  std::string text;  // e.g. `propose "x"` (printable ASCII only, cut after 24 bytes of data)
  friend bool operator==(const ViewClient&, const ViewClient&) = default;
};

struct ViewFrame {
  uint64_t time_us = 0;
  uint64_t seq = 0;                                // events processed so far
  std::string event;                               // the trace line of what made it ("" if none)
  std::vector<ViewNode> nodes;                     // by id
  std::vector<ViewMessage> messages;               // by id
  std::vector<std::pair<NodeId, NodeId>> blocked;  // (from, to): cut now
  std::vector<ViewClient> clients;                 // oldest first
};

// The cluster now.
ViewFrame view_frame(const Cluster& c);
// Frames are numbered 0, 1, ... in the order they were recorded; the recorder keeps the last
// ClusterOptions::view_frames of them. How many were recorded so far (0 when it is off):
uint64_t view_frames_recorded(const Cluster& c);
// The frames numbered `since` and later that are still kept, oldest first.
std::vector<ViewFrame> view_frames(const Cluster& c, uint64_t since = 0);

// JSON (the shapes of the contract's sections 1 and 2).
std::string to_json(const ViewFrame& frame);
std::string view_frame_json(const Cluster& c);
// view_frames(c, since) as a JSON array.
std::string view_frames_json(const Cluster& c, uint64_t since);
// The recording {"format": "etcdlab-view/1", "source": "sim", ...}: the recorded frames, or
// when recording is off the one frame of now. `replay` is a command that replays the run.
std::string view_recording_json(const Cluster& c, const std::string& title,
                                const std::optional<std::string>& replay = std::nullopt);

}  // namespace etcdlab::sim
