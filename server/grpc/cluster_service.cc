// etcdserverpb.Cluster over server/rpc. Changes are made by the leader: a follower sends them
// on to the leader's JSON door (KvService::forward_to_leader, as the JSON door does for its own
// requests) and translates the answer back; etcd's followers propose them through Raft
// instead, with the same result for the client.
#include <boost/json.hpp>

#include "../gateway/json_fields.h"
#include "../rpc/rpcs.h"
#include "convert.h"
#include "rpc.grpc.pb.h"
#include "services.h"

namespace etcdlab::grpc_door {
namespace {

namespace json = boost::json;
using gateway::MemberRequest;

void fill_members(google::protobuf::RepeatedPtrField<pb::Member>* out,
                  const std::vector<server::Member>& members) {
  for (const auto& m : members) fill_member(out->Add(), m);
}

server::Member member_of(const json::object& o) {
  server::Member m;
  m.id = gateway::get_uint(o, "ID");
  if (const json::value* name = o.if_contains("name"); name && name->is_string()) {
    m.name = std::string(name->as_string());
  }
  for (const char* field : {"peerURLs", "clientURLs"}) {
    if (const json::array* urls = gateway::get_array(o, field)) {
      for (const auto& u : *urls) {
        if (!u.is_string()) continue;
        (std::string_view(field) == "peerURLs" ? m.peer_urls : m.client_urls)
            .emplace_back(u.as_string());
      }
    }
  }
  m.learner = gateway::get_bool(o, "isLearner");
  return m;
}

// The leader's answer to a forwarded change: the member it concerned (add) and the members.
struct Changed {
  server::Member member;
  std::vector<server::Member> members;
};

awaitable<Changed> forward(KvService& s, const MemberRequest& r, const server::Credentials& who) {
  static const char* const kPaths[] = {"add", "remove", "update", "promote"};
  json::object body;
  gateway::put_uint(body, "ID", r.id);
  if (!r.peer_urls.empty()) {
    json::array urls;
    for (const auto& u : r.peer_urls) urls.emplace_back(u);
    body["peerURLs"] = std::move(urls);
  }
  if (r.learner) body["isLearner"] = true;
  gateway::HttpRequest request{
      "POST",
      std::string("/v3/cluster/member/") + kPaths[static_cast<int>(r.kind)],
      gateway::serialize(body),
      {}};
  // The leader checks the change against the caller's token (a CN is not forwarded).
  if (who.token) request.authorization = *who.token;
  gateway::HttpResponse answer = co_await s.forward_to_leader(std::move(request));
  json::object out;
  try {
    out = gateway::parse_body(answer.body);
  } catch (const server::ApiError&) {
    throw server::ApiError(server::GrpcCode::kUnavailable,
                           "etcdlab: the leader's answer to a membership change was not JSON");
  }
  if (answer.status != 200) {
    const json::value* error = out.if_contains("error");
    int64_t code = out.contains("code") && out.at("code").is_int64() ? out.at("code").as_int64() : 2;
    throw server::ApiError(static_cast<server::GrpcCode>(code),
                           error && error->is_string() ? std::string(error->as_string())
                                                       : "etcdlab: the leader refused the change");
  }
  Changed c;
  if (const json::value* m = out.if_contains("member"); m && m->is_object()) {
    c.member = member_of(m->as_object());
  }
  if (const json::array* members = gateway::get_array(out, "members")) {
    for (const auto& m : *members) {
      if (m.is_object()) c.members.push_back(member_of(m.as_object()));
    }
  }
  co_return c;
}

awaitable<Changed> change(KvService& s, MemberRequest r, const server::Credentials& who) {
  if (!s.is_leader()) co_return co_await forward(s, r, who);
  Changed c;
  c.member = co_await rpc::member_change(s, std::move(r), who);
  c.members = rpc::member_list(s);
  co_return c;
}

MemberRequest request_of(MemberRequest::Kind kind, uint64_t id,
                         const google::protobuf::RepeatedPtrField<std::string>* urls,
                         bool learner) {
  MemberRequest r;
  r.kind = kind;
  r.id = id;
  if (urls) r.peer_urls.assign(urls->begin(), urls->end());
  r.learner = learner;
  return r;
}

awaitable<void> add(KvService& s, const pb::MemberAddRequest& req, pb::MemberAddResponse& out,
                    const server::Credentials& who) {
  MemberRequest r = request_of(MemberRequest::Kind::kAdd, 0, &req.peerurls(), req.islearner());
  Changed c = co_await change(s, std::move(r), who);
  fill_header(out.mutable_header(), s, 0);
  pb::Member* added = out.mutable_member();
  added->set_id(c.member.id);
  for (const auto& u : c.member.peer_urls) added->add_peerurls(u);
  added->set_islearner(c.member.learner);
  fill_members(out.mutable_members(), c.members);
}

awaitable<void> remove(KvService& s, const pb::MemberRemoveRequest& req,
                       pb::MemberRemoveResponse& out, const server::Credentials& who) {
  MemberRequest r = request_of(MemberRequest::Kind::kRemove, req.id(), nullptr, false);
  Changed c = co_await change(s, std::move(r), who);
  fill_header(out.mutable_header(), s, 0);
  fill_members(out.mutable_members(), c.members);
}

awaitable<void> update(KvService& s, const pb::MemberUpdateRequest& req,
                       pb::MemberUpdateResponse& out, const server::Credentials& who) {
  MemberRequest r = request_of(MemberRequest::Kind::kUpdate, req.id(), &req.peerurls(), false);
  Changed c = co_await change(s, std::move(r), who);
  fill_header(out.mutable_header(), s, 0);
  fill_members(out.mutable_members(), c.members);
}

awaitable<void> promote(KvService& s, const pb::MemberPromoteRequest& req,
                        pb::MemberPromoteResponse& out, const server::Credentials& who) {
  MemberRequest r = request_of(MemberRequest::Kind::kPromote, req.id(), nullptr, false);
  Changed c = co_await change(s, std::move(r), who);
  fill_header(out.mutable_header(), s, 0);
  fill_members(out.mutable_members(), c.members);
}

awaitable<void> list(KvService& s, const pb::MemberListRequest&, pb::MemberListResponse& out,
                     const server::Credentials& /*who*/) {
  fill_header(out.mutable_header(), s, 0);
  fill_members(out.mutable_members(), rpc::member_list(s));
  co_return;
}

class ClusterService final : public pb::Cluster::CallbackService {
 public:
  explicit ClusterService(Door& door) : door_(door) {}

  grpc::ServerUnaryReactor* MemberAdd(grpc::CallbackServerContext* c,
                                      const pb::MemberAddRequest* req,
                                      pb::MemberAddResponse* out) override {
    return serve_unary(door_, c, out,
                       [req](auto& s, auto& o, const auto& who) { return add(s, *req, o, who); });
  }
  grpc::ServerUnaryReactor* MemberRemove(grpc::CallbackServerContext* c,
                                         const pb::MemberRemoveRequest* req,
                                         pb::MemberRemoveResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o, const auto& who) {
      return remove(s, *req, o, who);
    });
  }
  grpc::ServerUnaryReactor* MemberUpdate(grpc::CallbackServerContext* c,
                                         const pb::MemberUpdateRequest* req,
                                         pb::MemberUpdateResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o, const auto& who) {
      return update(s, *req, o, who);
    });
  }
  grpc::ServerUnaryReactor* MemberList(grpc::CallbackServerContext* c,
                                       const pb::MemberListRequest* req,
                                       pb::MemberListResponse* out) override {
    return serve_unary(door_, c, out,
                       [req](auto& s, auto& o, const auto& who) { return list(s, *req, o, who); });
  }
  grpc::ServerUnaryReactor* MemberPromote(grpc::CallbackServerContext* c,
                                          const pb::MemberPromoteRequest* req,
                                          pb::MemberPromoteResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o, const auto& who) {
      return promote(s, *req, o, who);
    });
  }

 private:
  Door& door_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_cluster_service(Door& door) {
  return std::make_unique<ClusterService>(door);
}

}  // namespace etcdlab::grpc_door
