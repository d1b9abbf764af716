// The gRPC server of the client port (door.h): built with no listening port of its own; the
// gateway's listener hands it the connections that speak HTTP/2.
#include "door.h"

#include <absl/synchronization/mutex.h>
#include <grpcpp/server_posix.h>
#include <spdlog/spdlog.h>

#include <climits>
#include <vector>

#include "../rpc/errors.h"
#include "calls.h"
#include "services.h"

namespace etcdlab::grpc_door {

grpc::Status to_status(const server::ApiError& e) {
  return grpc::Status(static_cast<grpc::StatusCode>(static_cast<int>(e.code())), e.what());
}

grpc::Status stopped_status() {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, server::rpctypes::kStopped);
}

server::Credentials Door::credentials(const grpc::CallbackServerContext& context) const {
  server::Credentials who;
  const auto& metadata = context.client_metadata();
  for (const char* key : {"token", "authorization"}) {
    if (auto it = metadata.find(key); it != metadata.end()) {
      who.token = std::string(it->second.data(), it->second.size());
      break;
    }
  }
  // As etcd: a certificate's CN stands for the user only when no token was sent.
  if (!who.token && cert_user_lookup_) who.cert_user = cert_user_lookup_(context.peer());
  return who;
}

bool Door::open(const std::shared_ptr<Call>& call) {
  std::lock_guard lock(mu_);
  if (stopped_) return false;
  open_.emplace(call.get(), call);
  return true;
}

void Door::close(Call* call) {
  std::shared_ptr<Call> last;  // (destroyed after the lock is let go)
  std::lock_guard lock(mu_);
  if (auto it = open_.find(call); it != open_.end()) {
    last = std::move(it->second);
    open_.erase(it);
  }
}

void Door::post(std::function<void()> fn) {
  bool first;
  {
    std::lock_guard lock(posted_mu_);
    first = posted_.empty();
    posted_.push_back(std::move(fn));
  }
  if (first) boost::asio::post(io_, [this] { run_posted(); });
}

void Door::run_posted() {
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(posted_mu_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
}

void Door::stop() {
  std::vector<std::shared_ptr<Call>> calls;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    for (auto& [_, call] : open_) calls.push_back(call);
  }
  for (auto& call : calls) call->end(stopped_status());
}

struct GrpcDoor::Impl {
  Impl(boost::asio::io_context& io, gateway::KvService& service) : door(io, service) {}
  Door door;
  std::vector<std::unique_ptr<grpc::Service>> services;
  std::unique_ptr<grpc::Server> server;
};

GrpcDoor::GrpcDoor(boost::asio::io_context& io, gateway::KvService& service,
                   uint64_t max_request_bytes)
    : impl_(std::make_unique<Impl>(io, service)) {
  // Debian builds Abseil with its mutexes' lock-order graph on (a debugging aid): about 5% of
  // a busy member's CPU goes to it (bench/results/2026-12-07-vm.md). gRPC's locks are gRPC's
  // to get right.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Door& d = impl_->door;
  for (auto make :
       {make_kv_service, make_lease_service, make_watch_service, make_cluster_service,
        make_maintenance_service, make_lock_service, make_election_service, make_auth_service}) {
    impl_->services.push_back(make(d));
  }
  grpc::ServerBuilder builder;
  for (auto& s : impl_->services) builder.RegisterService(s.get());
  // As etcd's server: requests up to --max-request-bytes plus its 512 KiB of overhead,
  // answers of any size.
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min<uint64_t>(max_request_bytes + rpc::kGrpcOverheadBytes, INT_MAX)));
  builder.SetMaxSendMessageSize(INT_MAX);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server) throw std::runtime_error("grpc: the server could not start");
}

GrpcDoor::~GrpcDoor() { stop(); }

void GrpcDoor::set_cert_user_lookup(Door::CertUserLookup lookup) {
  impl_->door.set_cert_user_lookup(std::move(lookup));
}

void GrpcDoor::adopt(int fd) { grpc::AddInsecureChannelFromFd(impl_->server.get(), fd); }

void GrpcDoor::stop() {
  if (!impl_->server) return;
  impl_->door.stop();
  // Every call has been ended; what gRPC still has in flight is cancelled at once.
  impl_->server->Shutdown(std::chrono::system_clock::now());
  impl_->server.reset();
}

}  // namespace etcdlab::grpc_door
