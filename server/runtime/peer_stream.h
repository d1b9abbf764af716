#pragma once
// A peer connection's byte stream: plain TCP, or TLS over it (https:// peer URLs). It offers
// what the transport uses of a socket (async_read_some/async_write_some, so asio::async_write
// and read_frame work unchanged, cancel, close, the descriptor), and the TLS handshake, bounded
// by a deadline. Never moved once made (the TLS layer refers to the socket).

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "tls_context.h"

namespace etcdlab::runtime {

class PeerStream {
 public:
  using executor_type = boost::asio::ip::tcp::socket::executor_type;

  explicit PeerStream(boost::asio::io_context& io) : socket_(io) {}
  explicit PeerStream(boost::asio::ip::tcp::socket s) : socket_(std::move(s)) {}
  PeerStream(const PeerStream&) = delete;
  PeerStream& operator=(const PeerStream&) = delete;

  executor_type get_executor() { return socket_.get_executor(); }
  boost::asio::ip::tcp::socket& socket() { return socket_; }
  bool is_open() const { return socket_.is_open(); }
  int native_handle() { return socket_.native_handle(); }
  void cancel(boost::system::error_code& ec) { socket_.cancel(ec); }
  void close(boost::system::error_code& ec) { socket_.close(ec); }
  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }
  auto remote_endpoint(boost::system::error_code& ec) const { return socket_.remote_endpoint(ec); }
  template <class Option>
  void set_option(const Option& o, boost::system::error_code& ec) {
    socket_.set_option(o, ec);
  }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& b, Token&& token) {
    if (tls_) return tls_->async_read_some(b, std::forward<Token>(token));
    return socket_.async_read_some(b, std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& b, Token&& token) {
    if (tls_) return tls_->async_write_some(b, std::forward<Token>(token));
    return socket_.async_write_some(b, std::forward<Token>(token));
  }

  // Turns the connected socket into a TLS stream and does the handshake (`host`: the dialled
  // host the server's certificate must name; empty on the accepting side). Empty: done;
  // otherwise why it was refused, in OpenSSL's words (the socket is then closed).
  boost::asio::awaitable<std::string> handshake(boost::asio::ssl::context& ctx, bool server,
                                                const std::string& host,
                                                std::chrono::milliseconds timeout) {
    tls_ = std::make_unique<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>>(socket_, ctx);
    if (!server) expect_host(tls_->native_handle(), host);
    auto expired = std::make_shared<bool>(false);
    boost::asio::steady_timer deadline(socket_.get_executor(), timeout);
    deadline.async_wait([this, expired](boost::system::error_code ec) {
      if (ec) return;
      *expired = true;
      socket_.cancel(ec);
    });
    auto [ec] = co_await tls_->async_handshake(
        server ? boost::asio::ssl::stream_base::server : boost::asio::ssl::stream_base::client,
        boost::asio::as_tuple(boost::asio::use_awaitable));
    deadline.cancel();
    if (!ec && !*expired) co_return std::string();
    std::string why = *expired ? std::string("the TLS handshake timed out")
                               : tls_failure(ec, tls_->native_handle());
    close();
    co_return why;
  }
  bool tls() const { return tls_ != nullptr; }

 private:
  boost::asio::ip::tcp::socket socket_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
};

}  // namespace etcdlab::runtime
