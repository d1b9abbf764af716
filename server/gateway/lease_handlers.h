#pragma once
// The gateway's lease paths (etcd 3.4: /v3/lease/grant, revoke, keepalive, timetolive,
// leases, with /v3/kv/lease/ aliases for revoke, timetolive and leases).

#include <string>

#include "handler_support.h"

namespace etcdlab::gateway {

boost::asio::awaitable<HttpResponse> lease_grant(KvService& s, const json::object& body,
                                                 const Credentials& who);
boost::asio::awaitable<HttpResponse> lease_revoke(KvService& s, const json::object& body,
                                                  const Credentials& who);
boost::asio::awaitable<HttpResponse> lease_time_to_live(KvService& s, const json::object& body,
                                                        const Credentials& who);
boost::asio::awaitable<HttpResponse> lease_leases(KvService& s, const json::object& body,
                                                  const Credentials& who);
// A stream: the body holds one or more {"ID": ...} objects; each gets one line
// {"result":{header, ID, TTL}} (no TTL when the lease is unknown or expired). A malformed first
// request is a 500 before the stream; a malformed later one ends it after the answers so far;
// a failed keep-alive ends it with stream_error() (errors.h), whose status it is if first.
boost::asio::awaitable<HttpResponse> lease_keep_alive(KvService& s, std::string body);

}  // namespace etcdlab::gateway
