#include "watch_mux.h"

#include <algorithm>
#include <thread>

#include "../gateway/json_fields.h"
#include "client.h"

namespace etcdlab::cli {

namespace json = boost::json;

WatchMux::WatchMux(std::vector<std::string> endpoints, std::chrono::nanoseconds dial_timeout,
                   std::string token, StreamDial dial)
    : endpoints_(std::move(endpoints)),
      dial_timeout_(dial_timeout),
      token_(std::move(token)),
      dial_(std::move(dial)) {}

namespace {

// The create request of `w` on a new stream: from where it got to, once it has started.
json::object create_request(const Watcher& w) {
  json::object create = w.create;
  if (w.next_revision > 0) create["start_revision"] = std::to_string(w.next_revision);
  json::object request;
  request["create_request"] = std::move(create);
  return request;
}

}  // namespace

void WatchMux::add(std::shared_ptr<Watcher> w) {
  std::lock_guard lock(mutex_);
  watchers_.push_back(w);
  if (stream_) {
    stream_->send(create_request(*w));  // (a lost stream is noticed by the reader)
    pending_.push_back(w);
  }
  added_.notify_all();
}

void WatchMux::request_progress() {
  std::lock_guard lock(mutex_);
  if (stream_ && any_live()) stream_->send(json::object{{"progress_request", json::object{}}});
}

bool WatchMux::any_live() const {
  return !watchers_.empty();
}

void WatchMux::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  if (stream_) stream_->shutdown();
  added_.notify_all();
}

void WatchMux::connect() {
  auto pause = std::chrono::milliseconds(100);
  for (;;) {
    for (size_t tried = 0; tried < endpoints_.size(); ++tried) {
      const std::string& endpoint = endpoints_[next_endpoint_];
      next_endpoint_ = (next_endpoint_ + 1) % endpoints_.size();
      auto stream = WatchStream::open(endpoint, dial_timeout_, token_, dial_);
      if (!stream) continue;
      std::lock_guard lock(mutex_);
      if (closed_) return;
      stream_ = std::move(stream);
      for (auto& w : watchers_) {
        w->id = -1;
        stream_->send(create_request(*w));
        pending_.push_back(w);
      }
      return;
    }
    std::unique_lock lock(mutex_);
    if (added_.wait_for(lock, pause, [&] { return closed_; })) return;
    pause = std::min(pause * 2, std::chrono::milliseconds(1000));
  }
}

void WatchMux::run(const Deliver& deliver, bool forever) {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      while (!closed_ && !any_live()) {
        if (!forever) return;
        added_.wait(lock);
      }
      if (closed_) return;
    }
    if (!stream_) connect();
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
    }
    std::optional<json::object> line;
    try {
      line = stream_->next();
    } catch (const EtcdError&) {
      line.reset();  // refused: as if lost (its watchers are made again, elsewhere first)
    }
    const json::object* result =
        line ? line->if_contains("result") ? line->at("result").if_object() : nullptr : nullptr;
    if (!result) {
      // Lost (or a stream error line): a new stream, after a moment, on the next endpoint.
      {
        std::lock_guard lock(mutex_);
        stream_->shutdown();
        stream_.reset();
        pending_.clear();
        by_id_.clear();
      }
      std::unique_lock lock(mutex_);
      added_.wait_for(lock, std::chrono::milliseconds(50), [&] { return closed_; });
      continue;
    }
    WatchResponse r = decode_watch(*result);
    std::vector<std::pair<std::shared_ptr<Watcher>, WatchResponse>> out;
    {
      std::lock_guard lock(mutex_);
      route(r, out);
    }
    for (auto& [w, response] : out) {
      {
        std::lock_guard lock(mutex_);
        if (closed_) return;
      }
      deliver(*w, response);
    }
  }
}

void WatchMux::route(const WatchResponse& r,
                     std::vector<std::pair<std::shared_ptr<Watcher>, WatchResponse>>& out) {
  auto finish = [&](const std::shared_ptr<Watcher>& w) {
    w->done = true;
    watchers_.erase(std::remove(watchers_.begin(), watchers_.end(), w), watchers_.end());
    if (w->id != -1) by_id_.erase(w->id);
  };
  if (r.created) {
    if (pending_.empty()) return;
    std::shared_ptr<Watcher> w = pending_.front();
    pending_.pop_front();
    if (r.canceled) {
      // Refused (an empty range): clientv3 hands its watcher a response of its own making.
      finish(w);
      WatchResponse refused;
      refused.canceled = true;
      refused.cancel_reason = r.cancel_reason;
      refused.events_nil = true;
      out.emplace_back(w, refused);
      return;
    }
    w->id = r.watch_id;
    by_id_[w->id] = w;
    if (w->next_revision == 0) {
      int64_t start = gateway::get_int(w->create, "start_revision");
      w->next_revision = start > 0 ? start : r.header.revision + 1;
    }
    return;  // (etcdctl does not ask clientv3 for its created responses)
  }
  if (r.watch_id == -1) {  // a progress response: every watcher of the stream gets it
    for (auto& [id, w] : by_id_) out.emplace_back(w, r);
    return;
  }
  auto it = by_id_.find(r.watch_id);
  if (it == by_id_.end()) return;
  std::shared_ptr<Watcher> w = it->second;
  if (!r.events.empty()) {
    w->next_revision = r.events.back().kv.mod_revision + 1;
  } else if (r.is_progress_notify()) {
    w->next_revision = std::max(w->next_revision, r.header.revision + 1);
  }
  if (r.canceled) {
    finish(w);
    if (r.compact_revision == 0) return;  // clientv3 closes it quietly
  }
  out.emplace_back(w, r);
}

}  // namespace etcdlab::cli
