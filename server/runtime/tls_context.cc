// TLS contexts from etcd's flags' files (tls_context.h).
#include "tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <stdexcept>

namespace etcdlab::runtime {

namespace ssl = boost::asio::ssl;

namespace {

constexpr unsigned char kSessionContext[] = "etcdlab";

std::shared_ptr<ssl::context> base(ssl::context::method method) {
  auto ctx = std::make_shared<ssl::context>(method);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  // As etcd (Go's crypto/tls with etcd's MinVersion): TLS 1.2 and 1.3 only.
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  return ctx;
}

void fail(const std::string& what, const std::string& file, const boost::system::error_code& ec) {
  throw std::invalid_argument(what + " " + file + ": " + ec.message());
}

void load_pair(ssl::context& ctx, const TlsFiles& f) {
  boost::system::error_code ec;
  if (f.cert_file.empty() != f.key_file.empty()) {
    throw std::invalid_argument("a certificate needs both its cert file and its key file");
  }
  if (f.cert_file.empty()) return;
  if (ctx.use_certificate_chain_file(f.cert_file, ec)) fail("cert file", f.cert_file, ec);
  if (ctx.use_private_key_file(f.key_file, ssl::context::pem, ec)) fail("key file", f.key_file, ec);
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    throw std::invalid_argument("key file " + f.key_file + " does not match cert file " +
                                f.cert_file);
  }
}

// The subject CN of a certificate (nullopt: none).
std::optional<std::string> common_name(X509* cert) {
  std::optional<std::string> cn;
  X509_NAME* subject = X509_get_subject_name(cert);
  int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (at >= 0) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, data);
    if (n >= 0) cn = std::string(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
    OPENSSL_free(utf8);
  }
  return cn;
}

// Why an allowed-CN check refused, naming the CN seen, kept on the SSL object for
// tls_failure's line (freed with the SSL object).
void free_refused_cn(void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  delete static_cast<std::string*>(ptr);
}
int refused_cn_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, free_refused_cn);
  return index;
}

// --peer-cert-allowed-cn: once the chain verified, the other side's own certificate (depth 0)
// must carry exactly that CN, else the handshake fails with a bad-certificate alert, as etcd's
// VerifyPeerCertificate refuses it.
void require_cn(ssl::context& ctx, const std::string& allowed) {
  refused_cn_index();  // (made once, before any handshake)
  ctx.set_verify_callback([allowed](bool preverified, ssl::verify_context& vc) {
    X509_STORE_CTX* store = vc.native_handle();
    if (!preverified || X509_STORE_CTX_get_error_depth(store) != 0) return preverified;
    std::optional<std::string> cn = common_name(X509_STORE_CTX_get_current_cert(store));
    if (cn == allowed) return true;
    auto* ssl =
        static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    if (ssl != nullptr) {
      delete static_cast<std::string*>(SSL_get_ex_data(ssl, refused_cn_index()));
      std::string seen = cn ? "certificate CN \"" + *cn + "\"" : "a certificate without a CN";
      SSL_set_ex_data(ssl, refused_cn_index(),
                      new std::string(seen + " is not the allowed \"" + allowed +
                                      "\" (--peer-cert-allowed-cn)"));
    }
    X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return false;
  });
}

void load_ca(ssl::context& ctx, const std::string& ca) {
  boost::system::error_code ec;
  if (ctx.load_verify_file(ca, ec)) fail("trusted CA file", ca, ec);
}

// The client port's ALPN answer: http/1.1 if offered (curl offers h2 first, but Beast speaks
// HTTP/1.1 only), else h2 (grpc-go, gRPC C++ and grpc-js offer h2 alone); nothing in common:
// no ALPN, and the first bytes decide, as on a plaintext port.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  static constexpr unsigned char kHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  static constexpr unsigned char kH2[] = {2, 'h', '2'};
  for (const unsigned char* want : {kHttp11, kH2}) {
    for (unsigned int at = 0; at < inlen; at += 1u + in[at]) {
      if (in[at] == want[0] && at + 1u + in[at] <= inlen &&
          std::equal(want + 1, want + 1 + want[0], in + at + 1)) {
        *out = in + at + 1;
        *outlen = in[at];
        return SSL_TLSEXT_ERR_OK;
      }
    }
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

std::shared_ptr<ssl::context> make_server_tls(const TlsFiles& files, bool alpn) {
  if (files.cert_file.empty() || files.key_file.empty()) {
    throw std::invalid_argument("a TLS listener needs a cert file and a key file");
  }
  auto ctx = base(ssl::context::tls_server);
  load_pair(*ctx, files);
  if (!files.trusted_ca_file.empty()) load_ca(*ctx, files.trusted_ca_file);
  // (An allowed CN is a client certificate check: it asks for one, as --peer-client-cert-auth.)
  if (files.client_cert_auth || !files.allowed_cn.empty()) {
    if (files.trusted_ca_file.empty()) {
      throw std::invalid_argument("client certificate auth needs a trusted CA file");
    }
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    // The client's certificate must be fit for clientAuth (a server-only one is refused).
    SSL_CTX_set_purpose(ctx->native_handle(), X509_PURPOSE_SSL_CLIENT);
    // Tells clients which CA's certificate to present.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.trusted_ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(ctx->native_handle(), names);
    }
  }
  if (!files.allowed_cn.empty()) require_cn(*ctx, files.allowed_cn);
  SSL_CTX_set_session_id_context(ctx->native_handle(), kSessionContext,
                                 sizeof(kSessionContext) - 1);
  if (alpn) SSL_CTX_set_alpn_select_cb(ctx->native_handle(), select_alpn, nullptr);
  return ctx;
}

std::shared_ptr<ssl::context> make_client_tls(const TlsFiles& files, bool insecure,
                                              const std::string& alpn) {
  auto ctx = base(ssl::context::tls_client);
  load_pair(*ctx, files);
  if (insecure) {
    ctx->set_verify_mode(ssl::verify_none);
  } else {
    if (files.trusted_ca_file.empty()) {
      ctx->set_default_verify_paths();
    } else {
      load_ca(*ctx, files.trusted_ca_file);
    }
    ctx->set_verify_mode(ssl::verify_peer);
    // The server's certificate must be fit for serverAuth (a client-only one cannot serve).
    SSL_CTX_set_purpose(ctx->native_handle(), X509_PURPOSE_SSL_SERVER);
    if (!files.allowed_cn.empty()) require_cn(*ctx, files.allowed_cn);
  }
  if (!alpn.empty()) {
    std::string wire(1, static_cast<char>(alpn.size()));
    wire += alpn;
    SSL_CTX_set_alpn_protos(ctx->native_handle(),
                            reinterpret_cast<const unsigned char*>(wire.data()),
                            static_cast<unsigned int>(wire.size()));
  }
  return ctx;
}

void expect_host(SSL* ssl, const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  // An address is matched against the certificate's IP SANs, a name against its DNS SANs (and
  // sent as SNI).
  if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1) return;
  SSL_set_tlsext_host_name(ssl, host.c_str());
  X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
}

std::optional<std::string> peer_common_name(SSL* ssl) {
  if (ssl == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return std::nullopt;
  std::optional<std::string> cn = common_name(cert);
  X509_free(cert);
  return cn;
}

std::string tls_failure(const boost::system::error_code& ec, SSL* ssl) {
  if (ssl != nullptr) {
    long v = SSL_get_verify_result(ssl);
    if (v == X509_V_ERR_APPLICATION_VERIFICATION) {
      if (auto* why = static_cast<std::string*>(SSL_get_ex_data(ssl, refused_cn_index()))) {
        return *why;
      }
    }
    if (v != X509_V_OK) {
      return std::string("certificate verify failed (") + X509_verify_cert_error_string(v) + ")";
    }
  }
  if (ec == boost::asio::ssl::error::stream_truncated || ec == boost::asio::error::eof) {
    return "the other side closed the connection during the handshake";
  }
  if (ec == boost::asio::error::operation_aborted) return "the handshake timed out";
  if (ec.category() == boost::asio::error::get_ssl_category()) {
    const char* reason = ERR_reason_error_string(static_cast<unsigned long>(ec.value()));
    if (reason != nullptr) return reason;
  }
  return ec.message();
}

bool is_tls_url(const std::string& url) {
  return url.starts_with("https://") || url.starts_with("unixs://");
}

}  // namespace etcdlab::runtime
