#pragma once
// The live view's private half (view.h is the public one): a builder that keeps the picture
// of the cluster up to date after every event, rebuilding only the parts that changed, and the
// recorder that keeps the last N pictures. A frame is kept as shared parts, so a frame after an
// event that moved one node costs that node and a few pointers; each part is immutable once
// built. The builder only reads the cluster: no random draw, no trace event, no state change.

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "etcdlab/sim/trace.h"
#include "etcdlab/sim/view.h"

namespace etcdlab::sim {

struct SimNode;

struct SharedFrame {
  uint64_t time_us = 0;
  uint64_t seq = 0;
  std::optional<TraceEvent> event;  // made into a line only when the frame is written out
  std::vector<std::shared_ptr<const ViewNode>> nodes;
  std::shared_ptr<const std::vector<ViewMessage>> messages;
  std::shared_ptr<const std::vector<std::pair<NodeId, NodeId>>> blocked;
  std::shared_ptr<const std::vector<ViewClient>> clients;

  ViewFrame expand() const;
};

class ViewBuilder {
 public:
  // Brings the picture up to date with the cluster; true if any part of it changed since the
  // last call (the first call: true).
  bool update(const Cluster::Impl& c);
  // The picture as of the last update().
  SharedFrame frame(const Cluster::Impl& c, std::optional<TraceEvent> event) const;

 private:
  bool update_node(const SimNode& n, size_t i);
  bool update_messages(const Cluster::Impl& c);
  bool update_blocked(const Cluster::Impl& c);
  bool update_clients(const Cluster::Impl& c);

  std::vector<std::shared_ptr<const ViewNode>> nodes_;
  std::vector<uint64_t> log_writes_;  // SimNode::log_writes when its log part was built
  ViewNode scratch_;                  // reused: no allocation for a node that did not change
  std::vector<uint64_t> message_ids_, scratch_ids_;
  std::shared_ptr<const std::vector<ViewMessage>> messages_;
  std::vector<std::pair<NodeId, NodeId>> scratch_blocked_;
  std::shared_ptr<const std::vector<std::pair<NodeId, NodeId>>> blocked_;
  std::optional<uint64_t> client_changes_;  // Impl::client_changes when clients_ was built
  std::shared_ptr<const std::vector<ViewClient>> clients_;
};

// The last `cap` frames of a run (ClusterOptions::view_frames), in a ring.
class ViewRecorder {
 public:
  explicit ViewRecorder(size_t cap) : cap_(cap) {}
  // After an event, a fault or a client call: records a frame if anything it shows changed.
  // `event` is the first trace event of what happened, if it made one.
  void observe(const Cluster::Impl& c, std::optional<TraceEvent> event);
  std::vector<ViewFrame> frames() const;  // oldest first

 private:
  size_t cap_;
  ViewBuilder builder_;
  std::vector<SharedFrame> ring_;
  size_t next_ = 0;  // where the next frame goes once the ring is full
};

}  // namespace etcdlab::sim
