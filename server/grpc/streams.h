#pragma once
// gRPC's streaming reactors over calls.h's Outbox. A stream's State (a subclass of its
// Outbox, shared between the reactor and the io thread) gets, on the io thread:
//   opened()            the call started
//   received(request)   a request came (bidirectional streams)
//   read_ended()        the client closed its side (bidirectional streams)
//   drained()           every queued response was written: the producer may make more
//   closed()            the call is over (finished, cancelled, or the client went away)
// gRPC deletes the reactor after OnDone; the State lives on while the io thread holds it.

#include "calls.h"

namespace etcdlab::grpc_door {

template <class Request, class Response>
using BidiOutbox = Outbox<grpc::ServerBidiReactor<Request, Response>, Response>;
template <class Response>
using WriteOutbox = Outbox<grpc::ServerWriteReactor<Response>, Response>;

// What both kinds of streaming reactor do alike: register the State with the door (or end at
// once when it has stopped), and pass gRPC's write, cancel and done reactions on to it.
template <class Reactor, class State>
class StreamReactor : public Reactor {
 public:
  StreamReactor(Door& door, std::shared_ptr<State> state)
      : door_(door), state_(std::move(state)) {
    state_->attach(this);
    opened_ = door_.open(state_);
    if (!opened_) {
      state_->end(stopped_status());
      return;
    }
    door_.post([st = state_] { st->opened(); });
  }
  void OnWriteDone(bool ok) override {
    if (state_->written(ok)) door_.post([st = state_] { st->drained(); });
  }
  void OnCancel() override { state_->end(grpc::Status::CANCELLED); }
  void OnDone() override {
    state_->done();
    door_.post([st = state_] { st->closed(); });
    delete this;
  }

 protected:
  Door& door_;
  std::shared_ptr<State> state_;
  bool opened_ = false;  // registered: the call is served (else it was ended at once)
};

template <class Request, class Response, class State>
class BidiStream final
    : public StreamReactor<grpc::ServerBidiReactor<Request, Response>, State> {
  using Base = StreamReactor<grpc::ServerBidiReactor<Request, Response>, State>;

 public:
  BidiStream(Door& door, std::shared_ptr<State> state) : Base(door, std::move(state)) {
    if (this->opened_) this->StartRead(&request_);
  }
  void OnReadDone(bool ok) override {
    // Not ok: the client closed its side, or the call ended. What that means is the
    // stream's (a watch stream stays up; a keep-alive stream ends once it has answered).
    if (!ok) {
      this->door_.post([st = this->state_] { st->read_ended(); });
      return;
    }
    this->door_.post([st = this->state_, r = request_]() mutable { st->received(std::move(r)); });
    this->state_->if_open([this] { this->StartRead(&request_); });
  }

 private:
  Request request_;
};

template <class Response, class State>
using WriteStream = StreamReactor<grpc::ServerWriteReactor<Response>, State>;

// Runs a coroutine of a stream's State on the io thread: an error it throws ends the stream
// with that status.
template <class State>
awaitable<void> run_stream(std::shared_ptr<State> state, awaitable<void> work) {
  try {
    co_await std::move(work);
  } catch (const server::ApiError& e) {
    state->end(to_status(e));
  } catch (const std::exception& e) {
    state->end(grpc::Status(grpc::StatusCode::UNKNOWN, e.what()));
  }
}

template <class State>
void spawn_stream(Door& door, std::shared_ptr<State> state, awaitable<void> work) {
  boost::asio::co_spawn(door.io(), run_stream(std::move(state), std::move(work)),
                        boost::asio::detached);
}

}  // namespace etcdlab::grpc_door
