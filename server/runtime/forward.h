#pragma once
// One HTTP exchange with another member's client URL: how a member hands a request it may not
// decide (a membership change) to the leader. The only runtime file that includes Beast.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <string>

#include "../gateway/http_types.h"

namespace etcdlab::runtime {

// Sends `request` to host:port and returns the answer as it came (status, content type, body).
// Throws GatewayError (Unavailable) when the member cannot be reached or does not answer in
// `timeout`.
boost::asio::awaitable<gateway::HttpResponse> forward_http(boost::asio::io_context& io,
                                                           std::string host, uint16_t port,
                                                           gateway::HttpRequest request,
                                                           std::chrono::milliseconds timeout);

}  // namespace etcdlab::runtime
