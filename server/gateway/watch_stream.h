#pragma once
// The I/O of a /v3/watch connection (Beast: include only from http_server.cc). The request body
// is read as it arrives and handed to a WatchSession while its answers are written as chunks,
// both at once, until the client closes the connection (the end of the body does not end the
// stream, as etcd's gateway) or the session ends with an error line.

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>

#include "service.h"

namespace etcdlab::gateway {

// `parser` has read the request's header; the body follows on `stream` (and in `buffer`).
boost::asio::awaitable<void> serve_watch(
    boost::beast::tcp_stream& stream, boost::beast::flat_buffer& buffer,
    boost::beast::http::request_parser<boost::beast::http::string_body>& parser,
    KvService& service, uint64_t max_request_bytes);

}  // namespace etcdlab::gateway
