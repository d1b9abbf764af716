#pragma once
// Who is on the other end of a gRPC call that came over TLS with --client-cert-auth: the
// verified client certificate's CN, for the auth layer (etcd 3.4 takes it as the user name of
// gRPC calls that carry no token; its gateway does not).
//
// How it gets here: gRPC 1.51 adopts only plaintext descriptors, so the client port's TLS front
// (runtime/tls_pump.h) ends TLS itself and pumps the plaintext through a socketpair, one end of
// which gRPC adopts and names "fd:N" (grpc_server_add_channel_from_fd). The front registers
// that descriptor's CN here before the handoff and removes it when the connection ends; a call
// finds it through ServerContextBase::peer(). Entries remember the socket itself (device and
// inode), not only its number: gRPC may close its end, and the number be reused by a newer
// (perhaps plaintext) connection, before the front removes the entry; such a descriptor does
// not match, so a connection never inherits another's CN. A removal removes only its own entry
// (the ticket). Unregistered peers (a plaintext port, TLS without client-cert auth) have no CN.

#include <cstdint>
#include <optional>
#include <string>

namespace grpc {
class ServerContextBase;
}

namespace etcdlab::grpc_door {

// The verified client certificate's CN of this call's connection; nullopt when the call did
// not come over TLS with a verified client certificate (or it has no CN). Any thread.
std::optional<std::string> cert_user(const grpc::ServerContextBase& context);

// The same for a gRPC peer string ("fd:12"); what cert_user reads.
std::optional<std::string> tls_peer_user(const std::string& peer);

// The front's side: `fd` (about to be adopted) carries a client verified as `cn`. Returns the
// ticket to remove it with.
uint64_t register_tls_peer(int fd, std::string cn);
void unregister_tls_peer(int fd, uint64_t ticket);

}  // namespace etcdlab::grpc_door
