// The defaults of KvService's operations: a service that does not offer one answers 501, as a
// gRPC server answers a method it does not implement.
#include "service.h"

#include "errors.h"

namespace etcdlab::gateway {

namespace {
[[noreturn]] void unimplemented(const char* what) {
  throw GatewayError(GrpcCode::kUnimplemented, std::string("etcdlab: ") + what + " is not served");
}
}  // namespace

boost::asio::awaitable<HttpResponse> KvService::forward_to_leader(HttpRequest) {
  unimplemented("forwarding to the leader");
  co_return HttpResponse{};
}

boost::asio::awaitable<server::Member> KvService::change_member(MemberRequest) {
  unimplemented("membership change");
  co_return server::Member{};
}

boost::asio::awaitable<std::vector<server::Alarm>> KvService::change_alarm(bool, server::Alarm) {
  unimplemented("alarm change");
  co_return std::vector<server::Alarm>{};
}

boost::asio::awaitable<void> KvService::defragment() {
  unimplemented("defragment");
  co_return;
}

boost::asio::awaitable<void> KvService::move_leader(uint64_t) {
  unimplemented("leader transfer");
  co_return;
}

boost::asio::awaitable<server::LeaseKeepAliveResult> KvService::lease_keep_alive(int64_t) {
  unimplemented("lease keep-alive");
  co_return server::LeaseKeepAliveResult{};
}

boost::asio::awaitable<server::LeaseTimeToLiveResult> KvService::lease_time_to_live(int64_t,
                                                                                    bool) {
  unimplemented("lease time-to-live");
  co_return server::LeaseTimeToLiveResult{};
}

uint64_t KvService::open_watch_stream(std::function<void()>) { unimplemented("watch"); }

void KvService::set_failpoints(const Failpoints&) { unimplemented("failpoints"); }

void KvService::set_disk_failpoints(const DiskFailpoints&) { unimplemented("disk failpoints"); }

boost::asio::awaitable<std::unique_ptr<DbSnapshot>> KvService::open_db_snapshot() {
  unimplemented("snapshot");
  co_return nullptr;
}

// ---- a service without auth: credentials are not looked at.

boost::asio::awaitable<server::Result> KvService::write(server::Request request,
                                                        const server::Credentials&) {
  co_return co_await write(std::move(request));
}

boost::asio::awaitable<server::Result> KvService::txn(server::TxnRequest request,
                                                      const server::Credentials&) {
  co_return co_await txn(std::move(request));
}

server::auth::User KvService::user_get(const server::Credentials&, const std::string&) {
  unimplemented("auth");
}

std::vector<std::string> KvService::user_list(const server::Credentials&) {
  unimplemented("auth");
}

server::auth::Role KvService::role_get(const server::Credentials&, const std::string&) {
  unimplemented("auth");
}

std::vector<std::string> KvService::role_list(const server::Credentials&) {
  unimplemented("auth");
}

boost::asio::awaitable<void> KvService::run_blocking(std::function<void()>&& work) {
  std::function<void()> mine = std::move(work);
  mine();
  co_return;
}

boost::asio::awaitable<void> KvService::pause(std::chrono::milliseconds) {
  co_return;
}

std::string KvService::random_bytes(size_t) {
  unimplemented("randomness");
}

}  // namespace etcdlab::gateway
