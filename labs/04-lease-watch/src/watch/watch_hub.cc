// Lab 4, parts B-E: the watch hub. watch_hub.h is the specification; the handout
// (labs/04-lease-watch/README.md, parts B to E) walks through it. Split the work into files as
// it grows: anything matching src/watch/*.cc is built.
#include "etcdlab/watch/watch_hub.h"

#include "../lease/todo.h"

namespace etcdlab::watch {

// Your state goes here. A hint: the streams (each: its queue of responses, its watchers, the
// next automatic id), the watchers (each: its request and the next revision it sends), the
// synced group indexed by key for notify(), the unsynced group, and the last revision seen.
struct WatchHub::Impl {};

WatchHub::WatchHub(const WatchConfig& /*config*/) {}
WatchHub::~WatchHub() = default;

StreamId WatchHub::open_stream() { todo('B', "WatchHub::open_stream"); }

void WatchHub::close_stream(StreamId /*stream*/) { todo('B', "WatchHub::close_stream"); }

WatchId WatchHub::watch(StreamId /*stream*/, const WatchRequest& /*request*/,
                        const mvcc::KvStore& /*store*/) {
  todo('B', "WatchHub::watch (create a watcher, or refuse it; a past start revision is part C)");
}

bool WatchHub::cancel(StreamId /*stream*/, WatchId /*id*/, const mvcc::KvStore& /*store*/) {
  todo('B', "WatchHub::cancel");
}

void WatchHub::request_progress(StreamId /*stream*/, const mvcc::KvStore& /*store*/) {
  todo('E', "WatchHub::request_progress");
}

void WatchHub::notify(int64_t /*revision*/, const std::vector<mvcc::Event>& /*events*/) {
  todo('B', "WatchHub::notify (a write's events to the synced watchers)");
}

void WatchHub::sync(const mvcc::KvStore& /*store*/) {
  todo('C', "WatchHub::sync (catch-up from history)");
}

void WatchHub::tick(const mvcc::KvStore& /*store*/) {
  todo('E', "WatchHub::tick (progress notifications)");
}

void WatchHub::restored(const mvcc::KvStore& /*store*/) {
  todo('D', "WatchHub::restored (a store replaced by a snapshot)");
}

std::vector<WatchResponse> WatchHub::take(StreamId /*stream*/, size_t /*max*/) {
  todo('B', "WatchHub::take");
}

size_t WatchHub::queued(StreamId /*stream*/) const { todo('B', "WatchHub::queued"); }

std::vector<StreamId> WatchHub::take_ready() { todo('B', "WatchHub::take_ready"); }

size_t WatchHub::streams() const { todo('B', "WatchHub::streams"); }
size_t WatchHub::watchers() const { todo('B', "WatchHub::watchers"); }
size_t WatchHub::unsynced() const { todo('C', "WatchHub::unsynced"); }

}  // namespace etcdlab::watch
