#include "keep_alive.h"

namespace etcdlab::cli {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

LeaseKeepAliveResponse keep_alive_once(const Client& client, int64_t id, Deadline deadline) {
  json::object body;
  body["ID"] = std::to_string(id);
  return decode_lease_keep_alive(
      client.call("/v3/lease/keepalive", body, deadline, Retry::kNotRepeatable));
}

void keep_alive(const Client& client, int64_t id, std::chrono::nanoseconds dial_timeout,
                const std::function<void(const LeaseKeepAliveResponse&)>& on_answer, Cancel& stop) {
  constexpr auto kRetry = std::chrono::milliseconds(500);
  std::chrono::nanoseconds first = dial_timeout + std::chrono::seconds(1);
  if (dial_timeout.count() == 0) first = std::chrono::seconds(5);
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(first);
  auto next = Clock::now();
  while (!stop.cancelled()) {
    auto now = Clock::now();
    if (now >= deadline) return;
    if (now < next) {
      stop.wait_until(std::min(next, deadline));
      continue;
    }
    LeaseKeepAliveResponse resp;
    try {
      resp = keep_alive_once(client, id, deadline);
    } catch (const EtcdError&) {
      next = Clock::now() + kRetry;
      continue;
    }
    if (resp.ttl <= 0) return;
    auto answered = Clock::now();
    next =
        answered + std::chrono::duration_cast<Clock::duration>(std::chrono::seconds(resp.ttl)) / 3;
    deadline = answered + std::chrono::seconds(resp.ttl);
    on_answer(resp);
  }
}

}  // namespace etcdlab::cli
