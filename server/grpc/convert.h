#pragma once
// Between etcd's protobuf messages and the types of server/rpc (the node's, the store's, lab
// 5's txn): what the gRPC services read from a request and write into a response. The JSON
// door's json_fields.h and handlers do the same for JSON.

#include "../gateway/service.h"
#include "etcdlab/txn/txn.h"
#include "kv.pb.h"
#include "rpc.pb.h"

namespace etcdlab::grpc_door {

namespace pb = etcdserverpb;

void fill_header(pb::ResponseHeader* h, gateway::KvService& s, int64_t revision);
void fill_kv(mvccpb::KeyValue* out, const mvcc::KeyValue& kv);
void fill_event(mvccpb::Event* out, const mvcc::Event& e);

mvcc::RangeOptions range_options(const pb::RangeRequest& r);
server::PutRequest put_request(const pb::PutRequest& r);
server::DeleteRangeRequest delete_request(const pb::DeleteRangeRequest& r);
// A txn, nested ones included (deeper than etcd's validation could accept is refused here,
// which keeps the recursion short on hostile input). Throws ApiError.
server::TxnRequest txn_request(const pb::TxnRequest& r);

void fill_range(pb::RangeResponse* out, const mvcc::RangeResult& r);
void fill_put(pb::PutResponse* out, const mvcc::PutResult& r);
void fill_delete(pb::DeleteRangeResponse* out, const mvcc::DeleteResult& r);
// A txn's answer below its header (succeeded, responses, nested ones with their headers as
// etcd fills them).
void fill_txn(pb::TxnResponse* out, const txn::TxnResult& r);

void fill_member(pb::Member* out, const server::Member& m);

}  // namespace etcdlab::grpc_door
