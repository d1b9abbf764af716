#pragma once
// Linearizable reads at the leader (ReadIndex, Raft thesis §6.4). A read arriving at the leader
// records the commit index; it is safe once a quorum has answered a heartbeat sent after it
// arrived (so no newer leader can exist) and the application has applied up to that index.
// Reads share rounds: every read queued while no round is in flight joins the next one; a read
// arriving during a round waits for the round after it (that round's heartbeats went out
// before the read arrived, so they do not prove leadership for it).

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "etcdlab/broken.h"
#include "etcdlab/types.h"

namespace etcdlab::raft {

class ReadOnly {
 public:
  struct Request {
    NodeId from = kNoNode;  // who asked (self, or a follower that forwarded it)
    std::string context;    // the client's id for the read
    uint64_t index = 0;     // the leader's commit index when the read arrived
  };

  void add(Request request) {
    if (ETCDLAB_BROKEN("read-joins-round-in-flight") && round_) {
      round_->requests.push_back(std::move(request));  // the bug: its heartbeats left earlier
      return;
    }
    queued_.push_back(std::move(request));
  }
  bool has_queued() const { return !queued_.empty(); }
  bool round_in_flight() const { return round_.has_value(); }
  // The context of the round in flight ("" if none): periodic heartbeats carry it too, so a
  // round whose heartbeats were lost still completes.
  std::string round_context() const { return round_ ? round_->context : std::string(); }
  // Starts a round for every queued read; returns the context its heartbeats carry.
  std::string start_round(uint64_t term);
  // An answer to a heartbeat of the round `context` from `id`. Once `has_quorum(acks)` holds,
  // returns the round's reads (and ends the round).
  template <typename HasQuorum>
  std::optional<std::vector<Request>> ack(const std::string& context, NodeId id,
                                          HasQuorum&& has_quorum) {
    if (!round_ || (context != round_->context &&
                    !(ETCDLAB_BROKEN("count-old-round-acks") && context.starts_with("read/")))) {
      return std::nullopt;
    }
    round_->acks.insert(id);
    if (!has_quorum(std::vector<NodeId>(round_->acks.begin(), round_->acks.end()))) {
      return std::nullopt;
    }
    auto done = std::move(round_->requests);
    round_.reset();
    return done;
  }
  void reset() {
    queued_.clear();
    round_.reset();
  }

 private:
  struct Round {
    std::string context;
    std::vector<Request> requests;
    std::set<NodeId> acks;
  };
  std::vector<Request> queued_;
  std::optional<Round> round_;
  uint64_t rounds_ = 0;
};

}  // namespace etcdlab::raft
