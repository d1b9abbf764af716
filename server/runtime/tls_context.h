#pragma once
// TLS contexts (OpenSSL through Asio) for the client port, the peer port and the clients
// (etcdlabctl): built from etcd's flags' files, TLS 1.2 or later, with the purpose checks etcd's
// Go stack makes (a certificate that serves must be fit for serverAuth, one that dials with
// client-certificate auth for clientAuth). Also what the logs and the gRPC door need from a
// finished handshake: the peer certificate's CN and OpenSSL's reason for a refusal.

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <optional>
#include <string>

#include "tls_files.h"

namespace etcdlab::runtime {

// The context of a listener. `alpn`: answer ALPN as the client port does (http/1.1 when the
// client offers it, since Beast serves HTTP/1.1 only; else h2 for gRPC). With
// `files.allowed_cn`, every client must present a certificate whose CN is that one (checked in
// the handshake, as etcd's VerifyPeerCertificate). Throws std::invalid_argument naming the file
// that cannot be used.
std::shared_ptr<boost::asio::ssl::context> make_server_tls(const TlsFiles& files, bool alpn);

// The context of a dialler: verifies the server against `trusted_ca_file` (the system's roots
// when empty) unless `insecure`; presents cert_file/key_file when given; with
// `files.allowed_cn`, refuses a server certificate of another CN. `alpn`: the protocol to offer
// ("" for none). Throws std::invalid_argument naming the file.
std::shared_ptr<boost::asio::ssl::context> make_client_tls(const TlsFiles& files, bool insecure,
                                                           const std::string& alpn);

// A dialler's check of the server's certificate against the host it dials (an address: the
// certificate's IP SANs; a name: its DNS SANs, also sent as SNI). Call before the handshake.
void expect_host(SSL* ssl, const std::string& host);

// The verified peer certificate's subject CN (nullopt: no certificate, or no CN).
std::optional<std::string> peer_common_name(SSL* ssl);

// Why a handshake failed, as OpenSSL says it: "certificate verify failed (certificate has
// expired)", "tlsv1 alert unknown ca", "wrong version number"...; a CN refused by
// allowed_cn names the CN seen.
std::string tls_failure(const boost::system::error_code& ec, SSL* ssl);

// Whether a URL asks for TLS ("https://..." or "unixs://...").
bool is_tls_url(const std::string& url);

}  // namespace etcdlab::runtime
