#pragma once
// The gateway's view of an HTTP exchange, without Beast: handlers are plain functions over
// these, and only session.cc (the I/O) includes Beast (it is slow to compile).

#include <string>

namespace etcdlab::gateway {

struct HttpRequest {
  std::string method;  // "POST", "GET", ...
  std::string target;  // the path and query
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  bool grpc_ok = false;  // etcd's gateway adds Grpc-Metadata-Content-Type on success
};

}  // namespace etcdlab::gateway
