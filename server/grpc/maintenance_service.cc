// etcdserverpb.Maintenance over server/rpc: Alarm, Status, Defragment, Hash, HashKV,
// MoveLeader, the Snapshot stream.
#include "../rpc/rpcs.h"
#include "convert.h"
#include "rpc.grpc.pb.h"
#include "services.h"
#include "streams.h"

namespace etcdlab::grpc_door {
namespace {

awaitable<void> alarm(KvService& s, const pb::AlarmRequest& req, pb::AlarmResponse& out,
                      const server::Credentials& who) {
  std::vector<server::Alarm> alarms =
      co_await rpc::alarm(s, req.action(), req.memberid(), req.alarm(), who);
  // (no header: etcd's Alarm answer is the applier's, which fills none)
  for (const auto& a : alarms) {
    pb::AlarmMember* m = out.add_alarms();
    m->set_memberid(a.member);
    m->set_alarm(static_cast<pb::AlarmType>(a.type));
  }
}

awaitable<void> status(KvService& s, const pb::StatusRequest&, pb::StatusResponse& out,
                       const server::Credentials& /*who*/) {
  gateway::ServerStatus st = rpc::status(s);
  fill_header(out.mutable_header(), s, rpc::current_revision(s));
  out.set_version(st.version);
  out.set_dbsize(static_cast<int64_t>(st.db_size));
  out.set_leader(st.leader);
  out.set_raftindex(st.raft_index);
  out.set_raftterm(st.raft_term);
  out.set_raftappliedindex(st.raft_applied_index);
  for (const auto& e : st.errors) out.add_errors(e);
  out.set_dbsizeinuse(static_cast<int64_t>(st.db_size_in_use));
  out.set_islearner(st.is_learner);
  co_return;
}

awaitable<void> defragment(KvService& s, const pb::DefragmentRequest&, pb::DefragmentResponse&,
                           const server::Credentials& who) {
  co_await rpc::defragment(s, who);  // (no header, as etcd's)
  co_return;
}

awaitable<void> hash(KvService& s, const pb::HashRequest&, pb::HashResponse& out,
                     const server::Credentials& who) {
  fill_header(out.mutable_header(), s, rpc::current_revision(s));
  out.set_hash(rpc::hash(s, who));
  co_return;
}

awaitable<void> hash_kv(KvService& s, const pb::HashKVRequest& req, pb::HashKVResponse& out,
                        const server::Credentials& who) {
  rpc::KvHash h = rpc::hash_kv(s, req.revision(), who);
  fill_header(out.mutable_header(), s, h.revision);
  out.set_hash(h.hash);
  out.set_compact_revision(h.compact_revision);
  co_return;
}

awaitable<void> move_leader(KvService& s, const pb::MoveLeaderRequest& req, pb::MoveLeaderResponse&,
                            const server::Credentials& /*who*/) {
  co_await rpc::move_leader(s, req.targetid());  // (no header, as etcd's)
}

// The database in pieces of 32 KiB, then its SHA-256, each written before the next is read.
class SnapshotStream : public WriteOutbox<pb::SnapshotResponse>,
                       public std::enable_shared_from_this<SnapshotStream> {
 public:
  SnapshotStream(Door& door, server::Credentials who)
      : WriteOutbox<pb::SnapshotResponse>(door), door_(door), who_(std::move(who)) {}
  void opened() { spawn_stream(door_, shared_from_this(), open(shared_from_this())); }
  void drained() { next(); }
  void closed() { reader_.reset(); }

 private:
  static awaitable<void> open(std::shared_ptr<SnapshotStream> self) {
    self->reader_ = co_await rpc::snapshot(self->door_.service(), self->who_);
    self->next();
  }
  void next() {
    if (!reader_ || ended()) return;
    try {
      std::optional<rpc::SnapshotReader::Piece> piece = reader_->next(32 * 1024);
      if (!piece) {
        reader_.reset();
        end(grpc::Status::OK);
        return;
      }
      pb::SnapshotResponse out;
      fill_header(out.mutable_header(), door_.service(), rpc::current_revision(door_.service()));
      out.set_remaining_bytes(piece->remaining_bytes);
      out.set_blob(std::move(piece->blob));
      send(std::move(out));
    } catch (const std::exception& e) {
      reader_.reset();
      end(grpc::Status(grpc::StatusCode::UNKNOWN, e.what()));
    }
  }

  Door& door_;
  const server::Credentials who_;
  std::unique_ptr<rpc::SnapshotReader> reader_;  // (io thread)
};

class MaintenanceService final : public pb::Maintenance::CallbackService {
 public:
  explicit MaintenanceService(Door& door) : door_(door) {}

  grpc::ServerUnaryReactor* Alarm(grpc::CallbackServerContext* c, const pb::AlarmRequest* req,
                                  pb::AlarmResponse* out) override {
    return serve_unary(door_, c, out,
                       [req](auto& s, auto& o, const auto& who) { return alarm(s, *req, o, who); });
  }
  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* c, const pb::StatusRequest* req,
                                   pb::StatusResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o, const auto& who) {
      return status(s, *req, o, who);
    });
  }
  grpc::ServerUnaryReactor* Defragment(grpc::CallbackServerContext* c,
                                       const pb::DefragmentRequest* req,
                                       pb::DefragmentResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o, const auto& who) {
      return defragment(s, *req, o, who);
    });
  }
  grpc::ServerUnaryReactor* Hash(grpc::CallbackServerContext* c, const pb::HashRequest* req,
                                 pb::HashResponse* out) override {
    return serve_unary(door_, c, out,
                       [req](auto& s, auto& o, const auto& who) { return hash(s, *req, o, who); });
  }
  grpc::ServerUnaryReactor* HashKV(grpc::CallbackServerContext* c, const pb::HashKVRequest* req,
                                   pb::HashKVResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o, const auto& who) {
      return hash_kv(s, *req, o, who);
    });
  }
  grpc::ServerUnaryReactor* MoveLeader(grpc::CallbackServerContext* c,
                                       const pb::MoveLeaderRequest* req,
                                       pb::MoveLeaderResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o, const auto& who) {
      return move_leader(s, *req, o, who);
    });
  }
  grpc::ServerWriteReactor<pb::SnapshotResponse>* Snapshot(grpc::CallbackServerContext* c,
                                                           const pb::SnapshotRequest*) override {
    return new WriteStream<pb::SnapshotResponse, SnapshotStream>(
        door_, std::make_shared<SnapshotStream>(door_, door_.credentials(*c)));
  }

 private:
  Door& door_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_maintenance_service(Door& door) {
  return std::make_unique<MaintenanceService>(door);
}

}  // namespace etcdlab::grpc_door
