#pragma once
// Lab 4, parts B-E: watches — every change to a key or a range of keys, in revision order, as
// a stream a client reads while the store moves on.
//
// A client opens a stream (one HTTP request, one gRPC stream) and creates watchers on it. Each
// watcher sends what every write did to its range from its start revision on: ordered (by
// revision), unique (no event twice), atomic (all events of one revision in one response),
// reliable (no gap) and resumable (a new watcher from the last revision seen + 1 continues
// exactly). Kubernetes' informers, service discovery and configuration push all stand on
// these five words. As etcd's watchable store, the hub keeps its watchers in two groups:
//
//   synced     caught up with the store: notify() hands them each write's events as it
//              happens (part B)
//   unsynced   behind: created with a start revision in the past, or fallen behind. sync()
//              replays the store's history to them (KvStore::events_since), a bounded batch
//              at a time, until they catch up and join the synced group (part C)
//
// Nothing here blocks and nothing waits for a reader. No event response is added to a stream
// that holds `stream_capacity` responses its reader has not taken (the answers to the client's
// own requests always are, and a fragmented response goes in whole: a stream may hold a few
// more, never without bound). A synced watcher whose stream is
// full when a write comes is not an excuse to stall the write: it drops to the unsynced group
// at that revision and catches up from history later (part D). A watcher whose next revision
// has been compacted away can never be served: it is cancelled with the compact revision,
// and its client must read again and watch from there (part D). (etcd 3.4 still serves a
// start AT the compact revision, with what compaction kept there — which can silently miss a
// delete made at that revision. Here it is cancelled: every event or none.) Progress (part E): a
// progress request is answered once every watcher of its stream is synced, with the current
// revision — a promise that every event up to it has been sent; a watcher that asked for
// progress notifications and sent nothing for a whole interval gets one.
//
// Responses come out of take(), per stream, in the order they were made: a watcher's created
// response before its events, its events in revision order, its cancellation last.
//
// Revisions (lab 3): `start_revision` is inclusive; 0 means "from the next write". A start in
// the future waits for it. Every response carries `revision`, the store's revision when it was
// made (etcd's header revision), except a compaction's cancellation (0: etcd sends none).
//
// Deterministic and free of I/O: the node calls it from its one thread, with its store; the
// same calls give the same responses. Throws nothing on a client's bad request: a refusal is a
// response, as etcd's.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "etcdlab/mvcc/store.h"

namespace etcdlab::watch {

using StreamId = uint64_t;
using WatchId = int64_t;
inline constexpr WatchId kAutoWatchId = 0;  // in a request: the hub picks 0, 1, 2... per stream
inline constexpr WatchId kNoWatchId = -1;   // a response about no one watcher (progress, refusal)

// etcd's reasons, sent as they are.
inline constexpr const char* kDuplicateIdReason =
    "mvcc: duplicate watch ID provided on the WatchStream";
inline constexpr const char* kEmptyRangeReason = "mvcc: watcher range is empty";

struct WatchConfig {
  size_t stream_capacity = 128;        // responses a stream holds untaken (etcd's chanBufLen)
  size_t max_watchers_per_sync = 512;  // unsynced watchers one sync() serves (etcd's)
  int64_t max_revisions_per_response = 1000;  // revisions one catch-up response holds (etcd's)
  // A catch-up response ends at the first revision boundary past this many bytes (keys,
  // values, previous kvs); a fragmenting watcher's response is cut into pieces of about it.
  size_t max_response_bytes = (3 << 19) + 512 * 1024;  // etcd: max-request-bytes + its margin
  int64_t progress_interval_ticks = 6000;  // 10 minutes of 100 ms ticks (0: never)
};

struct WatchRequest {
  mvcc::KeyRange range;         // a key, or [key, range_end) (range_end "\0": every key from
                                // key on); one that holds no key is refused (see watch())
  int64_t start_revision = 0;   // first revision sent (inclusive); 0: the next write's
  WatchId id = kAutoWatchId;    // the client's choice, or kAutoWatchId
  bool prev_kv = false;         // events carry the key as it was before the write
  bool no_put = false;          // filters: leave out puts / deletes
  bool no_delete = false;
  bool progress_notify = false; // an idle synced watcher gets an empty response each interval
  bool fragment = false;        // a large response may come in pieces
};

struct WatchResponse {
  WatchId watch_id = kNoWatchId;
  int64_t revision = 0;          // the store's revision when it was made (0: none, see above)
  bool created = false;          // the answer to a create
  bool canceled = false;         // the watcher is gone (cancel, compaction, refusal)
  int64_t compact_revision = 0;  // cancelled because history below this is compacted
  std::string cancel_reason;
  bool fragment = false;         // more pieces of this response follow
  std::vector<mvcc::Event> events;
  friend bool operator==(const WatchResponse&, const WatchResponse&) = default;
};

class WatchHub {
 public:
  explicit WatchHub(const WatchConfig& config = {});
  ~WatchHub();
  WatchHub(const WatchHub&) = delete;
  WatchHub& operator=(const WatchHub&) = delete;

  // ---- streams
  StreamId open_stream();  // ids 1, 2, 3...
  // The client went away: its watchers end, its untaken responses are dropped. A call naming
  // a stream that is not open (closed, or never opened) does nothing and answers nothing:
  // watch() returns kNoWatchId, take() nothing.
  void close_stream(StreamId stream);

  // ---- what a client asks (each answers on the stream, see the top of this file)
  // Creates a watcher; answers `created` with its id and the store's revision. A start
  // revision whose history is gone — negative, or at or below the compact revision (at the
  // compact revision compaction kept only the last version of each key: a delete made there
  // has no event any more) — is answered `created` and then cancelled with
  // `compact_revision` (the store's compact revision; -1 if it never compacted, as etcd says).
  // Refusals are one response with watch_id -1, created and canceled, and a reason; nothing
  // is created and no id is used up. Checked first, as etcd's mvcc does: a range that can
  // hold no key (range_end neither empty nor "\0", and <= key) is refused with
  // kEmptyRangeReason, whatever its id or start; then an id already in use on the stream,
  // with kDuplicateIdReason. Returns the id, or kNoWatchId when refused or cancelled at once.
  WatchId watch(StreamId stream, const WatchRequest& request, const mvcc::KvStore& store);
  // Ends a watcher; answers `canceled`. An unknown id gets no answer (false).
  bool cancel(StreamId stream, WatchId id, const mvcc::KvStore& store);
  // A progress response (watch_id -1, the current revision, no events) once every watcher of
  // the stream is synced: now, or after the sync() that catches the last one up.
  void request_progress(StreamId stream, const mvcc::KvStore& store);

  // ---- what the store does (the node calls these on every member)
  // A write made `revision` with these events (Write::end()'s, with prev_kv). Call it for
  // every write, in revision order, after the write is in the store.
  void notify(int64_t revision, const std::vector<mvcc::Event>& events);
  // Serves up to max_watchers_per_sync unsynced watchers whose stream has room, one response
  // each (up to max_revisions_per_response revisions), from the store's history; a watcher
  // that caught up joins the synced group. Cancels those whose next revision is compacted.
  // Goes round the group: each sync starts after the last watcher the previous one served.
  void sync(const mvcc::KvStore& store);
  // One tick of the clock: progress notifications.
  void tick(const mvcc::KvStore& store);
  // The store was replaced by a newer one (a snapshot installed): every watcher catches up
  // from the new store's history, from where it was.
  void restored(const mvcc::KvStore& store);

  // ---- what the reader takes
  // Up to `max` responses of the stream, oldest first.
  std::vector<WatchResponse> take(StreamId stream, size_t max);
  size_t queued(StreamId stream) const;  // responses waiting to be taken
  // Streams that got responses since the last call, ascending (the driver wakes their
  // readers).
  std::vector<StreamId> take_ready();

  // ---- for tests and metrics
  size_t streams() const;
  size_t watchers() const;
  size_t unsynced() const;  // watchers behind the store

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdlab::watch
