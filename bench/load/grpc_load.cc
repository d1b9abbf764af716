// The only file of the load generator that includes generated gRPC code (see grpc_load.h for
// the model). gRPC's completion-queue API: each client has one call (or one pause) in flight,
// tagged with the client itself; each queue's thread takes completions and starts the next.
#include "grpc_load.h"

#include <absl/synchronization/mutex.h>
#include <fmt/format.h>
#include <grpcpp/alarm.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "request_source.h"
#include "rpc.grpc.pb.h"

namespace etcdlab::bench {
namespace {

namespace pb = etcdserverpb;
using Clock = std::chrono::steady_clock;

Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

// gRPC deadlines and alarms take the system clock; the run's schedule is on the steady one.
std::chrono::system_clock::time_point to_system(Clock::time_point t) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(t - Clock::now());
}

const char* code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::OK:
      return "OK";
    case grpc::CANCELLED:
      return "CANCELLED";
    case grpc::UNKNOWN:
      return "UNKNOWN";
    case grpc::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::ABORTED:
      return "ABORTED";
    case grpc::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::INTERNAL:
      return "INTERNAL";
    case grpc::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "?";
  }
}

// What every client of the run shares.
struct Run {
  const LoadOptions& options;
  Clock::time_point start, measure_start, deadline;
  Clock::duration timeout{};
  bool by_total = false;
  std::atomic<uint64_t> issued{0};  // measured requests handed out (--total)
  std::atomic<bool> stop{false};
};

// One completion queue, the thread that drains it, and what its clients record.
struct Loop {
  Loop(const LoadOptions& o, uint32_t index) : source(o, index) {}
  grpc::CompletionQueue cq;
  RequestSource source;
  LoadResult result;
  Clock::time_point last_done{};
  uint64_t slots = 0;
  size_t active = 0;  // clients that have not finished
};

// One channel (one HTTP/2 connection) and, with --user, the token it signed in for. All the
// clients of a channel run on one completion queue's thread, which alone touches `token`.
struct Session {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::KV::Stub> kv;
  std::string token;  // sent as "token" metadata, as etcd's clients do
};

// Signs the session in through etcdserverpb.Auth/Authenticate (a blocking call: once per
// channel before the run, and again after "invalid auth token"); "" or the error's kind.
std::string authenticate(Session& session, const LoadOptions& o) {
  session.token.clear();
  auto auth = pb::Auth::NewStub(session.channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::duration_cast<std::chrono::system_clock::duration>(
                       std::chrono::duration<double>(o.timeout)));
  pb::AuthenticateRequest request;
  request.set_name(o.user);
  request.set_password(o.password);
  pb::AuthenticateResponse response;
  grpc::Status status = auth->Authenticate(&ctx, request, &response);
  if (!status.ok()) {
    return fmt::format("authenticate: gRPC {}: {}", code_name(status.error_code()),
                       status.error_message());
  }
  if (response.token().empty()) return "authenticate: answered without a token";
  session.token = response.token();
  return {};
}

// One closed-loop client: a request (or a pause before one) in flight at a time.
class Client {
 public:
  Client(Run& run, Loop& loop, Session& session)
      : run_(run), loop_(loop), session_(session), stub_(*session.kv), ready_(run.start) {
    const LoadOptions& o = run.options;
    put_.set_value(loop.source.value());
    range_.set_serializable(!o.linearizable);
    if (o.workload == Workload::kTxn) {
      // As the HTTP mode's txn: compare mod_revision < 2^62 (always true), put, else range.
      auto* cmp = txn_.add_compare();
      cmp->set_target(pb::Compare::MOD);
      cmp->set_result(pb::Compare::LESS);
      cmp->set_mod_revision(int64_t{1} << 62);
      txn_.add_success()->mutable_request_put()->set_value(loop.source.value());
      txn_.add_failure()->mutable_request_range();
    }
  }

  // Starts the first request; false when the run has nothing for this client.
  bool start() { return advance(); }

  // A completion for this client (its call or its pause); false when the client is done.
  bool on_event(bool ok) {
    if (waiting_ == Waiting::kPause) return advance();
    auto done = Clock::now();
    ready_ = done;
    std::string failure = ok ? outcome() : "gRPC: the completion queue failed the call";
    if (!run_.options.user.empty() && (needs_new_token(failure) || session_.token.empty())) {
      // The token expired or the auth revision moved on (or signing in failed before): this
      // request counts as failed; the channel signs in again before the next.
      if (std::string renewed = authenticate(session_, run_.options); !renewed.empty()) {
        if (measured_) loop_.result.errors[renewed]++;
        ready_ = done + std::chrono::milliseconds(100);  // do not spin on a refusing server
      }
    }
    reader_put_.reset();
    reader_range_.reset();
    reader_txn_.reset();
    ctx_.reset();
    if (measured_) {
      loop_.last_done = std::max(loop_.last_done, done);
      loop_.result.record(failure, nanos(done - due_), nanos(done - run_.measure_start),
                          !run_.options.timeline.empty());
    }
    if (status_.error_code() == grpc::UNAVAILABLE) {
      // No connection or no leader: do not spin on it.
      ready_ = done + std::chrono::milliseconds(100);
    }
    return advance();
  }

 private:
  enum class Waiting { kNothing, kPause, kCall };

  // Schedules the next request: a pause until it is due, or the call itself. False when the
  // run is over for this client. Back from a pause, the request's schedule is already drawn.
  bool advance() {
    const LoadOptions& o = run_.options;
    if (run_.stop.load(std::memory_order_relaxed)) return false;
    if (waiting_ != Waiting::kPause) {
      due_ = ready_;
      if (o.rate > 0) {
        due_ = std::max(due_, run_.start + seconds(double(loop_.slots++) * o.threads / o.rate));
      }
      measured_ = due_ >= run_.measure_start;
      if (measured_ && !run_.by_total && due_ >= run_.deadline) return false;
      if (measured_ && run_.by_total &&
          run_.issued.fetch_add(1, std::memory_order_relaxed) >= o.total) {
        run_.stop = true;
        return false;
      }
    }
    if (due_ > Clock::now()) {
      waiting_ = Waiting::kPause;
      pause_.Set(&loop_.cq, to_system(due_), this);
      return true;
    }
    call();
    return true;
  }

  void call() {
    waiting_ = Waiting::kCall;
    ctx_ = std::make_unique<grpc::ClientContext>();
    ctx_->set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::duration_cast<std::chrono::system_clock::duration>(run_.timeout));
    if (!session_.token.empty()) ctx_->AddMetadata("token", session_.token);
    RequestSource::Choice next = loop_.source.next_choice();
    if (run_.options.workload == Workload::kTxn) {
      txn_.mutable_compare(0)->set_key(next.key);
      txn_.mutable_success(0)->mutable_request_put()->set_key(next.key);
      txn_.mutable_failure(0)->mutable_request_range()->set_key(std::move(next.key));
      reader_txn_ = stub_.PrepareAsyncTxn(ctx_.get(), txn_, &loop_.cq);
      reader_txn_->StartCall();
      reader_txn_->Finish(&txn_response_, &status_, this);
    } else if (next.read) {
      range_.set_key(std::move(next.key));
      range_.set_range_end(std::move(next.range_end));  // empty: a single-key range
      reader_range_ = stub_.PrepareAsyncRange(ctx_.get(), range_, &loop_.cq);
      reader_range_->StartCall();
      reader_range_->Finish(&range_response_, &status_, this);
    } else {
      put_.set_key(std::move(next.key));
      reader_put_ = stub_.PrepareAsyncPut(ctx_.get(), put_, &loop_.cq);
      reader_put_->StartCall();
      reader_put_->Finish(&put_response_, &status_, this);
    }
  }

  // "" when the finished call succeeded, else the error's kind.
  std::string outcome() const {
    if (!status_.ok()) {
      if (status_.error_code() == grpc::DEADLINE_EXCEEDED) {
        return fmt::format("gRPC DEADLINE_EXCEEDED: no answer within {} s", run_.options.timeout);
      }
      return fmt::format("gRPC {}: {}", code_name(status_.error_code()), status_.error_message());
    }
    bool has_header = reader_txn_     ? txn_response_.has_header()
                      : reader_range_ ? range_response_.has_header()
                                      : put_response_.has_header();
    return has_header ? std::string() : "gRPC OK without a response header";
  }

  Run& run_;
  Loop& loop_;
  Session& session_;
  pb::KV::Stub& stub_;
  Waiting waiting_ = Waiting::kNothing;
  Clock::time_point ready_;  // when the next request is due (closed loop)
  Clock::time_point due_;    // the request in flight: when it was due
  bool measured_ = false;
  grpc::Alarm pause_;
  // The call in flight. A context serves one call; the readers live in its arena, so they
  // are released before it.
  std::unique_ptr<grpc::ClientContext> ctx_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<pb::PutResponse>> reader_put_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<pb::RangeResponse>> reader_range_;
  std::unique_ptr<grpc::ClientAsyncResponseReader<pb::TxnResponse>> reader_txn_;
  grpc::Status status_;
  // Requests are built once and only their keys change.
  pb::PutRequest put_;
  pb::RangeRequest range_;
  pb::TxnRequest txn_;
  pb::PutResponse put_response_;
  pb::RangeResponse range_response_;
  pb::TxnResponse txn_response_;
};

void drain(Loop& loop, const std::vector<Client*>& clients) {
  for (Client* c : clients) loop.active += c->start() ? 1 : 0;
  void* tag = nullptr;
  bool ok = false;
  while (loop.active > 0 && loop.cq.Next(&tag, &ok)) {
    if (!static_cast<Client*>(tag)->on_event(ok)) loop.active--;
  }
  loop.cq.Shutdown();
  while (loop.cq.Next(&tag, &ok)) {
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string target_of(std::string e) {
  if (e.starts_with("http://")) e = e.substr(7);
  while (!e.empty() && e.back() == '/') e.pop_back();
  if (e.rfind(':') == std::string::npos) {
    throw std::invalid_argument("endpoint without a port: " + e);
  }
  return e;
}

}  // namespace

LoadResult run_grpc_load(const LoadOptions& options) {
  const LoadOptions& o = options;
  if (o.clients == 0 || o.conns == 0 || o.threads == 0) {
    throw std::invalid_argument("--clients, --conns and --threads must be at least 1");
  }
  if (o.endpoints.empty()) throw std::invalid_argument("no --endpoints");
  if (o.workload == Workload::kLeaseChurn || o.workload == Workload::kLeaseKeepAlive) {
    throw std::invalid_argument("the lease workloads have no gRPC mode (use --protocol http)");
  }
  validate_key_size(o);
  // Debian builds Abseil without NDEBUG, so every absl::Mutex that gRPC takes also updates a
  // lock-order graph for deadlock detection: about 5% of this tool's CPU under load (perf).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  Run run{o, {}, {}, {}};
  run.by_total = o.total > 0;
  run.timeout = seconds(o.timeout);
  std::vector<std::unique_ptr<Loop>> loops;
  for (uint32_t i = 0; i < o.threads; i++) loops.push_back(std::make_unique<Loop>(o, i));

  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!o.cacert.empty()) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = read_file(o.cacert);
    if (!o.cert.empty()) tls.pem_cert_chain = read_file(o.cert);
    if (!o.key.empty()) tls.pem_private_key = read_file(o.key);
    credentials = grpc::SslCredentials(tls);
  }
  std::vector<std::unique_ptr<Session>> sessions;
  uint32_t used = std::min(o.conns, o.clients);
  for (uint32_t c = 0; c < used; c++) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // one connection per channel
    args.SetMaxReceiveMessageSize(-1);
    // The tool's own cost per call, on the cores it shares with the servers: the minimal
    // filter stack (no compression or census filters) with deadline checks put back, and no
    // retry machinery (a failed request is counted, never retried). Measured against
    // grpc-ceiling-server: about 20% less CPU per call than the default stack.
    args.SetInt(GRPC_ARG_MINIMAL_STACK, 1);
    args.SetInt(GRPC_ARG_ENABLE_DEADLINE_CHECKS, 1);
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
    auto session = std::make_unique<Session>();
    session->channel = grpc::CreateCustomChannel(target_of(o.endpoints[c % o.endpoints.size()]),
                                                 credentials, args);
    session->kv = pb::KV::NewStub(session->channel);
    if (!o.user.empty()) {
      // Before the run, so that signing in (a bcrypt hash on the server) is not measured.
      if (std::string failure = authenticate(*session, o); !failure.empty()) {
        throw std::runtime_error(fmt::format("--user {} on {}: {}", o.user,
                                             o.endpoints[c % o.endpoints.size()], failure));
      }
    }
    sessions.push_back(std::move(session));
  }

  run.start = Clock::now();
  run.measure_start = run.start + seconds(o.warmup);
  run.deadline = run.measure_start + seconds(o.duration > 0 ? o.duration : 10);
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::vector<Client*>> by_loop(o.threads);
  for (uint32_t k = 0; k < o.clients; k++) {
    uint32_t channel = k % used;
    Loop& loop = *loops[channel % o.threads];
    clients.push_back(std::make_unique<Client>(run, loop, *sessions[channel]));
    by_loop[channel % o.threads].push_back(clients.back().get());
  }
  std::vector<std::thread> threads;
  for (uint32_t i = 0; i < o.threads; i++) {
    threads.emplace_back([&loop = *loops[i], &mine = by_loop[i]] { drain(loop, mine); });
  }
  for (auto& t : threads) t.join();

  LoadResult total;
  for (auto& loop : loops) {
    loop->result.seconds =
        loop->last_done > run.measure_start
            ? std::chrono::duration<double>(loop->last_done - run.measure_start).count()
            : 0;
    total.merge(loop->result);
  }
  return total;
}

}  // namespace etcdlab::bench
