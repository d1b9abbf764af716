// etcdserverpb.KV over server/rpc: Range, Put, DeleteRange, Txn, Compact.
#include "../rpc/rpcs.h"
#include "convert.h"
#include "rpc.grpc.pb.h"
#include "services.h"

namespace etcdlab::grpc_door {
namespace {

awaitable<void> range(KvService& s, const pb::RangeRequest& req, pb::RangeResponse& out,
                      const server::Credentials& who) {
  // (g++ 12: no temporaries with destructors inside co_await)
  mvcc::KeyRange keys{req.key(), req.range_end()};
  mvcc::RangeOptions options = range_options(req);
  mvcc::RangeResult r = co_await rpc::range(s, std::move(keys), options, req.serializable(), who);
  fill_header(out.mutable_header(), s, r.revision);
  fill_range(&out, r);
}

awaitable<void> put(KvService& s, const pb::PutRequest& req, pb::PutResponse& out,
                    const server::Credentials& who) {
  server::PutRequest p = put_request(req);
  server::Result r = co_await rpc::put(s, std::move(p), who);
  fill_header(out.mutable_header(), s, r.revision);
  fill_put(&out, std::get<mvcc::PutResult>(r.value));
}

awaitable<void> delete_range(KvService& s, const pb::DeleteRangeRequest& req,
                             pb::DeleteRangeResponse& out, const server::Credentials& who) {
  server::DeleteRangeRequest d = delete_request(req);
  server::Result r = co_await rpc::delete_range(s, std::move(d), who);
  fill_header(out.mutable_header(), s, r.revision);
  fill_delete(&out, std::get<mvcc::DeleteResult>(r.value));
}

awaitable<void> txn(KvService& s, const pb::TxnRequest& req, pb::TxnResponse& out,
                    const server::Credentials& who) {
  server::TxnRequest t = txn_request(req);
  server::Result r = co_await rpc::txn(s, std::move(t), who);
  fill_header(out.mutable_header(), s, r.revision);
  fill_txn(&out, std::get<txn::TxnResult>(r.value));
}

awaitable<void> compact(KvService& s, const pb::CompactionRequest& req, pb::CompactionResponse& out,
                        const server::Credentials& who) {
  server::CompactionRequest c{req.revision(), req.physical()};
  server::Result r = co_await rpc::compact(s, c, who);
  fill_header(out.mutable_header(), s, r.revision);
}

class KvRpcs final : public pb::KV::CallbackService {
 public:
  explicit KvRpcs(Door& door) : door_(door) {}

  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* c, const pb::RangeRequest* req,
                                  pb::RangeResponse* out) override {
    return serve_unary(door_, c, out,
                       [req](auto& s, auto& o, const auto& who) { return range(s, *req, o, who); });
  }
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* c, const pb::PutRequest* req,
                                pb::PutResponse* out) override {
    return serve_unary(door_, c, out,
                       [req](auto& s, auto& o, const auto& who) { return put(s, *req, o, who); });
  }
  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* c,
                                        const pb::DeleteRangeRequest* req,
                                        pb::DeleteRangeResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o, const auto& who) {
      return delete_range(s, *req, o, who);
    });
  }
  grpc::ServerUnaryReactor* Txn(grpc::CallbackServerContext* c, const pb::TxnRequest* req,
                                pb::TxnResponse* out) override {
    return serve_unary(door_, c, out,
                       [req](auto& s, auto& o, const auto& who) { return txn(s, *req, o, who); });
  }
  grpc::ServerUnaryReactor* Compact(grpc::CallbackServerContext* c,
                                    const pb::CompactionRequest* req,
                                    pb::CompactionResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o, const auto& who) {
      return compact(s, *req, o, who);
    });
  }

 private:
  Door& door_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_kv_service(Door& door) {
  return std::make_unique<KvRpcs>(door);
}

}  // namespace etcdlab::grpc_door
