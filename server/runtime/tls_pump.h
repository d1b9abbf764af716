#pragma once
// The TLS front of an https:// client URL. gRPC 1.51 adopts only plaintext descriptors
// (grpc_server_add_channel_from_fd refuses any other credentials), so this front ends TLS
// itself: it refuses plaintext (answering an HTTP request as Go's server does, with 400
// "Client sent an HTTP request to an HTTPS server."), does the handshake (deadline, TLS 1.2+,
// client certificates with --client-cert-auth, ALPN: http/1.1 when offered, else h2), then
// pumps the plaintext both ways through a socketpair whose other end goes where a plaintext
// connection goes (the gateway's listener, which sends HTTP/2 to gRPC and HTTP/1.1 to Beast).
// With a verified client certificate its CN is registered for that end's descriptor
// (grpc/tls_peers.h) while the connection lasts. Every refusal logs one line naming OpenSSL's
// reason. Cost: one more copy of every byte each way (the benchmark shows it).

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace etcdlab::runtime {

// The callbacks are called on the thread that serves the connection (tls_thread.h: not the
// node's), so they must post what belongs to the node thread.
struct TlsFront {
  std::shared_ptr<boost::asio::ssl::context> context;  // make_server_tls(files, alpn = true)
  std::chrono::milliseconds handshake_timeout{5000};
  bool client_cert_auth = false;      // register verified CNs for the gRPC door
  std::function<void(int fd)> adopt;  // the plaintext end: served as an accepted connection
  // Whether a connection may keep descriptor `fd` (DescriptorBudget::allows; unset: yes), and
  // what counts a refusal (the client_connections_refused metric).
  std::function<bool(int fd)> descriptor_allowed;
  std::function<void()> on_refused;
  // Connections taken and not yet through their handshake (each ends by its deadline at the
  // latest). The client port counts them against --max-client-connections, so connections
  // that never handshake cannot take more than the limit. Atomic: it is read on the node
  // thread while the front's thread changes it; mutable: the front is shared const.
  mutable std::atomic<uint64_t> handshaking{0};
};

// The socketpair that carries a handshaken connection's plaintext: opened, and kept only if
// neither end is in the storage's descriptor reserve (descriptors.h). The accept was checked
// before the handshake, but many connections can pass that check together and then each take
// two more descriptors here: without this check about 32 TLS clients would empty the reserve,
// and the storage's next file would fail with EMFILE and stop the member. Returns false (both
// ends closed, `why` set) if refused or if socketpair failed.
bool open_plaintext_pair(const TlsFront& front, int (&sv)[2], std::string& why);

// Serves one accepted connection of a TLS client port until either side closes it. The caller
// counted it in front->handshaking; this uncounts it when the handshake ends (either way).
boost::asio::awaitable<void> serve_tls_client(boost::asio::ip::tcp::socket socket,
                                              std::shared_ptr<const TlsFront> front);

}  // namespace etcdlab::runtime
