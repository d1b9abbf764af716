#include "watch_responses.h"

#include "../gateway/json_fields.h"

namespace etcdlab::cli {

std::string WatchResponse::error() const {
  if (compact_revision != 0) return "etcdserver: mvcc: required revision has been compacted";
  if (!cancel_reason.empty()) return cancel_reason;
  return "etcdserver: mvcc: required revision is a future revision";  // (clientv3's default)
}

WatchResponse decode_watch(const boost::json::object& result) {
  using gateway::get_array;
  using gateway::get_bool;
  using gateway::get_int;
  using gateway::get_object;
  WatchResponse r;
  r.header = decode_header(result);
  r.watch_id = get_int(result, "watch_id");
  r.created = get_bool(result, "created");
  r.canceled = get_bool(result, "canceled");
  r.compact_revision = get_int(result, "compact_revision");
  if (auto it = result.find("cancel_reason"); it != result.end() && it->value().is_string()) {
    r.cancel_reason = std::string(it->value().as_string());
  }
  r.fragment = get_bool(result, "fragment");
  if (const boost::json::array* events = get_array(result, "events")) {
    for (const auto& v : *events) {
      if (!v.is_object()) continue;
      const auto& o = v.as_object();
      WatchEvent e;
      // The gateway writes the type by name ("DELETE"; PUT, 0, left out); a number is read too.
      if (auto it = o.find("type"); it != o.end()) {
        bool del = it->value().is_string() ? it->value().as_string() == "DELETE"
                                           : it->value().is_int64() && it->value().as_int64() == 1;
        e.type = del ? WatchEvent::Type::kDelete : WatchEvent::Type::kPut;
      }
      if (const auto* kv = get_object(o, "kv")) e.kv = decode_kv(*kv);
      if (const auto* prev = get_object(o, "prev_kv")) e.prev_kv = decode_kv(*prev);
      r.events.push_back(std::move(e));
    }
  }
  return r;
}

}  // namespace etcdlab::cli
