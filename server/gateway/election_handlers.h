#pragma once
// /v3/election/campaign|proclaim|leader|resign (etcd 3.4's v3election service over the JSON
// gateway), run as etcd's clientv3/concurrency Election runs them, against this member.
// Internal to the gateway.
#include "handler_support.h"

namespace etcdlab::gateway {

boost::asio::awaitable<HttpResponse> campaign(KvService& s, const json::object& body);
boost::asio::awaitable<HttpResponse> proclaim(KvService& s, const json::object& body);
boost::asio::awaitable<HttpResponse> leader(KvService& s, const json::object& body);
boost::asio::awaitable<HttpResponse> resign(KvService& s, const json::object& body);

}  // namespace etcdlab::gateway
