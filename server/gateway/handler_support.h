#pragma once
// What every group of the gateway's handlers shares (handlers.cc: KV, cluster, maintenance;
// lease_handlers.cc: leases): etcd's errors for results, the response header, key-values, and
// a 200 answer. Internal to the gateway.

#include <string>

#include "../rpc/errors.h"
#include "json_fields.h"
#include "service.h"

namespace etcdlab::gateway {

// The error etcd answers for a failed result (store, lessor or node): server/rpc/errors.h.
using rpc::check;
using rpc::lease_error;
using rpc::store_error;
using server::Credentials;

std::string require_key(const json::object& body);  // a non-empty "key", else etcd's 400

json::object header(KvService& s, int64_t revision, bool with_revision = true);
json::object kv_json(const mvcc::KeyValue& kv);

// A range request's options, as /v3/kv/range and a txn's request_range read them.
mvcc::RangeOptions range_options(const json::object& body);
// The fields of a response after its header, as /v3/kv/range|put|deleterange and a txn's
// sub-responses write them.
void add_range_fields(json::object& out, const mvcc::RangeResult& r);
void add_put_fields(json::object& out, const mvcc::PutResult& r);
void add_delete_fields(json::object& out, const mvcc::DeleteResult& r);

HttpResponse ok(const json::object& body);
// A text/plain answer (404s, 405s, /version's neighbours), as etcd's gateway writes them.
HttpResponse plain(int status, std::string body);

// A handler of one POST path: the service, the request body as one JSON object, and who sent
// it (the Authorization header's token).
using Handler = boost::asio::awaitable<HttpResponse> (*)(KvService&, const json::object&,
                                                         const Credentials&);

}  // namespace etcdlab::gateway
