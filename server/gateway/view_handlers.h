#pragma once
// The live cluster view's paths on the client port (--enable-view; docs/api.md, "The live
// view"), answered only when the service has a view (KvService::view_streams()):
//   GET /etcdlab/state        this member's state (view_json.h)
//   GET /etcdlab/events       the same as Server-Sent Events: at once, then on change (at most
//                             every 100 ms) and at least every 2 s; a bounded number open at once
//   GET /etcdlab/view/[file]  the page, compiled in (view_assets.h)
// With auth on, state and events need a token of a user with the root role (the Authorization
// header, or ?token= for a browser's EventSource, which cannot send headers); else 401 with
// etcd's error body. The page itself needs none: it holds no data.

#include <string_view>

#include "http_types.h"
#include "service.h"

namespace etcdlab::gateway {

bool is_view_path(std::string_view path);  // (the path without its query)
HttpResponse handle_view(KvService& service, const HttpRequest& request);

}  // namespace etcdlab::gateway
