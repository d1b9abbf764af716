#pragma once
// etcdlabctl's connection to the cluster: POST a JSON body to a v3 gateway path and read the
// JSON answer, within a deadline, the way etcdctl's gRPC client behaves from the outside:
//  - an endpoint that cannot be reached is tried again (the next endpoint first, then after a
//    pause) until one answers or the deadline passes, which is the error "context deadline
//    exceeded"; each connection attempt is bounded by the dial timeout;
//  - a server's answer is final, except that a read (Retry::kRepeatable, as clientv3 marks
//    Range, MemberList, Status) answered 503 (no leader there, or no quorum) is sent again,
//    to the next endpoint and then after a pause, until the deadline. A write is never sent
//    again once a server has it: its 503 is the error.
// An error answer is an EtcdError carrying etcd's message ("etcdserver: ...").

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace etcdlab::cli {

using Deadline = std::chrono::steady_clock::time_point;

class EtcdError : public std::runtime_error {
 public:
  explicit EtcdError(const std::string& what) : std::runtime_error(what) {}
};

// What etcdctl says when a command's time is up.
inline constexpr const char* kDeadlineExceeded = "context deadline exceeded";

// Whether a request may be sent again after the server answered 503 (clientv3's retry
// policies: reads are repeatable, writes are not).
enum class Retry { kRepeatable, kNotRepeatable };

// etcdctl's --cacert, --cert, --key and --insecure-skip-tls-verify. TLS is used when any file
// is given or an endpoint is https://; the server's certificate must chain to cacert (the
// system's roots without it) and name the endpoint's host, unless insecure_skip_verify.
struct TlsOptions {
  std::string cacert;
  std::string cert;
  std::string key;
  bool insecure_skip_verify = false;
};

struct TlsUse;

// How a stream of its own (the watch stream) dials as the client does: TLS with `context`
// (a boost::asio::ssl::context kept out of this header; null: plaintext) for every endpoint
// (`all`: files were given) or https:// ones, checking the host unless insecure.
struct StreamDial {
  std::shared_ptr<void> context;
  bool all = false;
  bool verify_host = true;

  bool tls_for(const std::string& endpoint) const {  // (as Client's: an http:// one never)
    return context &&
           (endpoint.starts_with("https://") || (all && !endpoint.starts_with("http://")));
  }
};

class Client {
 public:
  Client(std::vector<std::string> endpoints, std::chrono::nanoseconds dial_timeout,
         const TlsOptions& tls = {});

  // POSTs `body` to `path` (a "/v3/..." path) on the endpoints, in order; throws EtcdError.
  boost::json::object call(const std::string& path, const boost::json::object& body,
                           Deadline deadline, Retry retry) const;
  // The same on one endpoint (etcdctl's per-endpoint Status and health checks).
  boost::json::object call_at(const std::string& endpoint, const std::string& path,
                              const boost::json::object& body, Deadline deadline,
                              Retry retry) const;

  // POSTs `body` to `path` on one endpoint and hands the answer's body to `sink` piece by
  // piece as it arrives, never whole (maintenance/snapshot streams a database). An answer
  // other than 200 is an EtcdError with the server's message; so is a stream cut short.
  void stream_at(const std::string& endpoint, const std::string& path,
                 const boost::json::object& body, Deadline deadline,
                 const std::function<void(std::string_view)>& sink) const;

  const std::vector<std::string>& endpoints() const { return endpoints_; }
  // What a watch stream needs to dial as this client does.
  StreamDial stream_dial() const { return StreamDial{tls_, tls_for_all_, verify_host_}; }

  // Auth: `token` goes raw in the Authorization header of every request from now on (etcd's
  // gateway reads it there; empty: none). When the server refuses it ("invalid auth token",
  // "revision of auth store is old"), `renew` (if set) is asked once, with the token cleared,
  // for a new one, and the request is sent again, as clientv3's retry interceptor does; if
  // renew throws, that is the error (as clientv3 3.4.23's: measured against etcdctl). Copies
  // of this client share the token.
  void set_token(std::string token, std::function<std::string(Deadline)> renew = {}) const;
  std::string token() const;

 private:
  struct Auth {
    mutable std::mutex mu;
    std::string token;
    std::function<std::string(Deadline)> renew;
  };
  boost::json::object send_on(const std::vector<std::string>& endpoints, const std::string& path,
                              const boost::json::object& body, Deadline deadline,
                              Retry retry) const;
  TlsUse tls_use() const;
  boost::json::object call_on(const std::vector<std::string>& endpoints, const std::string& path,
                              const boost::json::object& body, Deadline deadline,
                              Retry retry) const;

  std::vector<std::string> endpoints_;
  std::chrono::nanoseconds dial_timeout_;
  std::shared_ptr<Auth> auth_ = std::make_shared<Auth>();
  std::shared_ptr<void> tls_;  // a boost::asio::ssl::context (kept out of this header), or null
  bool tls_for_all_ = false;   // files given: every endpoint; else only https:// ones
  bool verify_host_ = true;
};

}  // namespace etcdlab::cli
