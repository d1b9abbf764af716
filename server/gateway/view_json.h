#pragma once
// This member's state for the live cluster view, as JSON (docs/api.md, "The live view"; the
// contract: notes/issue-20-contract.md section 6): {"node": NODE, "members": [...],
// "cluster_id": hex, "revision": R, "clients": [CLIENT...], "t_ms": ms}. Members are numbered
// 1..n in the order of their ids, as every member numbers them, so the page can put the
// members' answers side by side. No key and no value is ever in it.

#include <boost/json/object.hpp>

#include "service.h"

namespace etcdlab::gateway {

// The answer. Its "t_ms" is the member's clock, which moves every tick: two answers without it
// are equal when nothing the view shows changed.
boost::json::object view_state_json(KvService& service);

}  // namespace etcdlab::gateway
