// etcdserverpb.KV over server/rpc: Range, Put, DeleteRange, Txn, Compact.
#include "../rpc/rpcs.h"
#include "convert.h"
#include "rpc.grpc.pb.h"
#include "services.h"

namespace etcdlab::grpc_door {
namespace {

awaitable<void> range(KvService& s, const pb::RangeRequest& req, pb::RangeResponse& out) {
  // (g++ 12: no temporaries with destructors inside co_await)
  mvcc::KeyRange keys{req.key(), req.range_end()};
  mvcc::RangeOptions options = range_options(req);
  mvcc::RangeResult r = co_await rpc::range(s, std::move(keys), options, req.serializable());
  fill_header(out.mutable_header(), s, r.revision);
  fill_range(&out, r);
}

awaitable<void> put(KvService& s, const pb::PutRequest& req, pb::PutResponse& out) {
  server::PutRequest p = put_request(req);
  server::Result r = co_await rpc::put(s, std::move(p));
  fill_header(out.mutable_header(), s, r.revision);
  fill_put(&out, std::get<mvcc::PutResult>(r.value));
}

awaitable<void> delete_range(KvService& s, const pb::DeleteRangeRequest& req,
                             pb::DeleteRangeResponse& out) {
  server::DeleteRangeRequest d = delete_request(req);
  server::Result r = co_await rpc::delete_range(s, std::move(d));
  fill_header(out.mutable_header(), s, r.revision);
  fill_delete(&out, std::get<mvcc::DeleteResult>(r.value));
}

awaitable<void> txn(KvService& s, const pb::TxnRequest& req, pb::TxnResponse& out) {
  server::TxnRequest t = txn_request(req);
  server::Result r = co_await rpc::txn(s, std::move(t));
  fill_header(out.mutable_header(), s, r.revision);
  fill_txn(&out, std::get<txn::TxnResult>(r.value));
}

awaitable<void> compact(KvService& s, const pb::CompactionRequest& req,
                        pb::CompactionResponse& out) {
  server::CompactionRequest c{req.revision(), req.physical()};
  server::Result r = co_await rpc::compact(s, c);
  fill_header(out.mutable_header(), s, r.revision);
}

class KvRpcs final : public pb::KV::CallbackService {
 public:
  explicit KvRpcs(Door& door) : door_(door) {}

  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* c, const pb::RangeRequest* req,
                                  pb::RangeResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o) { return range(s, *req, o); });
  }
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* c, const pb::PutRequest* req,
                                pb::PutResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o) { return put(s, *req, o); });
  }
  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* c,
                                        const pb::DeleteRangeRequest* req,
                                        pb::DeleteRangeResponse* out) override {
    return serve_unary(door_, c, out,
                       [req](auto& s, auto& o) { return delete_range(s, *req, o); });
  }
  grpc::ServerUnaryReactor* Txn(grpc::CallbackServerContext* c, const pb::TxnRequest* req,
                                pb::TxnResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o) { return txn(s, *req, o); });
  }
  grpc::ServerUnaryReactor* Compact(grpc::CallbackServerContext* c,
                                    const pb::CompactionRequest* req,
                                    pb::CompactionResponse* out) override {
    return serve_unary(door_, c, out, [req](auto& s, auto& o) { return compact(s, *req, o); });
  }

 private:
  Door& door_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_kv_service(Door& door) {
  return std::make_unique<KvRpcs>(door);
}

}  // namespace etcdlab::grpc_door
