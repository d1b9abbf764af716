#pragma once
// etcdlabctl's connection to the cluster: POST a JSON body to a v3 gateway path, trying the
// endpoints in order until one answers (failover). An error body from the server is an
// EtcdError with etcd's message; no endpoint reachable is an EtcdError too.

#include <boost/json.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace etcdlab::cli {

class EtcdError : public std::runtime_error {
 public:
  explicit EtcdError(const std::string& what, bool retryable = false)
      : std::runtime_error(what), retryable_(retryable) {}
  // Another endpoint may do better (this one is unreachable or has no leader).
  bool retryable() const { return retryable_; }

 private:
  bool retryable_;
};

struct HttpAnswer {
  int status = 0;
  std::string body;
};

class Client {
 public:
  Client(std::vector<std::string> endpoints, std::chrono::milliseconds timeout);
  // POSTs to `path` on the first endpoint that answers; throws EtcdError.
  boost::json::object call(const std::string& path, const boost::json::object& body);
  // The same on one given endpoint.
  boost::json::object call_at(const std::string& endpoint, const std::string& path,
                              const boost::json::object& body);
  HttpAnswer get_at(const std::string& endpoint, const std::string& path);
  const std::vector<std::string>& endpoints() const { return endpoints_; }

 private:
  HttpAnswer request(const std::string& endpoint, const std::string& method,
                     const std::string& path, const std::string& body);
  std::vector<std::string> endpoints_;
  std::chrono::milliseconds timeout_;
};

}  // namespace etcdlab::cli
