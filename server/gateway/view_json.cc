#include "view_json.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

namespace etcdlab::gateway {
namespace {

namespace json = boost::json;

const char* role_name(Role role) {
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
  return "follower";
}

// Member ids (64 bits) become 1..n: a JavaScript number cannot hold every id, and the page
// draws members by position.
class Numbering {
 public:
  explicit Numbering(std::vector<server::Member> members) : members_(std::move(members)) {
    std::sort(members_.begin(), members_.end(),
              [](const server::Member& a, const server::Member& b) { return a.id < b.id; });
  }
  const std::vector<server::Member>& members() const { return members_; }
  // 1-based; null for no member (kNoNode) or one not in the list.
  json::value id(NodeId member) const {
    for (size_t i = 0; i < members_.size(); ++i) {
      if (members_[i].id == member) return static_cast<uint64_t>(i + 1);
    }
    return nullptr;
  }
  json::array ids(const std::vector<NodeId>& list) const {
    json::array out;
    for (NodeId m : list) {
      json::value v = id(m);
      if (!v.is_null()) out.push_back(v);
    }
    return out;
  }

 private:
  std::vector<server::Member> members_;
};

json::array strings(const std::vector<std::string>& list) {
  json::array out;
  for (const auto& s : list) out.push_back(json::string(s));
  return out;
}

json::object node_json(const server::NodeView& v, const Numbering& numbers) {
  json::object n;
  n["id"] = numbers.id(v.id);
  std::string name;
  for (const auto& m : numbers.members()) {
    if (m.id == v.id) name = m.name;
  }
  n["name"] = name;
  n["member_id"] = fmt::format("{:x}", v.id);
  n["up"] = true;  // (it answered)
  n["member"] = v.member;
  n["role"] = role_name(v.role);
  n["term"] = v.term;
  n["vote"] = numbers.id(v.vote);
  n["leader"] = numbers.id(v.leader);
  n["commit"] = v.commit;
  n["applied"] = v.applied;
  n["first_index"] = v.first_index;
  n["last_index"] = v.last_index;
  n["snapshot_index"] = v.snapshot_index;
  n["log_from"] = v.log_from;
  json::array terms;
  for (uint64_t t : v.log_terms) terms.push_back(t);
  n["log_terms"] = std::move(terms);
  n["voters"] = numbers.ids(v.voters);
  n["learners"] = numbers.ids(v.learners);
  return n;
}

json::object client_json(const server::RequestRecord& r, const json::value& via) {
  json::object c;
  // The request id's low 40 bits: its counter on this member (the high bits tell members and
  // restarts apart, and would not fit a JavaScript number).
  c["op"] = r.id & 0xFFFFFFFFFFULL;
  c["kind"] = r.kind;
  c["via"] = via;
  c["outcome"] = r.outcome;
  c["revision"] = r.revision;
  c["call_ms"] = r.call_ms;
  c["return_ms"] = r.return_ms;
  c["text"] = r.text;
  return c;
}

}  // namespace

json::object view_state_json(KvService& s) {
  server::NodeView v = s.view_state();
  Numbering numbers(s.members());
  json::object out;
  out["node"] = node_json(v, numbers);
  json::array members;
  for (const auto& m : numbers.members()) {
    json::object o;
    o["member_id"] = fmt::format("{:x}", m.id);
    o["name"] = m.name;
    o["client_urls"] = strings(m.client_urls);
    o["peer_urls"] = strings(m.peer_urls);
    o["learner"] = m.learner;
    members.push_back(std::move(o));
  }
  out["members"] = std::move(members);
  out["cluster_id"] = fmt::format("{:x}", s.cluster_id());
  out["revision"] = s.store().revision();
  json::value via = numbers.id(v.id);
  json::array clients;
  for (const auto& r : s.recent_requests()) clients.push_back(client_json(r, via));
  out["clients"] = std::move(clients);
  out["t_ms"] = v.now_ms;
  return out;
}

}  // namespace etcdlab::gateway
