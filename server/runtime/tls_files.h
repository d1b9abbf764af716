#pragma once
// One side's TLS files, as etcd's flags name them (config.h holds two: the client port's and
// the peer port's). Contexts are built from them in tls_context.h.

#include <string>

namespace etcdlab::runtime {

struct TlsFiles {
  std::string cert_file;          // --cert-file / --peer-cert-file
  std::string key_file;           // --key-file / --peer-key-file
  std::string trusted_ca_file;    // --trusted-ca-file / --peer-trusted-ca-file
  bool client_cert_auth = false;  // --client-cert-auth / --peer-client-cert-auth: every client
                                  // must present a certificate chaining to trusted_ca_file
  // --peer-cert-allowed-cn: the only subject CN the other side's certificate may carry, in
  // both directions as etcd checks it (a dialling peer's client certificate, and the server
  // certificate of a peer this member dials); empty: any CN. Peer side only.
  std::string allowed_cn = {};
  bool empty() const { return cert_file.empty() && key_file.empty(); }
};

}  // namespace etcdlab::runtime
