#pragma once
// A watch response as etcdctl's printers get it (clientv3's WatchResponse: the header, the
// events, CompactRevision, Canceled, Created; plus what clientv3 keeps to itself and the watch
// command needs: the watcher's id, the cancel reason, whether a fragment follows), decoded from
// one {"result": {...}} line of the gateway's /v3/watch stream.

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "responses.h"

namespace etcdlab::cli {

struct WatchEvent {
  enum class Type { kPut = 0, kDelete = 1 };  // mvccpb.Event_EventType
  Type type = Type::kPut;
  KeyValue kv;
  std::optional<KeyValue> prev_kv;
};

struct WatchResponse {
  ResponseHeader header;
  int64_t watch_id = 0;
  bool created = false;
  bool canceled = false;
  int64_t compact_revision = 0;
  std::string cancel_reason;
  bool fragment = false;
  std::vector<WatchEvent> events;
  // clientv3's own response for a watch the server refused when creating it (its reason in
  // cancel_reason, no header): its Events is nil, which -w json prints as null.
  bool events_nil = false;

  // clientv3's IsProgressNotify: no events, not a create or a cancel, a header revision.
  bool is_progress_notify() const {
    return events.empty() && !canceled && !created && compact_revision == 0 &&
           header.revision != 0;
  }
  // clientv3's Err() of a cancellation, as etcdctl prints it in "watch was canceled (...)".
  std::string error() const;
};

// The "result" object of a stream line. Throws gateway::GatewayError for a field of the wrong
// type.
WatchResponse decode_watch(const boost::json::object& result);

}  // namespace etcdlab::cli
