// `etcdlab-bench ceiling-server --port N`: the ceiling of the HTTP path on this machine. One
// thread, Beast coroutine sessions shaped like etcdlab's gateway (read with a deadline and a
// body limit, answer, loop on keep-alive; the same response headers), answering every request
// with a fixed put-shaped JSON body and no store behind it. The load generator run against it
// measures what HTTP/1.1 plus the load tool cost on this machine, so a server's figures can
// be read as a share of that ceiling. Stops on SIGINT or SIGTERM.
#include <fmt/format.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "../bench_command.h"

namespace etcdlab::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
// What etcd 3.4 answers to a put, ids and revision of a small cluster.
constexpr const char* kPutBody =
    "{\"header\":{\"cluster_id\":\"14841639068965178418\",\"member_id\":"
    "\"10276657743932975437\",\"revision\":\"123456\",\"raft_term\":\"2\"}}";

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
};

asio::awaitable<void> session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(4 << 20);
    stream.expires_after(std::chrono::seconds(30));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
    (void)n;
    if (ec) break;
    const auto& req = parser.get();
    bool keep_alive = req.keep_alive();
    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::server, "etcdlab-ceiling");
    res.set(http::field::content_type, "application/json");
    res.set("Grpc-Metadata-Content-Type", "application/grpc");
    res.set(http::field::access_control_allow_origin, "*");
    res.set(http::field::access_control_allow_methods, "POST, GET, OPTIONS, PUT, DELETE");
    res.set(http::field::access_control_allow_headers, "accept, content-type, authorization");
    res.keep_alive(keep_alive);
    res.body() = kPutBody;
    res.prepare_payload();
    stream.expires_after(std::chrono::seconds(30));
    auto [wec, wn] = co_await http::async_write(stream, res, kTuple);
    (void)wn;
    if (wec || !keep_alive) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept_loop(asio::io_context& io, tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) {  // out of descriptors or a transient fault: back off rather than spin
      asio::steady_timer pause(io, std::chrono::milliseconds(50));
      co_await pause.async_wait(kTuple);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    asio::co_spawn(io, session(std::move(socket)), asio::detached);
  }
}

void run(const Options& o) {
  asio::io_context io{1};
  tcp::endpoint endpoint(asio::ip::make_address(o.host), o.port);
  tcp::acceptor acceptor(io);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
  fmt::print("ceiling-server: listening on {}:{}\n", o.host, acceptor.local_endpoint().port());
  std::fflush(stdout);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const beast::error_code&, int) { io.stop(); });
  asio::co_spawn(io, accept_loop(io, acceptor), asio::detached);
  io.run();
}

}  // namespace

void add_ceiling_command(CLI::App& app) {
  auto opts = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "ceiling-server", "a one-thread HTTP server answering every request with a fixed put body");
  cmd->add_option("--host", opts->host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", opts->port, "port to listen on (0: any; printed)")->required();
  cmd->callback([opts] { run(*opts); });
}

}  // namespace etcdlab::bench
