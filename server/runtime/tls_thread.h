#pragma once
// The client port's TLS fronts (tls_pump.h) on a thread of their own. A TLS handshake costs the
// server an ECDHE exchange and a signature, plus the check of a client certificate's chain:
// on the node thread, a burst of handshakes (or a slowloris' trickle) would delay Raft's ticks
// and every other client's answer. So a connection accepted on an https:// client URL is moved
// here at once: its handshake, within the front's deadline, and then the pump of its bytes run
// on this thread. What belongs to the node thread is posted back by the front's callbacks (the
// server's adopt and on_refused post to the node's io_context). The peer port's handshakes stay
// on the node thread (docs/tls.md says why and what moving them would take).

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <thread>

#include "tls_pump.h"

namespace etcdlab::runtime {

class TlsThread {
 public:
  TlsThread();   // starts the thread
  ~TlsThread();  // stop()
  TlsThread(const TlsThread&) = delete;
  TlsThread& operator=(const TlsThread&) = delete;

  // Serves an accepted connection (of any io_context; its descriptor moves here) with `front`.
  // It counts in front->handshaking from now until its handshake has ended, either way.
  void take(boost::asio::ip::tcp::socket socket, std::shared_ptr<const TlsFront> front);
  // Stops the thread and joins it; the connections it served are closed when this object
  // goes. Idempotent.
  void stop();

 private:
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace etcdlab::runtime
