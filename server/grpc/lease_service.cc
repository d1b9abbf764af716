// etcdserverpb.Lease over server/rpc: LeaseGrant, LeaseRevoke, LeaseTimeToLive, LeaseLeases,
// and the LeaseKeepAlive stream.
#include <deque>

#include "../rpc/rpcs.h"
#include "convert.h"
#include "rpc.grpc.pb.h"
#include "services.h"
#include "streams.h"

namespace etcdlab::grpc_door {
namespace {

awaitable<void> grant(KvService& s, const pb::LeaseGrantRequest& req, pb::LeaseGrantResponse& out,
                      const server::Credentials& who) {
  server::Result r =
      co_await rpc::lease_grant(s, server::LeaseGrantRequest{req.id(), req.ttl()}, who);
  const auto& granted = std::get<server::LeaseGrantResult>(r.value);
  fill_header(out.mutable_header(), s, r.revision);
  out.set_id(granted.id);
  out.set_ttl(granted.ttl);
}

awaitable<void> revoke(KvService& s, const pb::LeaseRevokeRequest& req,
                       pb::LeaseRevokeResponse& out, const server::Credentials& who) {
  server::Result r = co_await rpc::lease_revoke(s, req.id(), who);
  fill_header(out.mutable_header(), s, r.revision);
}

awaitable<void> time_to_live(KvService& s, const pb::LeaseTimeToLiveRequest& req,
                             pb::LeaseTimeToLiveResponse& out, const server::Credentials& /*who*/) {
  server::LeaseTimeToLiveResult ttl = co_await rpc::lease_time_to_live(s, req.id(), req.keys());
  fill_header(out.mutable_header(), s, rpc::current_revision(s));
  out.set_id(ttl.id);
  out.set_ttl(ttl.ttl);
  out.set_grantedttl(ttl.granted_ttl);
  for (const auto& k : ttl.keys) out.add_keys(k);
}

awaitable<void> leases(KvService& s, const pb::LeaseLeasesRequest&, pb::LeaseLeasesResponse& out,
                       const server::Credentials& /*who*/) {
  fill_header(out.mutable_header(), s, rpc::current_revision(s));
  for (int64_t id : rpc::lease_leases(s)) out.add_leases()->set_id(id);
  co_return;
}

// The keep-alive stream: each request renews its lease and is answered in order ({ID, TTL};
// TTL 0 for a lease that is unknown or whose time is up). An error of the node (no leader,
// timed out) ends the stream with it, as etcd's does; so does the client's end of requests,
// once every request has been answered (etcd's leaseKeepAlive returns on EOF: status OK).
class KeepAlives : public BidiOutbox<pb::LeaseKeepAliveRequest, pb::LeaseKeepAliveResponse>,
                   public std::enable_shared_from_this<KeepAlives> {
 public:
  KeepAlives(Door& door) : BidiOutbox<pb::LeaseKeepAliveRequest, pb::LeaseKeepAliveResponse>(door), door_(door) {}
  void opened() {}
  void received(pb::LeaseKeepAliveRequest r) {
    // A client that asks faster than the leader answers gets its answers in order; past this
    // many waiting, it is asking far faster than any lease needs.
    if (waiting_.size() >= 1024) {
      end(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                       "etcdlab: too many lease keep-alives waiting on one stream"));
      return;
    }
    waiting_.push_back(r.id());
    if (!busy_) {
      busy_ = true;
      spawn_stream(door_, shared_from_this(), answer_all(shared_from_this()));
    }
  }
  void drained() {}
  void read_ended() {
    reads_ended_ = true;
    if (!busy_) end_after_queue(grpc::Status::OK);
  }
  void closed() { waiting_.clear(); }

 private:
  static awaitable<void> answer_all(std::shared_ptr<KeepAlives> self) {
    struct NotBusy {  // (also when an error ends the stream)
      KeepAlives& k;
      ~NotBusy() { k.busy_ = false; }
    } not_busy{*self};
    while (!self->waiting_.empty() && !self->ended()) {
      int64_t id = self->waiting_.front();
      self->waiting_.pop_front();
      server::LeaseKeepAliveResult r = co_await rpc::lease_keep_alive(self->door_.service(), id);
      pb::LeaseKeepAliveResponse out;
      fill_header(out.mutable_header(), self->door_.service(),
                  rpc::current_revision(self->door_.service()));
      out.set_id(r.id);
      out.set_ttl(r.ttl);
      self->send(std::move(out));
    }
    if (self->reads_ended_) self->end_after_queue(grpc::Status::OK);
  }

  Door& door_;
  std::deque<int64_t> waiting_;  // (io thread)
  bool busy_ = false;
  bool reads_ended_ = false;  // (io thread)
};

class LeaseService final : public pb::Lease::CallbackService {
 public:
  explicit LeaseService(Door& door) : door_(door) {}

  grpc::ServerUnaryReactor* LeaseGrant(grpc::CallbackServerContext* c,
                                       const pb::LeaseGrantRequest* req,
                                       pb::LeaseGrantResponse* out) override {
    return serve_unary(door_, c, out,
                       [req](auto& s, auto& o, const auto& who) { return grant(s, *req, o, who); });
  }
  grpc::ServerUnaryReactor* LeaseRevoke(grpc::CallbackServerContext* c,
                                        const pb::LeaseRevokeRequest* req,
                                        pb::LeaseRevokeResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o, const auto& who) {
      return revoke(s, *req, o, who);
    });
  }
  grpc::ServerUnaryReactor* LeaseTimeToLive(grpc::CallbackServerContext* c,
                                            const pb::LeaseTimeToLiveRequest* req,
                                            pb::LeaseTimeToLiveResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o, const auto& who) {
      return time_to_live(s, *req, o, who);
    });
  }
  grpc::ServerUnaryReactor* LeaseLeases(grpc::CallbackServerContext* c,
                                        const pb::LeaseLeasesRequest* req,
                                        pb::LeaseLeasesResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o, const auto& who) {
      return leases(s, *req, o, who);
    });
  }
  grpc::ServerBidiReactor<pb::LeaseKeepAliveRequest, pb::LeaseKeepAliveResponse>*
  LeaseKeepAlive(grpc::CallbackServerContext*) override {
    return new BidiStream<pb::LeaseKeepAliveRequest, pb::LeaseKeepAliveResponse, KeepAlives>(
        door_, std::make_shared<KeepAlives>(door_));
  }

 private:
  Door& door_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_lease_service(Door& door) {
  return std::make_unique<LeaseService>(door);
}

}  // namespace etcdlab::grpc_door
