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

}  // namespace etcdlab::gateway
