#pragma once
// concurrency.Session as etcdctl's lock and elect use it: a lease granted for the session
// (--ttl seconds; 60 when not above 0, as WithTTL leaves it), kept alive by a thread in the
// background (keep_alive.cc) until the lease is gone or no answer came for a whole TTL, which
// ends the session (done()). Dropping the Session stops the keep-alives without revoking the
// lease, which then expires: etcdctl never closes its sessions either.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "cancel.h"
#include "client.h"

namespace etcdlab::cli {

class Session {
 public:
  // Grants the lease (within `deadline`; throws EtcdError) and starts keeping it alive.
  Session(const Client& client, int64_t ttl, std::chrono::nanoseconds dial_timeout,
          Deadline deadline);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  int64_t lease() const { return lease_; }
  // Cancelled when the keep-alives have ended (Session.Done()'s channel closed).
  Cancel& done() { return done_; }

 private:
  int64_t lease_ = 0;
  Cancel done_;
  Cancel stop_;
  std::thread keeper_;
};

}  // namespace etcdlab::cli
