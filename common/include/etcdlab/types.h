#pragma once
// The value types every layer passes around: log entries, Raft's durable state, the membership
// configuration, snapshot metadata and Raft messages. Plain structs with public fields; their
// binary encoding lives in codec.h, their text form in to_string().

#include <cstdint>
#include <string>
#include <vector>

namespace etcdlab {

// Raft node ids are positive; 0 means "none" (no vote, no leader).
using NodeId = uint64_t;
inline constexpr NodeId kNoNode = 0;

enum class EntryType : uint8_t {
  kNormal = 0,      // an application command (may be empty: the leader's no-op at election)
  kConfChange = 1,  // data holds an encoded ConfChange
};

struct Entry {
  uint64_t index = 0;
  uint64_t term = 0;
  EntryType type = EntryType::kNormal;
  std::string data;

  friend bool operator==(const Entry&, const Entry&) = default;
};

// What Raft must persist before it answers a message (Figure 2's "persistent state", plus
// commit, as etcd does, so a restarted node knows what it may apply again).
struct HardState {
  uint64_t term = 0;
  NodeId vote = kNoNode;
  uint64_t commit = 0;

  bool empty() const { return term == 0 && vote == kNoNode && commit == 0; }
  friend bool operator==(const HardState&, const HardState&) = default;
};

// The membership configuration: who votes and who only receives the log.
// invariant: both lists sorted, no id in both.
struct ConfState {
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;

  friend bool operator==(const ConfState&, const ConfState&) = default;
};

// A membership change, carried in a kConfChange entry. One server at a time.
struct ConfChange {
  enum class Type : uint8_t {
    kAddVoter = 0,    // add a voter, or promote a learner to voter
    kAddLearner = 1,  // add a non-voting member
    kRemoveNode = 2,  // remove a voter or a learner
    kUpdateNode = 3,  // no change to the configuration; context carries new member data
  };
  Type type = Type::kAddVoter;
  NodeId node_id = kNoNode;
  std::string context;  // opaque to Raft (the server puts member names and URLs here)

  friend bool operator==(const ConfChange&, const ConfChange&) = default;
};

// Describes a snapshot: the state machine after applying every entry up to `index`.
// The payload (the state itself) is a file or a stream, never part of this struct.
struct SnapshotMeta {
  uint64_t index = 0;
  uint64_t term = 0;
  ConfState conf;

  bool empty() const { return index == 0; }
  friend bool operator==(const SnapshotMeta&, const SnapshotMeta&) = default;
};

enum class MessageType : uint8_t {
  kPropose = 1,  // a follower forwards client proposals to the leader
  kAppend = 2,   // AppendEntries
  kAppendResponse = 3,
  kVote = 4,  // RequestVote
  kVoteResponse = 5,
  kPreVote = 6,  // "would you vote for me?" without bumping anyone's term
  kPreVoteResponse = 7,
  kHeartbeat = 8,
  kHeartbeatResponse = 9,
  kSnapshot = 10,    // InstallSnapshot; the driver streams the payload beside it
  kTimeoutNow = 11,  // leader transfer: "campaign now"
  kReadIndex = 12,   // a follower forwards a ReadIndex request to the leader
  kReadIndexResponse = 13,
  kTransferLeader = 14,  // a follower forwards a transfer request to the leader
};
inline constexpr uint8_t kMaxMessageType = 14;

// One Raft message. Which fields mean what depends on the type; the comments say so.
struct Message {
  MessageType type = MessageType::kAppend;
  NodeId to = kNoNode;
  NodeId from = kNoNode;
  uint64_t term = 0;           // the sender's term (0 for kPropose, which is term-less)
  uint64_t log_term = 0;       // kAppend: term of the entry before `entries`; kVote/kPreVote: last
                               // log term; rejected kAppendResponse: term at reject_hint
  uint64_t index = 0;          // kAppend: index before `entries`; kVote: last log index;
                               // kTransferLeader: the transferee;
                               // kAppendResponse: last index now matching (or rejected index);
                               // kReadIndexResponse: the read index
  std::vector<Entry> entries;  // kAppend, kPropose
  uint64_t commit = 0;         // kAppend, kHeartbeat: the leader's commit index
  bool reject = false;         // responses
  uint64_t reject_hint = 0;    // rejected kAppendResponse: the follower's guess of where to retry
  SnapshotMeta snapshot;       // kSnapshot
  std::string context;         // kReadIndex(-Response), kHeartbeat(-Response): read round id

  friend bool operator==(const Message&, const Message&) = default;
};

// Text forms for logs, traces and test failure messages.
std::string to_string(EntryType type);
std::string to_string(MessageType type);
std::string to_string(ConfChange::Type type);
std::string to_string(const Entry& entry);
std::string to_string(const HardState& state);
std::string to_string(const ConfState& conf);
std::string to_string(const SnapshotMeta& meta);
std::string to_string(const Message& message);

// Bytes an entry costs in a message budget (data plus a fixed per-entry overhead).
uint64_t entry_size(const Entry& entry);

}  // namespace etcdlab
