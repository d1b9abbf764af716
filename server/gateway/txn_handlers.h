#pragma once
// /v3/kv/txn (etcd 3.4's Txn over the JSON gateway). Internal to the gateway.
#include "handler_support.h"

namespace etcdlab::gateway {

boost::asio::awaitable<HttpResponse> txn(KvService& s, const json::object& body,
                                         const Credentials& who);

// The request as the gateway reads it (etcd's jsonpb rules: proto names or lowerCamel, a
// oneof's fields by field number when several are given). Throws GatewayError.
server::TxnRequest parse_txn(const json::object& body);
// The response after its header: succeeded (left out when false), then the sub-responses.
void add_txn_fields(json::object& out, const txn::TxnResult& r);

}  // namespace etcdlab::gateway
