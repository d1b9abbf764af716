// v3lockpb.Lock and v3electionpb.Election over server/rpc/recipes.h.
#include "../rpc/recipes.h"
#include "convert.h"
#include "services.h"
#include "streams.h"
#include "v3election.grpc.pb.h"
#include "v3lock.grpc.pb.h"

namespace etcdlab::grpc_door {
namespace {

namespace lockpb = v3lockpb;
namespace electionpb = v3electionpb;

awaitable<void> lock(KvService& s, const lockpb::LockRequest& req, lockpb::LockResponse& out,
                     const server::Credentials& who) {
  std::string name = req.name();  // (g++ 12: no temporaries with destructors inside co_await)
  rpc::LockResult held = co_await rpc::lock(s, std::move(name), req.lease(), who);
  fill_header(out.mutable_header(), s, held.revision);
  out.set_key(held.key);
}

awaitable<void> unlock(KvService& s, const lockpb::UnlockRequest& req, lockpb::UnlockResponse& out,
                       const server::Credentials& who) {
  std::string key = req.key();
  int64_t revision = co_await rpc::unlock(s, std::move(key), who);
  fill_header(out.mutable_header(), s, revision);
}

std::optional<rpc::LeaderKey> leader_key(const electionpb::LeaderKey* l) {
  if (l == nullptr) return std::nullopt;
  return rpc::LeaderKey{l->name(), l->key(), l->rev(), l->lease()};
}

awaitable<void> campaign(KvService& s, const electionpb::CampaignRequest& req,
                         electionpb::CampaignResponse& out, const server::Credentials& who) {
  std::string name = req.name();
  std::string value = req.value();
  rpc::CampaignResult won =
      co_await rpc::campaign(s, std::move(name), req.lease(), std::move(value), who);
  fill_header(out.mutable_header(), s, won.revision);
  electionpb::LeaderKey* l = out.mutable_leader();
  l->set_name(won.leader.name);
  l->set_key(won.leader.key);
  l->set_rev(won.leader.rev);
  l->set_lease(won.leader.lease);
}

awaitable<void> proclaim(KvService& s, const electionpb::ProclaimRequest& req,
                         electionpb::ProclaimResponse& out, const server::Credentials& who) {
  std::optional<rpc::LeaderKey> l = leader_key(req.has_leader() ? &req.leader() : nullptr);
  std::string value = req.value();
  int64_t revision = co_await rpc::proclaim(s, std::move(l), std::move(value), who);
  fill_header(out.mutable_header(), s, revision);
}

awaitable<void> leader(KvService& s, const electionpb::LeaderRequest& req,
                       electionpb::LeaderResponse& out, const server::Credentials& who) {
  std::string name = req.name();
  rpc::LeaderResult r = co_await rpc::leader(s, std::move(name), who);
  fill_header(out.mutable_header(), s, r.revision);
  fill_kv(out.mutable_kv(), r.kv);
}

awaitable<void> resign(KvService& s, const electionpb::ResignRequest& req,
                       electionpb::ResignResponse& out, const server::Credentials& who) {
  std::optional<rpc::LeaderKey> l = leader_key(req.has_leader() ? &req.leader() : nullptr);
  int64_t revision = co_await rpc::resign(s, std::move(l), who);
  fill_header(out.mutable_header(), s, revision);
}

// Observe: the leader, then each change of it, as rpc::Observer finds them; one at a time,
// each sent before the next is looked for.
class Observation : public WriteOutbox<electionpb::LeaderResponse>,
                    public std::enable_shared_from_this<Observation> {
 public:
  Observation(Door& door, std::string name, server::Credentials who)
      : WriteOutbox<electionpb::LeaderResponse>(door),
        door_(door),
        observer_(door.service(), std::move(name), std::move(who)) {}
  void opened() { spawn_stream(door_, shared_from_this(), follow(shared_from_this())); }
  void drained() {}
  void closed() {}

 private:
  static awaitable<void> follow(std::shared_ptr<Observation> self) {
    while (!self->ended()) {
      rpc::LeaderResult r = co_await self->observer_.next();
      electionpb::LeaderResponse out;
      fill_header(out.mutable_header(), self->door_.service(), r.revision);
      fill_kv(out.mutable_kv(), r.kv);
      self->send(std::move(out));
    }
  }

  Door& door_;
  rpc::Observer observer_;
};

class LockService final : public lockpb::Lock::CallbackService {
 public:
  explicit LockService(Door& door) : door_(door) {}
  grpc::ServerUnaryReactor* Lock(grpc::CallbackServerContext* c, const lockpb::LockRequest* req,
                                 lockpb::LockResponse* out) override {
    return serve_unary(door_, c, out,
                       [req](auto& s, auto& o, const auto& who) { return lock(s, *req, o, who); });
  }
  grpc::ServerUnaryReactor* Unlock(grpc::CallbackServerContext* c,
                                   const lockpb::UnlockRequest* req,
                                   lockpb::UnlockResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o, const auto& who) {
      return unlock(s, *req, o, who);
    });
  }

 private:
  Door& door_;
};

class ElectionService final : public electionpb::Election::CallbackService {
 public:
  explicit ElectionService(Door& door) : door_(door) {}
  grpc::ServerUnaryReactor* Campaign(grpc::CallbackServerContext* c,
                                     const electionpb::CampaignRequest* req,
                                     electionpb::CampaignResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o, const auto& who) {
      return campaign(s, *req, o, who);
    });
  }
  grpc::ServerUnaryReactor* Proclaim(grpc::CallbackServerContext* c,
                                     const electionpb::ProclaimRequest* req,
                                     electionpb::ProclaimResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o, const auto& who) {
      return proclaim(s, *req, o, who);
    });
  }
  grpc::ServerUnaryReactor* Leader(grpc::CallbackServerContext* c,
                                   const electionpb::LeaderRequest* req,
                                   electionpb::LeaderResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o, const auto& who) {
      return leader(s, *req, o, who);
    });
  }
  grpc::ServerUnaryReactor* Resign(grpc::CallbackServerContext* c,
                                   const electionpb::ResignRequest* req,
                                   electionpb::ResignResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o, const auto& who) {
      return resign(s, *req, o, who);
    });
  }
  grpc::ServerWriteReactor<electionpb::LeaderResponse>* Observe(
      grpc::CallbackServerContext* c, const electionpb::LeaderRequest* req) override {
    return new WriteStream<electionpb::LeaderResponse, Observation>(
        door_, std::make_shared<Observation>(door_, req->name(), door_.credentials(*c)));
  }

 private:
  Door& door_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_lock_service(Door& door) {
  return std::make_unique<LockService>(door);
}
std::unique_ptr<grpc::Service> make_election_service(Door& door) {
  return std::make_unique<ElectionService>(door);
}

}  // namespace etcdlab::grpc_door
