#include "etcdlab/types.h"

#include <fmt/format.h>

namespace etcdlab {

std::string to_string(EntryType type) {
  switch (type) {
    case EntryType::kNormal:
      return "normal";
    case EntryType::kConfChange:
      return "confchange";
  }
  return "entrytype(" + std::to_string(static_cast<int>(type)) + ")";
}

std::string to_string(MessageType type) {
  switch (type) {
    case MessageType::kPropose:
      return "Propose";
    case MessageType::kAppend:
      return "Append";
    case MessageType::kAppendResponse:
      return "AppendResponse";
    case MessageType::kVote:
      return "Vote";
    case MessageType::kVoteResponse:
      return "VoteResponse";
    case MessageType::kPreVote:
      return "PreVote";
    case MessageType::kPreVoteResponse:
      return "PreVoteResponse";
    case MessageType::kHeartbeat:
      return "Heartbeat";
    case MessageType::kHeartbeatResponse:
      return "HeartbeatResponse";
    case MessageType::kSnapshot:
      return "Snapshot";
    case MessageType::kTimeoutNow:
      return "TimeoutNow";
    case MessageType::kReadIndex:
      return "ReadIndex";
    case MessageType::kReadIndexResponse:
      return "ReadIndexResponse";
    case MessageType::kTransferLeader:
      return "TransferLeader";
  }
  return "msgtype(" + std::to_string(static_cast<int>(type)) + ")";
}

std::string to_string(ConfChange::Type type) {
  switch (type) {
    case ConfChange::Type::kAddVoter:
      return "add-voter";
    case ConfChange::Type::kAddLearner:
      return "add-learner";
    case ConfChange::Type::kRemoveNode:
      return "remove";
    case ConfChange::Type::kUpdateNode:
      return "update";
  }
  return "conftype(" + std::to_string(static_cast<int>(type)) + ")";
}

namespace {
std::string short_data(const std::string& data) {
  std::string out;
  for (char c : data.substr(0, 24)) {
    out += (c >= 0x20 && c < 0x7f) ? std::string(1, c) : fmt::format("\\x{:02x}", uint8_t(c));
  }
  if (data.size() > 24) out += fmt::format("...({} bytes)", data.size());
  return out;
}
}  // namespace

std::string to_string(const Entry& e) {
  return fmt::format("{}/{}{} \"{}\"", e.index, e.term,
                     e.type == EntryType::kNormal ? "" : " " + to_string(e.type),
                     short_data(e.data));
}

std::string to_string(const HardState& s) {
  return fmt::format("term={} vote={} commit={}", s.term, s.vote, s.commit);
}

std::string to_string(const ConfState& c) {
  return fmt::format("voters=({}) learners=({})", fmt::join(c.voters, " "),
                     fmt::join(c.learners, " "));
}

std::string to_string(const SnapshotMeta& m) {
  return fmt::format("index={} term={} {}", m.index, m.term, to_string(m.conf));
}

std::string to_string(const Message& m) {
  std::string out = fmt::format("{}->{} {} term={}", m.from, m.to, to_string(m.type), m.term);
  switch (m.type) {
    case MessageType::kAppend:
      out += fmt::format(" prev={}/{} commit={} entries={}", m.index, m.log_term, m.commit,
                         m.entries.size());
      if (!m.entries.empty()) {
        out += fmt::format(" [{}..{}]", m.entries.front().index, m.entries.back().index);
      }
      break;
    case MessageType::kAppendResponse:
      out += m.reject
                 ? fmt::format(" reject index={} hint={}/{}", m.index, m.reject_hint, m.log_term)
                 : fmt::format(" match={}", m.index);
      break;
    case MessageType::kVote:
    case MessageType::kPreVote:
      out += fmt::format(" last={}/{}", m.index, m.log_term);
      break;
    case MessageType::kVoteResponse:
    case MessageType::kPreVoteResponse:
      out += m.reject ? " rejected" : " granted";
      break;
    case MessageType::kHeartbeat:
      out += fmt::format(" commit={}", m.commit);
      break;
    case MessageType::kSnapshot:
      out += " snapshot " + to_string(m.snapshot);
      break;
    case MessageType::kPropose:
      out += fmt::format(" entries={}", m.entries.size());
      break;
    case MessageType::kReadIndexResponse:
      out += fmt::format(" index={}", m.index);
      break;
    default:
      break;
  }
  return out;
}

uint64_t entry_size(const Entry& entry) {
  return entry.data.size() + 16;
}

}  // namespace etcdlab
