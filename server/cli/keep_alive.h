#pragma once
// clientv3's keep-alive of one lease, as etcdctl's `lease keep-alive` runs it and as the lock
// and election sessions (session.h) run it in the background: a keep-alive request now, then a
// third of the TTL after each answer; it ends when an answer has no TTL (the lease is unknown,
// expired or revoked), when a whole TTL goes by without an answer (at first: clientv3's
// firstKeepAliveTimeout, the dial timeout plus a second, or 5 s without one), or when `stop` is
// cancelled. A failed request is tried again every 500 ms (clientv3's retryConnWait) until then.

#include <chrono>
#include <cstdint>
#include <functional>

#include "cancel.h"
#include "client.h"
#include "responses.h"

namespace etcdlab::cli {

// One keep-alive: the gateway's stream with one request in its body, one answer line back
// (not sent again after a 503, as clientv3 does not resend a stream's request). Throws
// EtcdError.
LeaseKeepAliveResponse keep_alive_once(const Client& client, int64_t id, Deadline deadline);

// Keeps lease `id` alive until one of the ends above, calling `on_answer` with each answer.
void keep_alive(const Client& client, int64_t id, std::chrono::nanoseconds dial_timeout,
                const std::function<void(const LeaseKeepAliveResponse&)>& on_answer, Cancel& stop);

}  // namespace etcdlab::cli
