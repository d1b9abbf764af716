#pragma once
// /v3/election/campaign|proclaim|leader|resign|observe (etcd 3.4's v3election service over the JSON
// gateway), run as etcd's clientv3/concurrency Election runs them, against this member.
// Internal to the gateway.
#include "handler_support.h"

namespace etcdlab::gateway {

boost::asio::awaitable<HttpResponse> campaign(KvService& s, const json::object& body,
                                              const Credentials& who);
boost::asio::awaitable<HttpResponse> proclaim(KvService& s, const json::object& body,
                                              const Credentials& who);
boost::asio::awaitable<HttpResponse> leader(KvService& s, const json::object& body,
                                            const Credentials& who);
boost::asio::awaitable<HttpResponse> resign(KvService& s, const json::object& body,
                                            const Credentials& who);
// A stream of the leader's key-value, one line per change: {"result": {"header", "kv"}}.
boost::asio::awaitable<HttpResponse> observe(KvService& s, const json::object& body,
                                             const Credentials& who);

}  // namespace etcdlab::gateway
