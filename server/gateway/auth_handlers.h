#pragma once
// /v3/auth/* as etcd 3.4's gateway answers them (field names and answers as captured in
// issue 19's notes), over server/rpc/auth_rpcs.h, which the gRPC door's Auth service calls too.

#include <map>
#include <string>

#include "handler_support.h"

namespace etcdlab::gateway {

// Path ("/v3/auth/user/add", ...) → handler, for handlers.cc's routing table.
const std::map<std::string, Handler, std::less<>>& auth_routes();

}  // namespace etcdlab::gateway
