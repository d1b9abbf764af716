// etcdserverpb.Watch: one bidirectional stream per call, over the node's watch hub (the JSON
// door's /v3/watch serves the same hub stream: gateway/watch_session.cc). Requests go to the
// hub as they come; the hub's responses are taken whenever it wakes the stream and whenever
// the writes in flight are done, a few at a time, so a slow client holds back only its own
// responses (the hub keeps them, within its limits).
#include "convert.h"
#include "rpc.grpc.pb.h"
#include "services.h"
#include "streams.h"

namespace etcdlab::grpc_door {
namespace {

constexpr size_t kQueued = 16;  // responses written ahead of the client

// A create request as the node's hub takes it (etcd's v3rpc watch server: an empty key is
// "\0", a range_end of "\0" means every key from key on).
watch::WatchRequest create_request(const pb::WatchCreateRequest& c) {
  watch::WatchRequest r;
  r.range.key = c.key().empty() ? std::string(1, '\0') : c.key();
  r.range.range_end = c.range_end();
  r.start_revision = c.start_revision();
  r.id = c.watch_id();
  r.prev_kv = c.prev_kv();
  r.progress_notify = c.progress_notify();
  r.fragment = c.fragment();
  for (int f : c.filters()) {
    if (f == pb::WatchCreateRequest::NOPUT) r.no_put = true;
    if (f == pb::WatchCreateRequest::NODELETE) r.no_delete = true;
  }
  return r;
}

class Watches : public BidiOutbox<pb::WatchRequest, pb::WatchResponse>,
                public std::enable_shared_from_this<Watches> {
 public:
  // `who`: the caller's credentials, checked on every create request (READ on its range); a
  // refused create is a created+canceled response, as etcd 3.4 sends it.
  Watches(Door& door, server::Credentials who)
      : BidiOutbox<pb::WatchRequest, pb::WatchResponse>(door),
        service_(door.service()),
        who_(std::move(who)) {}

  void opened() {
    std::weak_ptr<Watches> weak = shared_from_this();
    stream_ = service_.open_watch_stream([weak] {
      if (auto self = weak.lock()) self->pull();
    });
    open_ = true;
  }
  void received(pb::WatchRequest r) {
    if (!open_) return;
    switch (r.request_union_case()) {
      case pb::WatchRequest::kCreateRequest:
        service_.watch(stream_, create_request(r.create_request()), who_);
        break;
      case pb::WatchRequest::kCancelRequest:
        service_.cancel_watch(stream_, r.cancel_request().watch_id());
        break;
      case pb::WatchRequest::kProgressRequest:
        service_.request_watch_progress(stream_);
        break;
      case pb::WatchRequest::REQUEST_UNION_NOT_SET:
        break;  // a request with nothing in it: etcd ignores it
    }
    pull();
  }
  void drained() { pull(); }
  // As etcd's: the client's end of requests ends nothing; the watchers live until the call
  // ends (its recvLoop returns and the send loop goes on).
  void read_ended() {}
  void closed() {
    if (open_) service_.close_watch_stream(stream_);
    open_ = false;
  }

 private:
  // Takes what the hub has for this stream, up to kQueued written ahead.
  void pull() {
    if (!open_ || ended()) return;
    size_t room = kQueued - std::min(kQueued, queued());
    if (room == 0) return;
    for (watch::WatchResponse& r : service_.take_watch_responses(stream_, room)) {
      pb::WatchResponse out;
      fill_header(out.mutable_header(), service_, r.revision);  // (0: a hub answer with none)
      out.set_watch_id(r.watch_id);
      out.set_created(r.created);
      out.set_canceled(r.canceled);
      out.set_compact_revision(r.compact_revision);
      out.set_cancel_reason(r.cancel_reason);
      out.set_fragment(r.fragment);
      for (const mvcc::Event& e : r.events) fill_event(out.add_events(), e);
      send(std::move(out));
    }
  }

  KvService& service_;
  const server::Credentials who_;
  uint64_t stream_ = 0;
  bool open_ = false;  // (io thread)
};

class WatchService final : public pb::Watch::CallbackService {
 public:
  explicit WatchService(Door& door) : door_(door) {}
  grpc::ServerBidiReactor<pb::WatchRequest, pb::WatchResponse>* Watch(
      grpc::CallbackServerContext* c) override {
    return new BidiStream<pb::WatchRequest, pb::WatchResponse, Watches>(
        door_, std::make_shared<Watches>(door_, door_.credentials(*c)));
  }

 private:
  Door& door_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_watch_service(Door& door) {
  return std::make_unique<WatchService>(door);
}

}  // namespace etcdlab::grpc_door
