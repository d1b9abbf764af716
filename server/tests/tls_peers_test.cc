// The TLS front's plaintext pair and the storage's descriptor reserve (runtime/tls_pump.h);
// the registry that gives gRPC calls over TLS their client certificate's CN (grpc/tls_peers.h),
// and the start errors of TLS URLs without their files (runtime/config.h).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "../grpc/tls_peers.h"
#include "../runtime/config.h"
#include "../runtime/descriptors.h"
#include "../runtime/tls_pump.h"

namespace etcdlab {
namespace {

using grpc_door::register_tls_peer;
using grpc_door::tls_peer_user;
using grpc_door::unregister_tls_peer;

struct Pair {
  int fd[2] = {-1, -1};
  Pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fd), 0); }
  ~Pair() { close(); }
  void close() {
    for (int& f : fd) {
      if (f >= 0) ::close(f);
      f = -1;
    }
  }
};

std::string peer(int fd) {
  return "fd:" + std::to_string(fd);
}

TEST(TlsPeers, ACallOnARegisteredDescriptorGetsItsCn) {
  Pair p;
  uint64_t t = register_tls_peer(p.fd[1], "alice");
  EXPECT_EQ(tls_peer_user(peer(p.fd[1])), "alice");
  EXPECT_EQ(tls_peer_user(peer(p.fd[0])), std::nullopt);  // never registered
  unregister_tls_peer(p.fd[1], t);
  EXPECT_EQ(tls_peer_user(peer(p.fd[1])), std::nullopt);
}

TEST(TlsPeers, ADescriptorNumberReusedByAnotherSocketDoesNotInheritTheCn) {
  // gRPC may close its end (and the number be reused, perhaps by a plaintext connection)
  // before the TLS front removes the entry.
  Pair first;
  int number = first.fd[1];
  uint64_t t = register_tls_peer(number, "alice");
  first.close();
  Pair second;  // the lowest free numbers again
  ASSERT_TRUE(second.fd[0] == number || second.fd[1] == number);
  EXPECT_EQ(tls_peer_user(peer(number)), std::nullopt);
  unregister_tls_peer(number, t);
}

TEST(TlsPeers, AStaleRemovalLeavesTheNewerEntry) {
  Pair p;
  uint64_t old_ticket = register_tls_peer(p.fd[1], "alice");
  uint64_t new_ticket = register_tls_peer(p.fd[1], "bob");
  unregister_tls_peer(p.fd[1], old_ticket);
  EXPECT_EQ(tls_peer_user(peer(p.fd[1])), "bob");
  unregister_tls_peer(p.fd[1], new_ticket);
}

TEST(TlsPeers, PeersThatAreNotDescriptorsHaveNoCn) {
  EXPECT_EQ(tls_peer_user("ipv4:127.0.0.1:2379"), std::nullopt);
  EXPECT_EQ(tls_peer_user("fd:"), std::nullopt);
  EXPECT_EQ(tls_peer_user("fd:12x"), std::nullopt);
}

TEST(TlsConfig, AnHttpsClientUrlWithoutCertAndKeyIsAStartErrorWithEtcdsText) {
  runtime::ServerConfig c;
  c.listen_client_urls = {"https://127.0.0.1:2379"};
  try {
    c.resolve();
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "TLS key/cert (--cert-file, --key-file) must be provided for client "
                 "url https://127.0.0.1:2379 with HTTPS scheme");
  }
}

TEST(TlsConfig, AnHttpsPeerUrlWithoutCertAndKeyIsAStartErrorWithEtcdsText) {
  runtime::ServerConfig c;
  c.listen_peer_urls = {"https://127.0.0.1:2380"};
  try {
    c.resolve();
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "cannot listen on TLS for 127.0.0.1:2380: KeyFile and CertFile are not presented");
  }
}

TEST(TlsConfig, ClientCertAuthNeedsATrustedCa) {
  runtime::ServerConfig c;
  c.client_tls = {
      .cert_file = "s.crt", .key_file = "s.key", .trusted_ca_file = "", .client_cert_auth = true};
  EXPECT_THROW(c.resolve(), std::invalid_argument);
  c.client_tls.trusted_ca_file = "ca.crt";
  EXPECT_NO_THROW(c.resolve());
}

TEST(TlsConfig, PeerCertAllowedCnNeedsTheCaTheFilesAndHttpsPeerUrls) {
  runtime::ServerConfig c;
  c.peer_tls.allowed_cn = "etcd-peer";
  EXPECT_THROW(c.resolve(), std::invalid_argument);  // no peer TLS files at all
  c.peer_tls.cert_file = "p.crt";
  c.peer_tls.key_file = "p.key";
  EXPECT_THROW(c.resolve(), std::invalid_argument);  // no CA to verify the CN's certificate
  c.peer_tls.trusted_ca_file = "ca.crt";
  EXPECT_THROW(c.resolve(), std::invalid_argument);  // the default peer URL is http://
  c.listen_peer_urls = {"https://127.0.0.1:2380"};
  EXPECT_NO_THROW(c.resolve());
}

// Review finding 2: the socketpair made after a handshake must not take descriptors from the
// storage's reserve (descriptors.h), or enough TLS clients stop the member (EMFILE on its
// next WAL segment or snapshot file).
TEST(TlsFront, APlaintextPairThatWouldReachTheStoragesReserveIsRefusedAndClosed) {
  Pair probe;  // the two numbers the next pair gets
  int highest = std::max(probe.fd[0], probe.fd[1]);
  probe.close();
  runtime::TlsFront front;
  runtime::DescriptorBudget budget{static_cast<uint64_t>(highest) + 8, 8};  // highest: reserved
  ASSERT_FALSE(budget.allows(highest));
  ASSERT_TRUE(budget.allows(highest - 1));
  front.descriptor_allowed = [budget](int fd) { return budget.allows(fd); };
  int sv[2] = {-1, -1};
  std::string why;
  EXPECT_FALSE(runtime::open_plaintext_pair(front, sv, why));
  EXPECT_EQ(why, "descriptors are kept for the storage");
  EXPECT_EQ(sv[0], -1);
  Pair again;  // both numbers were given back
  EXPECT_EQ(std::max(again.fd[0], again.fd[1]), highest);
  again.close();

  budget.limit += 1;  // now the pair fits below the reserve
  front.descriptor_allowed = [budget](int fd) { return budget.allows(fd); };
  ASSERT_TRUE(runtime::open_plaintext_pair(front, sv, why)) << why;
  EXPECT_EQ(std::max(sv[0], sv[1]), highest);
  ::close(sv[0]);
  ::close(sv[1]);
}

}  // namespace
}  // namespace etcdlab
