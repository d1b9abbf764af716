#pragma once
// /v3/lock/lock and /v3/lock/unlock (etcd 3.4's v3lock service over the JSON gateway), driving
// lab 5's LockRecipe against this member. Internal to the gateway.
#include "handler_support.h"

namespace etcdlab::gateway {

boost::asio::awaitable<HttpResponse> lock(KvService& s, const json::object& body,
                                          const Credentials& who);
boost::asio::awaitable<HttpResponse> unlock(KvService& s, const json::object& body,
                                            const Credentials& who);

}  // namespace etcdlab::gateway
