// The live view's frames and recordings as JSON (the shapes of view.h's contract). Written
// with fmt rather than Boost.JSON: Boost.JSON writes 1234.5 as 1.2345E3, and these files are
// read by people too (a failing test's trace, one frame a line).
#include <fmt/format.h>

#include "etcdlab/sim/view.h"

namespace etcdlab::sim {
namespace {

using Out = fmt::memory_buffer;

// A JSON string. Bytes outside printable ASCII are escaped as \u00XX (read as Latin-1), so the
// output is valid UTF-8 whatever a log line or a client's data held.
void quoted(Out& out, std::string_view s) {
  out.push_back('"');
  for (char ch : s) {
    auto u = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (u >= 0x20 && u < 0x7f) {
      out.push_back(ch);
    } else if (ch == '\n') {
      fmt::format_to(std::back_inserter(out), "\\n");
    } else {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", u);
    }
  }
  out.push_back('"');
}

// Virtual microseconds as milliseconds, the shortest way (1234.5, 3).
void ms(Out& out, uint64_t us) {
  fmt::format_to(std::back_inserter(out), "{}", static_cast<double>(us) / 1000.0);
}

void id_or_null(Out& out, NodeId id) {
  if (id == kNoNode) {
    fmt::format_to(std::back_inserter(out), "null");
  } else {
    fmt::format_to(std::back_inserter(out), "{}", id);
  }
}

const char* role_name(Role role) {  // as Python spells them (etcdlab.Role)
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre_candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "?";
}

const char* kind_name(Operation::Kind kind) {
  switch (kind) {
    case Operation::Kind::kPropose:
      return "propose";
    case Operation::Kind::kRead:
      return "read";
    case Operation::Kind::kConfChange:
      return "conf_change";
    case Operation::Kind::kTransfer:
      return "transfer";
  }
  return "?";
}

void node_json(Out& out, const ViewNode& n) {
  auto o = std::back_inserter(out);
  fmt::format_to(o, R"({{"id":{},"name":"n{}","up":{},"member":{},"role":"{}","term":{},"vote":)",
                 n.id, n.id, n.up, n.member, role_name(n.role), n.term);
  id_or_null(out, n.vote);
  fmt::format_to(o, R"(,"leader":)");
  id_or_null(out, n.leader);
  fmt::format_to(o,
                 R"(,"commit":{},"applied":{},"first_index":{},"last_index":{},)"
                 R"("snapshot_index":{},"log_from":{},"log_terms":[{}],"voters":[{}],)"
                 R"("learners":[{}]}})",
                 n.commit, n.applied, n.first_index, n.last_index, n.snapshot_index, n.log_from,
                 fmt::join(n.log_terms, ","), fmt::join(n.voters, ","), fmt::join(n.learners, ","));
}

void message_json(Out& out, const ViewMessage& m) {
  auto o = std::back_inserter(out);
  fmt::format_to(o,
                 R"({{"id":{},"from":{},"to":{},"kind":"{}","term":{},"index":{},"log_term":{},)"
                 R"("commit":{},"entries":{},"reject":{},)",
                 m.id, m.from, m.to, to_string(m.kind), m.term, m.index, m.log_term, m.commit,
                 m.entries, m.reject);
  if (m.sent_us != kNever) {
    fmt::format_to(o, R"("sent_ms":)");
    ms(out, m.sent_us);
    out.push_back(',');
  }
  fmt::format_to(o, R"("due_ms":)");
  ms(out, m.due_us);
  out.push_back('}');
}

void client_json(Out& out, const ViewClient& c) {
  auto o = std::back_inserter(out);
  fmt::format_to(o, R"({{"op":{},"kind":"{}","via":)", c.op, kind_name(c.kind));
  id_or_null(out, c.via);
  fmt::format_to(o, R"(,"outcome":"{}","call_ms":)", to_string(c.outcome));
  ms(out, c.call_us);
  fmt::format_to(o, R"(,"return_ms":)");
  if (c.return_us == kNever) {
    fmt::format_to(o, "null");
  } else {
    ms(out, c.return_us);
  }
  fmt::format_to(o, R"(,"text":)");
  quoted(out, c.text);
  out.push_back('}');
}

template <typename T, typename Fn>
void array(Out& out, const std::vector<T>& items, Fn&& one) {
  out.push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    one(out, items[i]);
  }
  out.push_back(']');
}

void frame_json(Out& out, const ViewFrame& f) {
  auto o = std::back_inserter(out);
  fmt::format_to(o, R"({{"t_ms":)");
  ms(out, f.time_us);
  fmt::format_to(o, R"(,"seq":{},"event":)", f.seq);
  quoted(out, f.event);
  fmt::format_to(o, R"(,"nodes":)");
  array(out, f.nodes, node_json);
  fmt::format_to(o, R"(,"messages":)");
  array(out, f.messages, message_json);
  fmt::format_to(o, R"(,"blocked":)");
  array(out, f.blocked, [](Out& b, const std::pair<NodeId, NodeId>& link) {
    fmt::format_to(std::back_inserter(b), "[{},{}]", link.first, link.second);
  });
  fmt::format_to(o, R"(,"clients":)");
  array(out, f.clients, client_json);
  out.push_back('}');
}

}  // namespace

std::string to_json(const ViewFrame& frame) {
  Out out;
  frame_json(out, frame);
  return fmt::to_string(out);
}

std::string view_frame_json(const Cluster& c) {
  return to_json(view_frame(c));
}

std::string view_frames_json(const Cluster& c, uint64_t since) {
  Out out;
  array(out, view_frames(c, since), frame_json);
  return fmt::to_string(out);
}

std::string view_recording_json(const Cluster& c, const std::string& title,
                                const std::optional<std::string>& replay) {
  std::vector<ViewFrame> frames = view_frames(c);
  if (frames.empty()) frames.push_back(view_frame(c));
  Out out;
  auto o = std::back_inserter(out);
  fmt::format_to(o, R"({{"format":"etcdlab-view/1","source":"sim","title":)");
  quoted(out, title);
  fmt::format_to(o, R"(,"seed":{},"nodes":{},"replay":)", c.options().seed, c.size());
  if (replay) {
    quoted(out, *replay);
  } else {
    fmt::format_to(o, "null");
  }
  fmt::format_to(o, R"(,"frames":[)");
  for (size_t i = 0; i < frames.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('\n');  // a frame a line: the file reads in an editor
    frame_json(out, frames[i]);
  }
  fmt::format_to(o, "]}}\n");
  return fmt::to_string(out);
}

}  // namespace etcdlab::sim
