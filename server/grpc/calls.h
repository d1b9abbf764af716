#pragma once
// How a gRPC call reaches the node and comes back. gRPC calls its reactors on its own threads;
// the service (the node, the store) belongs to the io thread. So a call's work is posted to the
// io thread, and its answer — a Finish, or a StartWrite on a stream — is given to gRPC from
// there, under the call's lock. Every open call is in the door's registry, so stop() can end
// the calls still waiting (gRPC's shutdown waits for every call to finish).

#include <grpcpp/grpcpp.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "../gateway/service.h"
#include "../node/api_error.h"

namespace etcdlab::grpc_door {

using gateway::KvService;
using boost::asio::awaitable;

// An ApiError as the gRPC status etcd answers (the same code and message).
grpc::Status to_status(const server::ApiError& e);
grpc::Status stopped_status();  // "etcdserver: server stopped", Unavailable

// A call in progress that the door can end.
class Call {
 public:
  virtual ~Call() = default;
  virtual void end(const grpc::Status& status) = 0;  // any thread; once
};

// What every call shares: the io thread and its service, and the registry of open calls.
class Door {
 public:
  Door(boost::asio::io_context& io, KvService& service) : io_(io), service_(service) {}
  KvService& service() { return service_; }

  // Who a call comes from: the token of its metadata (`token`, as clientv3 sends it, else
  // `authorization`, as etcd reads both) and, when the call sent no token, the verified TLS
  // client certificate's CN of its connection (cert_user_lookup). Any thread.
  server::Credentials credentials(const grpc::CallbackServerContext& context) const;
  // TLS HOOK: the client-certificate CN of a connection, by gRPC's peer string (an adopted
  // descriptor is "fd:N"); nullopt when it has none. Set once before calls arrive (the TLS
  // listener's registry, with --client-cert-auth); unset, no call has a cert_user.
  using CertUserLookup = std::function<std::optional<std::string>(const std::string& peer)>;
  void set_cert_user_lookup(CertUserLookup lookup) { cert_user_lookup_ = std::move(lookup); }
  boost::asio::io_context& io() { return io_; }

  // Registers a call; false (the call must be ended at once) once the door has stopped.
  bool open(const std::shared_ptr<Call>& call);
  void close(Call* call);
  // Runs `fn` on the io thread. Calls that arrive together are handed over together: one
  // wake-up of the io thread runs them all, so the node proposes their writes in one Ready
  // (as the JSON door's sessions, woken together, do).
  void post(std::function<void()> fn);
  // Ends every open call and refuses new ones.
  void stop();

 private:
  void run_posted();

  boost::asio::io_context& io_;
  KvService& service_;
  CertUserLookup cert_user_lookup_;
  std::mutex posted_mu_;
  std::vector<std::function<void()>> posted_;  // waiting for the io thread
  std::mutex mu_;
  bool stopped_ = false;
  std::unordered_map<Call*, std::shared_ptr<Call>> open_;
};

// ---- unary calls

// A unary call's answer, built on the io thread into `result` and copied into gRPC's response
// when it finishes (never after: gRPC frees the response then).
template <class Response>
class UnaryCall : public Call {
 public:
  UnaryCall(Door& door, grpc::ServerUnaryReactor* reactor, Response* out,
            server::Credentials caller)
      : who(std::move(caller)), door_(door), reactor_(reactor), out_(out) {}
  const server::Credentials who;  // the caller's (the work's coroutine holds a reference)
  Response result;
  void end(const grpc::Status& status) override {
    {
      std::lock_guard lock(mu_);
      if (finished_) return;
      finished_ = true;
      if (status.ok()) *out_ = std::move(result);
      reactor_->Finish(status);
    }
    door_.close(this);
  }

 private:
  Door& door_;
  std::mutex mu_;
  bool finished_ = false;
  grpc::ServerUnaryReactor* reactor_;
  Response* out_;
};

template <class Response>
awaitable<void> run_unary(std::shared_ptr<UnaryCall<Response>> call, awaitable<void> work) {
  grpc::Status status;
  try {
    co_await std::move(work);
  } catch (const server::ApiError& e) {
    status = to_status(e);
  } catch (const std::exception& e) {
    status = grpc::Status(grpc::StatusCode::UNKNOWN, e.what());
  }
  call->end(status);
}

// Serves a unary call: `work(service, response, credentials)` returns the coroutine that
// answers it (a named coroutine: it runs on the io thread; an ApiError it throws is the call's
// status).
template <class Response, class Work>
grpc::ServerUnaryReactor* serve_unary(Door& door, grpc::CallbackServerContext* context,
                                      Response* response, Work work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto call =
      std::make_shared<UnaryCall<Response>>(door, reactor, response, door.credentials(*context));
  if (!door.open(call)) {
    reactor->Finish(stopped_status());
    return reactor;
  }
  door.post([&door, call, work = std::move(work)]() mutable {
    boost::asio::co_spawn(door.io(), run_unary(call, work(door.service(), call->result, call->who)),
                          boost::asio::detached);
  });
  return reactor;
}

// ---- streams

// The sending side of a streaming call (a ServerWriteReactor or ServerBidiReactor): responses
// queue and are written one at a time, in order; the end waits for the write in flight. It
// outlives its reactor (gRPC deletes that after OnDone): the io side holds it.
template <class Reactor, class Response>
class Outbox : public Call {
 public:
  explicit Outbox(Door& door) : door_(door) {}
  void attach(Reactor* reactor) { reactor_ = reactor; }

  // Queues a response; false if the stream has ended (nothing more will be written).
  bool send(Response response) {
    std::lock_guard lock(mu_);
    if (finished_ || reactor_ == nullptr) return false;
    queue_.push_back(std::move(response));
    if (!writing_) write_front();
    return true;
  }
  size_t queued() {
    std::lock_guard lock(mu_);
    return queue_.size();
  }
  bool ended() {
    std::lock_guard lock(mu_);
    return finished_ || reactor_ == nullptr;
  }
  void end(const grpc::Status& status) override {
    std::lock_guard lock(mu_);
    if (finished_ || reactor_ == nullptr) return;
    finished_ = true;
    if (writing_) {
      end_status_ = status;  // after the write in flight
    } else {
      reactor_->Finish(status);
    }
  }
  // Runs `f` (e.g. the next StartRead) unless the stream has ended, under the stream's lock.
  template <class F>
  void if_open(F f) {
    std::lock_guard lock(mu_);
    if (!finished_ && reactor_ != nullptr) f();
  }
  // Ends the call once every queued response is written (end() drops them: it is for a call
  // whose client is gone or a server that stops).
  void end_after_queue(const grpc::Status& status) {
    std::lock_guard lock(mu_);
    if (finished_ || reactor_ == nullptr) return;
    if (queue_.empty() && !writing_) {
      finished_ = true;
      reactor_->Finish(status);
    } else {
      end_after_queue_ = status;
    }
  }
  // From the reactor's OnWriteDone. Returns true when the queue has drained (the producer
  // may make more).
  bool written(bool ok) {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!queue_.empty()) queue_.pop_front();
    if (!finished_ && end_after_queue_ && queue_.empty() && ok) {
      finished_ = true;
      reactor_->Finish(*end_after_queue_);
      return false;
    }
    if (finished_) {
      if (end_status_) {
        reactor_->Finish(*end_status_);
        end_status_.reset();
      }
      return false;
    }
    if (!ok) {  // the client is gone: gRPC calls OnCancel, which ends the call
      return false;
    }
    if (!queue_.empty()) {
      write_front();
      return false;
    }
    return true;
  }
  // From the reactor's OnDone: the reactor is gone.
  void done() {
    {
      std::lock_guard lock(mu_);
      reactor_ = nullptr;
      queue_.clear();
    }
    door_.close(this);
  }

 private:
  void write_front() {
    writing_ = true;
    reactor_->StartWrite(&queue_.front());
  }

  Door& door_;
  std::recursive_mutex mu_;
  Reactor* reactor_ = nullptr;
  std::deque<Response> queue_;
  bool writing_ = false;
  bool finished_ = false;
  std::optional<grpc::Status> end_status_;
  std::optional<grpc::Status> end_after_queue_;
};

}  // namespace etcdlab::grpc_door
