#pragma once
// One HTTP exchange with another member's client URL: how a member hands a request it may not
// decide (a membership change) to the leader. The only runtime file that includes Beast.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <string>

#include "../gateway/http_types.h"

namespace etcdlab::runtime {

// Sends `request` to host:port and returns the answer as it came (status, content type, body).
// Throws GatewayError (Unavailable) when the member cannot be reached or does not answer in
// `timeout`. `tls`: over TLS with this context (an https:// client URL; make_client_tls from
// this member's --cert-file/--key-file/--trusted-ca-file), the leader's certificate checked
// against the host.
boost::asio::awaitable<gateway::HttpResponse> forward_http(
    boost::asio::io_context& io, std::string host, uint16_t port, gateway::HttpRequest request,
    std::chrono::milliseconds timeout,
    std::shared_ptr<boost::asio::ssl::context> tls = nullptr);

}  // namespace etcdlab::runtime
