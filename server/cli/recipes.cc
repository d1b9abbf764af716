#include "recipes.h"

#include <fmt/format.h>

#include "../gateway/json_fields.h"
#include "context.h"
#include "watch_mux.h"

namespace etcdlab::cli {

namespace json = boost::json;
using gateway::base64_encode;

json::object Link::call(const std::string& path, const json::object& body, Cancel* ctx) const {
  if (ctx && ctx->cancelled()) throw EtcdError("context canceled");
  return client.call(path, body, deadline(), Retry::kNotRepeatable);
}

RangeResponse Link::get(const json::object& range, Cancel* ctx) const {
  if (ctx && ctx->cancelled()) throw EtcdError("context canceled");
  return decode_range(client.call("/v3/kv/range", range, deadline(), Retry::kRepeatable));
}

TxnResponse Link::txn(const json::object& txn, Cancel* ctx) const {
  return decode_txn(call("/v3/kv/txn", txn, ctx));
}

namespace recipe {

json::object range(const std::string& key) {
  return json::object{{"key", base64_encode(key)}};
}

namespace {
json::object sorted_by_create(const std::string& prefix, const char* order) {
  json::object r = range(prefix);
  r["range_end"] = base64_encode(prefix_end(prefix));
  r["limit"] = "1";
  r["sort_order"] = order;
  r["sort_target"] = "CREATE";
  return r;
}
}  // namespace

json::object first_created(const std::string& prefix) {
  return sorted_by_create(prefix, "ASCEND");
}

json::object last_created(const std::string& prefix, int64_t max_create_revision) {
  json::object r = sorted_by_create(prefix, "DESCEND");
  if (max_create_revision != 0) r["max_create_revision"] = std::to_string(max_create_revision);
  return r;
}

json::object create_revision_is(const std::string& key, int64_t revision) {
  return json::object{{"key", base64_encode(key)},
                      {"target", "CREATE"},
                      {"result", "EQUAL"},
                      {"create_revision", std::to_string(revision)}};
}

json::object put(const std::string& key, const std::string& value, int64_t lease) {
  json::object p = range(key);
  if (!value.empty()) p["value"] = base64_encode(value);
  if (lease != 0) p["lease"] = std::to_string(lease);
  return json::object{{"request_put", std::move(p)}};
}

json::object get(const json::object& range) {
  return json::object{{"request_range", range}};
}

json::object del(const std::string& key) {
  return json::object{{"request_delete_range", range(key)}};
}

json::object txn(json::object compare, json::array success, json::array failure) {
  json::object t{{"compare", json::array{std::move(compare)}}};
  if (!success.empty()) t["success"] = std::move(success);
  if (!failure.empty()) t["failure"] = std::move(failure);
  return t;
}

std::string lease_key(const std::string& prefix, int64_t lease) {
  return prefix + fmt::format("{:x}", lease);
}

WatchOutcome watch(const Link& link, Cancel& ctx, json::object create,
                   const std::function<bool(const WatchResponse&)>& on_response) {
  WatchMux mux(link.endpoints, link.dial_timeout, link.client.token(), link.client.stream_dial());
  auto w = std::make_shared<Watcher>();
  w->create = std::move(create);
  mux.add(w);
  WatchOutcome out{WatchEnd::kLost, ""};
  auto hook = ctx.on_cancel([&mux] { mux.close(); });
  mux.run(
      [&](Watcher&, const WatchResponse& r) {
        if (r.canceled) {
          out = {WatchEnd::kCanceled, r.error()};
          mux.close();
        } else if (on_response(r)) {
          out = {WatchEnd::kDone, ""};
          mux.close();
        }
      },
      false);
  if (out.end == WatchEnd::kLost && ctx.cancelled()) out.end = WatchEnd::kContext;
  return out;
}

}  // namespace recipe

namespace {

// concurrency's waitDelete: until `key` is deleted, watching from `revision`.
void wait_delete(const Link& link, Cancel& ctx, const std::string& key, int64_t revision) {
  json::object create = recipe::range(key);
  create["start_revision"] = std::to_string(revision);
  recipe::WatchOutcome out = recipe::watch(link, ctx, create, [](const WatchResponse& r) {
    for (const WatchEvent& e : r.events) {
      if (e.type == WatchEvent::Type::kDelete) return true;
    }
    return false;
  });
  switch (out.end) {
    case recipe::WatchEnd::kDone:
      return;
    case recipe::WatchEnd::kCanceled:
      throw EtcdError(out.error);
    case recipe::WatchEnd::kContext:
      throw EtcdError("context canceled");
    case recipe::WatchEnd::kLost:
      throw EtcdError("lost watcher waiting for delete");
  }
}

}  // namespace

ResponseHeader wait_deletes(const Link& link, Cancel& ctx, const std::string& prefix,
                            int64_t max_create_revision) {
  for (;;) {
    RangeResponse r = link.get(recipe::last_created(prefix, max_create_revision), &ctx);
    if (r.kvs.empty()) return r.header;
    wait_delete(link, ctx, r.kvs[0].key, r.header.revision);
  }
}

}  // namespace etcdlab::cli
