// The CN registry of TLS connections handed to gRPC (tls_peers.h).
#include "tls_peers.h"

#include <grpcpp/server_context.h>

#include <sys/stat.h>

#include <map>
#include <mutex>

namespace etcdlab::grpc_door {

namespace {

struct Entry {
  uint64_t ticket = 0;
  std::string cn;
  dev_t dev = 0;  // the socket itself: a descriptor number reused by another socket (gRPC
  ino_t ino = 0;  // closed ours before the front removed the entry) does not match
};

// The socket behind a descriptor, or false if it is not open.
bool identity(int fd, dev_t& dev, ino_t& ino) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  dev = st.st_dev;
  ino = st.st_ino;
  return true;
}

struct Registry {
  std::mutex mu;
  std::map<int, Entry> by_fd;
  uint64_t next_ticket = 0;
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

std::optional<std::string> tls_peer_user(const std::string& peer) {
  if (!peer.starts_with("fd:")) return std::nullopt;
  int fd = -1;
  try {
    size_t used = 0;
    fd = std::stoi(peer.substr(3), &used);
    if (used != peer.size() - 3) return std::nullopt;
  } catch (const std::exception&) {
    return std::nullopt;
  }
  dev_t dev = 0;
  ino_t ino = 0;
  if (!identity(fd, dev, ino)) return std::nullopt;
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  auto it = r.by_fd.find(fd);
  if (it == r.by_fd.end() || it->second.dev != dev || it->second.ino != ino) return std::nullopt;
  return it->second.cn;
}

std::optional<std::string> cert_user(const grpc::ServerContextBase& context) {
  return tls_peer_user(context.peer());
}

uint64_t register_tls_peer(int fd, std::string cn) {
  Entry e;
  e.cn = std::move(cn);
  if (!identity(fd, e.dev, e.ino)) return 0;
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  e.ticket = ++r.next_ticket;
  uint64_t ticket = e.ticket;
  r.by_fd[fd] = std::move(e);
  return ticket;
}

void unregister_tls_peer(int fd, uint64_t ticket) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  auto it = r.by_fd.find(fd);
  if (it != r.by_fd.end() && it->second.ticket == ticket) r.by_fd.erase(it);
}

}  // namespace etcdlab::grpc_door
