#include "session.h"

#include "keep_alive.h"

namespace etcdlab::cli {

namespace {
constexpr int64_t kDefaultTtl = 60;  // concurrency's defaultSessionTTL
}  // namespace

Session::Session(const Client& client, int64_t ttl, std::chrono::nanoseconds dial_timeout,
                 Deadline deadline) {
  boost::json::object body;
  body["TTL"] = std::to_string(ttl > 0 ? ttl : kDefaultTtl);
  lease_ =
      decode_lease_grant(client.call("/v3/lease/grant", body, deadline, Retry::kRepeatable)).id;
  keeper_ = std::thread([this, &client, dial_timeout] {
    keep_alive(
        client, lease_, dial_timeout, [](const LeaseKeepAliveResponse&) {}, stop_);
    done_.cancel();
  });
}

Session::~Session() {
  stop_.cancel();
  keeper_.join();
}

}  // namespace etcdlab::cli
