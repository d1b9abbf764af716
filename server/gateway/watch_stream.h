#pragma once
// The I/O of a /v3/watch connection (Beast: include only from http_server.cc). The request body
// is read as it arrives and handed to a WatchSession while its answers are written as chunks,
// both at once, until the client closes the connection (the end of the body does not end the
// stream, as etcd's gateway). As etcd's, the answer's header goes with its first line (a body
// that asks nothing gets no answer), and a first request that cannot be read is answered with
// an error instead of a stream.
//
// The body may declare any length: it is read in pieces, never held. A client streaming
// requests to etcd 3.4's gateway over HTTP/1.1 must declare a length it never reaches (Go's
// HTTP/1 server throws away up to 256 KiB of the rest of a body once its answer starts, unless
// more than that is declared), and the same client must work here.

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
