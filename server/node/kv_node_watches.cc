// KvNode: watches. The hub (lab 4) lives in the state machine, which tells it of every write;
// here are the client's side of it, over this member's applied store.
#include <algorithm>

#include "kv_node.h"
#include "kv_node_impl.h"

namespace etcdlab::server {

watch::StreamId KvNode::open_watch_stream() { return impl_->sm.watches().open_stream(); }

void KvNode::close_watch_stream(watch::StreamId stream) {
  impl_->sm.watches().close_stream(stream);
  impl_->watch_refusals.erase(stream);
}

watch::WatchId KvNode::watch(watch::StreamId stream, const watch::WatchRequest& request) {
  auto& r = *impl_;
  watch::WatchId id = r.sm.watches().watch(stream, request, r.sm.store());
  // A watcher from the past gets its first batch of history now, not at the next tick.
  if (r.sm.watches().unsynced() > 0) r.sm.watches().sync(r.sm.store());
  return id;
}

bool KvNode::cancel_watch(watch::StreamId stream, watch::WatchId id) {
  return impl_->sm.watches().cancel(stream, id, impl_->sm.store());
}

void KvNode::request_watch_progress(watch::StreamId stream) {
  impl_->sm.watches().request_progress(stream, impl_->sm.store());
}

std::vector<watch::WatchResponse> KvNode::take_watch_responses(watch::StreamId stream,
                                                               size_t max) {
  auto& r = *impl_;
  std::vector<watch::WatchResponse> out = r.sm.watches().take(stream, max);
  // Auth refusals (kv_node_auth.cc) concern no watcher: they go after the hub's responses.
  auto it = r.watch_refusals.find(stream);
  if (it == r.watch_refusals.end()) return out;
  while (!it->second.empty() && out.size() < max) {
    out.push_back(std::move(it->second.front()));
    it->second.pop_front();
  }
  if (it->second.empty()) r.watch_refusals.erase(it);
  return out;
}

std::vector<watch::StreamId> KvNode::take_watch_ready() {
  auto& r = *impl_;
  std::vector<watch::StreamId> ready = r.sm.watches().take_ready();
  for (const auto& [stream, refusals] : r.watch_refusals) {
    if (std::find(ready.begin(), ready.end(), stream) == ready.end()) ready.push_back(stream);
  }
  return ready;
}

const watch::WatchHub& KvNode::watches() const { return impl_->sm.watches(); }

}  // namespace etcdlab::server
