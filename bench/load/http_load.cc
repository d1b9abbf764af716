// The only file of the load generator that includes Beast (see http_load.h for the model).
#include "http_load.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <exception>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "request_source.h"

namespace etcdlab::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr uint64_t kBodyLimit = 64ULL << 20;

struct Endpoint {
  std::string host;  // "host:port", sent as the Host header
  tcp::endpoint address;
};

std::vector<Endpoint> resolve(const std::vector<std::string>& endpoints) {
  asio::io_context io;
  tcp::resolver resolver(io);
  std::vector<Endpoint> out;
  for (std::string e : endpoints) {
    if (e.starts_with("http://")) e = e.substr(7);
    while (!e.empty() && e.back() == '/') e.pop_back();
    auto colon = e.rfind(':');
    if (colon == std::string::npos) throw std::invalid_argument("endpoint without a port: " + e);
    auto results = resolver.resolve(e.substr(0, colon), e.substr(colon + 1));
    if (results.empty()) throw std::invalid_argument("endpoint does not resolve: " + e);
    out.push_back({e, results.begin()->endpoint()});
  }
  return out;
}

// The string value of the first "name":"..." in a JSON body ("" if there is none).
std::string string_field(std::string_view body, std::string_view name) {
  std::string field = fmt::format("\"{}\":\"", name);
  auto p = body.find(field);
  if (p == std::string_view::npos) return {};
  std::string out;
  for (size_t i = p + field.size(); i < body.size() && body[i] != '"'; i++) {
    if (body[i] == '\\' && i + 1 < body.size()) i++;
    out += body[i];
  }
  return out;
}

// The message of a gateway error body ({"error":..,"message":"..","code":N}), or the start of
// a body that is not one (routing errors are plain text).
std::string error_message(std::string_view body) {
  if (body.find("\"message\":\"") != std::string_view::npos) {
    return string_field(body, "message");
  }
  std::string text(body.substr(0, 80));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// `s` as a JSON string literal (quotes, backslashes and control characters escaped).
std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(ch));
    } else {
      out += ch;
    }
  }
  return out + '"';
}

// What every connection of the run shares.
struct Run {
  const LoadOptions& options;
  std::vector<Endpoint> endpoints;
  Clock::time_point start, measure_start, deadline;
  bool by_total = false;
  std::atomic<uint64_t> issued{0};  // measured requests handed out (--total)
  std::atomic<bool> stop{false};
};

// One event loop and what its connections record.
struct Loop {
  Loop(const LoadOptions& o, uint32_t index) : source(o, index) {}
  asio::io_context io{1};
  RequestSource source;
  LoadResult result;
  Clock::time_point last_done{};
  uint64_t slots = 0;
  std::exception_ptr failure;
};

class Connection {
 public:
  Connection(Run& run, Loop& loop, const Endpoint& endpoint, uint32_t clients)
      : run_(run), loop_(loop), endpoint_(endpoint), stream_(loop.io), ready_(clients, run.start) {}

  asio::awaitable<void> drive() {
    const auto& o = run_.options;
    const auto timeout =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.timeout));
    asio::steady_timer pause(loop_.io);
    if (o.workload == Workload::kLeaseKeepAlive) {
      co_await grant_leases(ready_.size(), timeout);
      std::fill(ready_.begin(), ready_.end(), Clock::now());  // the grants are not measured
    }
    for (size_t turn = 0; !run_.stop.load(std::memory_order_relaxed);
         turn = (turn + 1) % ready_.size()) {
      Clock::time_point due = ready_[turn];
      if (o.rate > 0) {
        auto slot = run_.start +
                    std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(double(loop_.slots++) * o.threads / o.rate));
        if (slot > Clock::now()) {
          pause.expires_at(slot);
          co_await pause.async_wait(kTuple);
        }
        due = std::max(due, slot);
      }
      bool measured = due >= run_.measure_start;
      if (measured && !run_.by_total && due >= run_.deadline) break;
      if (measured && run_.by_total &&
          run_.issued.fetch_add(1, std::memory_order_relaxed) >= o.total) {
        run_.stop = true;
        break;
      }
      std::string failure = co_await exchange(timeout);
      auto done = Clock::now();
      ready_[turn] = done;
      if ((!connected_ && failure.starts_with("connect")) || failure.starts_with("authenticate")) {
        // Do not spin on a dead server, or one that refuses to sign this user in.
        pause.expires_after(std::chrono::milliseconds(100));
        co_await pause.async_wait(kTuple);
      }
      if (!measured) continue;
      loop_.last_done = std::max(loop_.last_done, done);
      loop_.result.record(failure, nanos(done - due), nanos(done - run_.measure_start),
                          !run_.options.timeline.empty());
    }
    if (o.workload == Workload::kLeaseKeepAlive) co_await revoke_leases(timeout);
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  // One measured operation; returns "" on success, else the error's kind.
  asio::awaitable<std::string> exchange(Clock::duration timeout) {
    std::string failure = co_await session(timeout);
    if (failure.empty()) failure = co_await operation(timeout);
    // A token the server no longer takes (needs_new_token): the request counts as failed and
    // the next one signs in again.
    if (needs_new_token(failure)) token_.clear();
    co_return failure;
  }

  asio::awaitable<std::string> operation(Clock::duration timeout) {
    switch (run_.options.workload) {
      case Workload::kLeaseChurn:
        co_return co_await lease_churn(timeout);
      case Workload::kLeaseKeepAlive:
        loop_.source.lease_keepalive(request_, endpoint_.host, leases_[next_lease_]);
        next_lease_ = (next_lease_ + 1) % leases_.size();
        co_return co_await roundtrip(timeout, "\"TTL\"");
      default:
        loop_.source.next(request_, endpoint_.host);
        co_return co_await roundtrip(timeout, "\"header\"");
    }
  }

  // Grant, a put attached to the lease, revoke: one churn operation.
  asio::awaitable<std::string> lease_churn(Clock::duration timeout) {
    loop_.source.lease_grant(request_, endpoint_.host);
    std::string failure = co_await roundtrip(timeout, "\"ID\"");
    if (!failure.empty()) co_return failure;
    int64_t lease = id_in(body_);
    if (lease == 0) co_return "grant answered without an ID";
    loop_.source.lease_put(request_, endpoint_.host, lease);
    failure = co_await roundtrip(timeout, "\"header\"");
    // Revoke even when the put failed, so that no lease is left to expire later in the run.
    loop_.source.lease_revoke(request_, endpoint_.host, lease);
    std::string revoked = co_await roundtrip(timeout, "\"header\"");
    co_return failure.empty() ? revoked : failure;
  }

 public:
  // The keep-alive workload's leases, one per client of this connection, granted before the
  // run; revoke_leases() removes them after it. Failures here stop the run: without its
  // leases the workload would measure errors.
  asio::awaitable<void> grant_leases(size_t n, Clock::duration timeout) {
    while (leases_.size() < n) {
      if (std::string failure = co_await session(timeout); !failure.empty()) {
        throw std::runtime_error(fmt::format("granting the keep-alive workload's leases on {}: {}",
                                             endpoint_.host, failure));
      }
      loop_.source.lease_grant(request_, endpoint_.host);
      std::string failure = co_await roundtrip(timeout, "\"ID\"");
      if (!failure.empty() || id_in(body_) == 0) {
        throw std::runtime_error(fmt::format("granting the keep-alive workload's leases on {}: {}",
                                             endpoint_.host, failure.empty() ? body_ : failure));
      }
      leases_.push_back(id_in(body_));
    }
  }
  asio::awaitable<void> revoke_leases(Clock::duration timeout) {
    for (int64_t lease : leases_) {
      (void)co_await session(timeout);
      loop_.source.lease_revoke(request_, endpoint_.host, lease);
      (void)co_await roundtrip(timeout, "\"header\"");
    }
    leases_.clear();
  }

 private:
  // Connects if this connection is not, and with --user signs in if it has no token; "" or the
  // error's kind.
  asio::awaitable<std::string> session(Clock::duration timeout) {
    if (!connected_) {
      std::string failure = co_await connect(timeout);
      if (!failure.empty()) co_return failure;
    }
    const LoadOptions& o = run_.options;
    if (o.user.empty() || !token_.empty()) co_return std::string();
    request_.clear();
    std::string body = fmt::format("{{\"name\":{},\"password\":{}}}", json_string(o.user),
                                   json_string(o.password));
    fmt::format_to(std::back_inserter(request_),
                   "POST /v3/auth/authenticate HTTP/1.1\r\nHost: {}\r\nContent-Type: "
                   "application/json\r\nContent-Length: {}\r\n\r\n{}",
                   endpoint_.host, body.size(), body);
    std::string failure = co_await roundtrip(timeout, "\"token\"");
    if (!failure.empty()) co_return "authenticate: " + failure;
    token_ = string_field(body_, "token");
    if (token_.empty()) co_return "authenticate: answered without a token";
    authorization_ = fmt::format("Authorization: {}\r\n", token_);
    co_return std::string();
  }

  asio::awaitable<std::string> connect(Clock::duration timeout) {
    buffer_.clear();
    stream_.expires_after(timeout);
    auto [ec] = co_await stream_.async_connect(endpoint_.address, kTuple);
    if (ec) co_return fail("connect", ec);
    beast::error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);
    connected_ = true;
    co_return std::string();
  }

  // The value of the first "ID":"<n>" in a JSON body (0 if there is none).
  static int64_t id_in(std::string_view body) {
    constexpr std::string_view kField = "\"ID\":\"";
    auto p = body.find(kField);
    if (p == std::string_view::npos) return 0;
    int64_t id = 0;
    for (size_t i = p + kField.size(); i < body.size() && body[i] >= '0' && body[i] <= '9'; i++) {
      id = id * 10 + (body[i] - '0');
    }
    return id;
  }

  // Sends request_ and reads its answer into body_; returns "" when the status is 200 and the
  // body has `expect` (a field every good answer has) near its start, else the error's kind.
  asio::awaitable<std::string> roundtrip(Clock::duration timeout, std::string_view expect) {
    if (!token_.empty()) {  // etcd's gateway takes the token raw, without "Bearer"
      request_.insert(request_.find("\r\n") + 2, authorization_);
    }
    stream_.expires_after(timeout);
    auto [wec, wn] = co_await asio::async_write(stream_, asio::buffer(request_), kTuple);
    (void)wn;
    if (wec) co_return fail("write", wec);
    http::response_parser<http::string_body> parser;
    parser.body_limit(kBodyLimit);
    auto [rec, rn] = co_await http::async_read(stream_, buffer_, parser, kTuple);
    (void)rn;
    if (rec) co_return fail("read", rec);
    auto& res = parser.get();
    if (!res.keep_alive()) close();
    body_ = std::move(res.body());
    if (res.result_int() != 200) {
      co_return fmt::format("HTTP {}: {}", res.result_int(), error_message(body_));
    }
    if (std::string_view(body_).substr(0, 200).find(expect) == std::string_view::npos) {
      co_return fmt::format("HTTP 200 without {}: {}", expect, error_message(body_));
    }
    co_return std::string();
  }

  std::string fail(const char* phase, const beast::error_code& ec) {
    close();
    if (ec == beast::error::timeout) {
      return fmt::format("{}: timed out after {} s", phase, run_.options.timeout);
    }
    return fmt::format("{}: {}", phase, ec.message());
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    connected_ = false;
  }

  Run& run_;
  Loop& loop_;
  const Endpoint& endpoint_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string request_;
  std::string body_;             // the last answer's body
  std::string token_;            // --user: the token this connection signed in for
  std::string authorization_;    // "Authorization: <token_>\r\n"
  std::vector<int64_t> leases_;  // kLeaseKeepAlive: this connection's leases
  size_t next_lease_ = 0;
  std::vector<Clock::time_point> ready_;  // per client of this connection: when it is due
  bool connected_ = false;
};

}  // namespace

LoadResult run_http_load(const LoadOptions& options) {
  const LoadOptions& o = options;
  if (o.clients == 0 || o.conns == 0 || o.threads == 0) {
    throw std::invalid_argument("--clients, --conns and --threads must be at least 1");
  }
  if (o.endpoints.empty()) throw std::invalid_argument("no --endpoints");
  validate_key_size(o);
  Run run{o, resolve(o.endpoints), {}, {}, {}};
  run.by_total = o.total > 0;
  auto seconds = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };

  std::vector<std::unique_ptr<Loop>> loops;
  for (uint32_t i = 0; i < o.threads; i++) loops.push_back(std::make_unique<Loop>(o, i));
  std::vector<std::unique_ptr<Connection>> conns;
  uint32_t used = std::min(o.conns, o.clients);
  for (uint32_t c = 0; c < used; c++) {
    uint32_t clients = o.clients / o.conns + (c < o.clients % o.conns ? 1 : 0);
    conns.push_back(std::make_unique<Connection>(run, *loops[c % o.threads],
                                                 run.endpoints[c % run.endpoints.size()], clients));
  }

  run.start = Clock::now();
  run.measure_start = run.start + seconds(o.warmup);
  run.deadline = run.measure_start + seconds(o.duration > 0 ? o.duration : 10);
  for (uint32_t c = 0; c < used; c++) {
    Loop& loop = *loops[c % o.threads];
    asio::co_spawn(loop.io, conns[c]->drive(), [&loop](std::exception_ptr e) {
      if (e && !loop.failure) loop.failure = e;
    });
  }
  std::vector<std::thread> threads;
  for (auto& loop : loops) threads.emplace_back([&loop] { loop->io.run(); });
  for (auto& t : threads) t.join();

  LoadResult total;
  for (auto& loop : loops) {
    if (loop->failure) std::rethrow_exception(loop->failure);
    loop->result.seconds =
        loop->last_done > run.measure_start
            ? std::chrono::duration<double>(loop->last_done - run.measure_start).count()
            : 0;
    total.merge(loop->result);
  }
  return total;
}

}  // namespace etcdlab::bench
