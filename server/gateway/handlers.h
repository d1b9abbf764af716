#pragma once
// The gateway's request handlers: one function per path, over KvService. handle() routes by
// method and path and turns every error into etcd's error body; it never throws.

#include <boost/asio/awaitable.hpp>

#include "http_types.h"
#include "service.h"

namespace etcdlab::gateway {

boost::asio::awaitable<HttpResponse> handle(KvService& service, HttpRequest request);

}  // namespace etcdlab::gateway
