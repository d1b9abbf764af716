#pragma once
// /etcdlab/failpoints and /etcdlab/failpoints/disk (served only with --enable-failpoints): the
// faults tests put on a member. Internal to the gateway.
#include "handler_support.h"

namespace etcdlab::gateway {

boost::asio::awaitable<HttpResponse> failpoints(KvService& s, const HttpRequest& request);
boost::asio::awaitable<HttpResponse> disk_failpoints(KvService& s, const HttpRequest& request);

}  // namespace etcdlab::gateway
