// The TLS fronts' thread (tls_thread.h).
#include "tls_thread.h"

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

namespace etcdlab::runtime {

namespace asio = boost::asio;
using asio::ip::tcp;

TlsThread::TlsThread() : work_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}

TlsThread::~TlsThread() {
  stop();
}

void TlsThread::take(tcp::socket socket, std::shared_ptr<const TlsFront> front) {
  // Counted before it leaves the accepting thread: the next accept already sees it.
  front->handshaking.fetch_add(1);
  boost::system::error_code ec;
  tcp protocol = socket.local_endpoint(ec).protocol();
  int fd = ec ? -1 : socket.release(ec);
  if (ec || fd < 0) {
    front->handshaking.fetch_sub(1);
    return;  // (gone already: the socket closes as it goes)
  }
  asio::post(io_, [this, fd, protocol, front = std::move(front)]() mutable {
    tcp::socket mine(io_);
    boost::system::error_code aec;
    mine.assign(protocol, fd, aec);
    if (aec) {
      ::close(fd);
      front->handshaking.fetch_sub(1);
      return;
    }
    asio::co_spawn(io_, serve_tls_client(std::move(mine), std::move(front)), asio::detached);
  });
}

void TlsThread::stop() {
  if (!thread_.joinable()) return;
  work_.reset();
  io_.stop();
  thread_.join();
}

}  // namespace etcdlab::runtime
