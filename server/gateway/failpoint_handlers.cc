// The test-only failpoints (--enable-failpoints): what a member's peer transport drops or
// delays, and how slow its disk is.
#include "failpoint_handlers.h"

#include "json_fields.h"

namespace etcdlab::gateway {

using boost::asio::awaitable;

// GET /etcdlab/failpoints: the current ones; POST {"drop_to":[id..],"drop_from":[id..],
// "delay_ms":N} replaces them ({} clears). Served only with --enable-failpoints.
awaitable<HttpResponse> failpoints(KvService& s, const HttpRequest& request) {
  auto ids = [](const json::object& o, std::string_view name) {
    std::vector<uint64_t> out;
    if (const json::array* a = get_array(o, name)) {
      for (const auto& v : *a) {
        json::object one;
        one["id"] = v;
        out.push_back(get_uint(one, "id"));
      }
    }
    return out;
  };
  try {
    if (request.method == "POST") {
      json::object body = parse_body(request.body);
      Failpoints f;
      f.drop_to = ids(body, "drop_to");
      f.drop_from = ids(body, "drop_from");
      f.delay_ms = static_cast<uint32_t>(get_uint(body, "delay_ms"));
      s.set_failpoints(f);
    } else if (request.method != "GET") {
      co_return plain(405, "Method Not Allowed\n");
    }
    Failpoints f = s.failpoints();
    json::object out;
    json::array to, from;
    for (uint64_t id : f.drop_to) to.push_back(json::string(std::to_string(id)));
    for (uint64_t id : f.drop_from) from.push_back(json::string(std::to_string(id)));
    out["drop_to"] = std::move(to);
    out["drop_from"] = std::move(from);
    out["delay_ms"] = f.delay_ms;
    co_return ok(out);
  } catch (const GatewayError& e) {
    co_return error_response(e);
  }
}

// GET /etcdlab/failpoints/disk: the current ones; POST {"sync_delay_ms":N} replaces them ({}
// clears): every sync of the WAL and snapshot files waits N ms (a slow disk). Apart from the
// peer failpoints, so a network fault and a disk fault do not clear each other.
awaitable<HttpResponse> disk_failpoints(KvService& s, const HttpRequest& request) {
  try {
    if (request.method == "POST") {
      json::object body = parse_body(request.body);
      DiskFailpoints f;
      f.sync_delay_ms = static_cast<uint32_t>(get_uint(body, "sync_delay_ms"));
      s.set_disk_failpoints(f);
    } else if (request.method != "GET") {
      co_return plain(405, "Method Not Allowed\n");
    }
    json::object out;
    out["sync_delay_ms"] = s.disk_failpoints().sync_delay_ms;
    co_return ok(out);
  } catch (const GatewayError& e) {
    co_return error_response(e);
  }
}

}  // namespace etcdlab::gateway
