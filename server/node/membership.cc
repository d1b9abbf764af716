#include "membership.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/url/parse.hpp>

#include "api_error.h"

namespace etcdlab::server {
namespace {

using namespace rpctypes;  // etcd's error texts

uint64_t fnv(std::string_view s, uint64_t h = 0xcbf29ce484222325ULL) {
  for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ULL;
  return h;
}

[[noreturn]] void fail(GrpcCode code, const char* message) { throw ApiError(code, message); }

// A member is "started" once it has published its name (etcd's IsStarted).
bool started(const Member& m) { return !m.name.empty(); }

struct View {
  NodeId self;
  const RaftStatus& status;
  const std::vector<Member>& members;

  const Member* find(NodeId id) const {
    for (const auto& m : members) {
      if (m.id == id) return &m;
    }
    return nullptr;
  }
  bool voter(NodeId id) const {
    return std::count(status.conf.voters.begin(), status.conf.voters.end(), id) > 0;
  }
  // A voter is "active" when the leader is replicating to it (or it is the leader): the
  // leader's view of its connections, which etcd reads from its transport.
  bool active(NodeId id) const {
    if (id == self) return true;
    auto it = status.progress.find(id);
    return it != status.progress.end() && it->second.state == ProgressStatus::State::kReplicate;
  }
  void check_urls(const std::vector<std::string>& urls, NodeId owner) const {
    if (urls.empty()) fail(GrpcCode::kInvalidArgument, kBadMemberUrls);
    for (const auto& u : urls) {
      if (!valid_member_url(u)) fail(GrpcCode::kInvalidArgument, kBadMemberUrls);
      for (const auto& m : members) {
        if (m.id != owner && std::count(m.peer_urls.begin(), m.peer_urls.end(), u)) {
          fail(GrpcCode::kFailedPrecondition, kPeerUrlExists);
        }
      }
    }
  }
};

AdmittedChange admit_add(const View& v, const MemberChange& c, const std::string& token) {
  v.check_urls(c.peer_urls, kNoNode);
  if (c.learner) {
    // etcd 3.4 allows one learner at a time (--experimental-max-learners came later).
    if (!v.status.conf.learners.empty()) fail(GrpcCode::kFailedPrecondition, kTooManyLearners);
  } else {
    // etcd's IsReadyToAddVotingMember: after the addition, a quorum of the voters must have
    // started (a single started member may add a second)...
    size_t n = 1, up = 0;
    for (NodeId id : v.status.conf.voters) {
      ++n;
      const Member* m = v.find(id);
      if (m && started(*m)) ++up;
    }
    if (!(up == 1 && n == 2) && up < n / 2 + 1) {
      fail(GrpcCode::kFailedPrecondition, kNotEnoughStarted);
    }
    // ... and the leader must be replicating to every voter (etcd's isConnectedToQuorumSince
    // and the "strict reconfig check": an unhealthy cluster is not grown).
    for (NodeId id : v.status.conf.voters) {
      if (!v.active(id)) fail(GrpcCode::kUnavailable, kUnhealthy);
    }
  }
  AdmittedChange out;
  out.member.id = c.new_id != kNoNode ? c.new_id
                                      : member_id_of(c.peer_urls, fmt::format("{}:{}", token, c.salt));
  if (v.find(out.member.id)) fail(GrpcCode::kFailedPrecondition, kMemberExists);
  out.member.peer_urls = c.peer_urls;
  out.member.learner = c.learner;
  out.type = c.learner ? ConfChange::Type::kAddLearner : ConfChange::Type::kAddVoter;
  return out;
}

AdmittedChange admit_remove(const View& v, const MemberChange& c) {
  const Member* m = v.find(c.id);
  if (!m) fail(GrpcCode::kNotFound, kMemberNotFound);
  if (v.voter(c.id)) {
    // etcd's IsReadyToRemoveVotingMember and isConnectedToQuorumSince, without the member:
    // the voters left must still have a started quorum, and a reachable one.
    size_t n = 0, up = 0, reachable = 0;
    for (NodeId id : v.status.conf.voters) {
      if (id == c.id) continue;
      ++n;
      const Member* other = v.find(id);
      if (other && started(*other)) ++up;
      if (v.active(id)) ++reachable;
    }
    if (up < n / 2 + 1) fail(GrpcCode::kFailedPrecondition, kNotEnoughStarted);
    if (reachable < n / 2 + 1) fail(GrpcCode::kUnavailable, kUnhealthy);
  }
  return {ConfChange::Type::kRemoveNode, *m};
}

AdmittedChange admit_update(const View& v, const MemberChange& c) {
  const Member* m = v.find(c.id);
  if (!m) fail(GrpcCode::kNotFound, kMemberNotFound);
  v.check_urls(c.peer_urls, c.id);
  AdmittedChange out{ConfChange::Type::kUpdateNode, *m};
  out.member.peer_urls = c.peer_urls;
  return out;
}

AdmittedChange admit_promote(const View& v, const MemberChange& c) {
  const Member* m = v.find(c.id);
  if (!m) fail(GrpcCode::kNotFound, kMemberNotFound);
  if (!m->learner) fail(GrpcCode::kFailedPrecondition, kNotLearner);
  // etcd's isLearnerReady: the learner's match index within 90% of the leader's.
  auto it = v.status.progress.find(c.id);
  if (it == v.status.progress.end() ||
      static_cast<double>(it->second.match) < 0.9 * static_cast<double>(v.status.last_index)) {
    fail(GrpcCode::kFailedPrecondition, kLearnerNotReady);
  }
  // etcdlab's own rule (etcd 3.4 has no such check): with one voter, the promotion commits
  // on the leader alone, and a learner that restarts before it hears that never votes (lab 2's
  // rule, etcd 3.4's too), while the leader now needs its vote: no leader, ever again.
  if (v.status.conf.voters.size() == 1) {
    fail(GrpcCode::kFailedPrecondition, kPromoteSingleVoter);
  }
  AdmittedChange out{ConfChange::Type::kAddVoter, *m};
  out.member.learner = false;
  return out;
}

}  // namespace

AdmittedChange admit(const MemberChange& change, NodeId self, const RaftStatus& status,
                     const std::vector<Member>& members, const std::string& cluster_token) {
  View v{self, status, members};
  AdmittedChange out;
  switch (change.kind) {
    case MemberChange::Kind::kAdd: out = admit_add(v, change, cluster_token); break;
    case MemberChange::Kind::kRemove: out = admit_remove(v, change); break;
    case MemberChange::Kind::kUpdate: out = admit_update(v, change); break;
    case MemberChange::Kind::kPromote: out = admit_promote(v, change); break;
  }
  out.member.client_urls.clear();  // published by the member itself, never by a change
  return out;
}

bool valid_member_url(const std::string& url) {
  // As the runtime dials them: a scheme is optional (http:// is assumed), the host is an IP
  // address or a name (resolved on each dial; one that does not resolve is logged by name).
  std::string text = url.find("://") == std::string::npos ? "http://" + url : url;
  auto parsed = boost::urls::parse_uri(text);
  if (!parsed || !parsed->has_port() || parsed->port_number() == 0 || parsed->host().empty()) {
    return false;
  }
  switch (parsed->host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
      return true;
    case boost::urls::host_type::name:
      return true;
    default:
      return false;
  }
}

uint64_t member_id_of(const std::vector<std::string>& peer_urls, const std::string& token) {
  std::vector<std::string> sorted = peer_urls;
  std::sort(sorted.begin(), sorted.end());
  uint64_t h = fnv(token);
  for (const auto& u : sorted) h = fnv(u, h ^ 0x5bd1e995);
  return h == 0 ? 1 : h;
}

uint64_t cluster_id_of(std::vector<uint64_t> member_ids) {
  std::sort(member_ids.begin(), member_ids.end());
  uint64_t h = 0xcbf29ce484222325ULL;
  for (uint64_t id : member_ids) h = fnv(std::string_view(reinterpret_cast<char*>(&id), 8), h);
  return h == 0 ? 1 : h;
}

}  // namespace etcdlab::server
