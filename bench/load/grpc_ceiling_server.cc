// `etcdlab-bench grpc-ceiling-server --port N`: the ceiling of the gRPC path on this machine,
// as ceiling-server is for HTTP. etcdserverpb.KV on gRPC C++'s callback API (the API etcdlab's
// gRPC door uses, with gRPC's default threads), answering Put, Range and Txn at once with fixed
// answers of the shape etcd gives (a header; a range also one 16-byte key with a 256-byte
// value), no store behind them. The load generator run against it measures what gRPC plus the
// load tool cost on this machine, so a server's figures can be read as a share of that
// ceiling. Stops on SIGINT or SIGTERM.
#include <absl/synchronization/mutex.h>
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <csignal>
#include <memory>
#include <string>

#include "../bench_command.h"
#include "rpc.grpc.pb.h"

namespace etcdlab::bench {
namespace {

namespace pb = etcdserverpb;

// What etcd 3.4 puts in a header, ids and revision of a small cluster.
void fill_header(pb::ResponseHeader* h) {
  h->set_cluster_id(14841639068965178418ULL);
  h->set_member_id(10276657743932975437ULL);
  h->set_revision(123456);
  h->set_raft_term(2);
}

class FixedKv final : public pb::KV::CallbackService {
 public:
  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* c, const pb::RangeRequest* req,
                                  pb::RangeResponse* out) override {
    fill_header(out->mutable_header());
    auto* kv = out->add_kvs();
    kv->set_key(req->key());
    kv->set_value(value_);
    kv->set_create_revision(1000);
    kv->set_mod_revision(123000);
    kv->set_version(7);
    out->set_count(1);
    return finish(c);
  }
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* c, const pb::PutRequest*,
                                pb::PutResponse* out) override {
    fill_header(out->mutable_header());
    return finish(c);
  }
  grpc::ServerUnaryReactor* Txn(grpc::CallbackServerContext* c, const pb::TxnRequest*,
                                pb::TxnResponse* out) override {
    fill_header(out->mutable_header());
    out->set_succeeded(true);
    fill_header(out->add_responses()->mutable_response_put()->mutable_header());
    return finish(c);
  }

 private:
  static grpc::ServerUnaryReactor* finish(grpc::CallbackServerContext* c) {
    auto* reactor = c->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  const std::string value_ = std::string(256, 'v');
};

struct Options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
};

volatile std::sig_atomic_t g_stop = 0;

void serve(const Options& o) {
  // As in grpc_load.cc: no lock-order graph on every absl::Mutex (Debian's Abseil is built
  // without NDEBUG).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  FixedKv service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(fmt::format("{}:{}", o.host, o.port), grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    throw std::runtime_error(
        fmt::format("grpc-ceiling-server: cannot listen on {}:{}", o.host, o.port));
  }
  fmt::print("grpc-ceiling-server listening on {}:{}\n", o.host, port);
  std::fflush(stdout);
  std::signal(SIGINT, [](int) { g_stop = 1; });
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  // gRPC's own threads serve; this one only waits for the signal (pause() returns on one).
  while (!g_stop) pause();
  server->Shutdown(std::chrono::system_clock::now());
}

}  // namespace

void add_grpc_ceiling_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "grpc-ceiling-server",
      "a gRPC etcdserverpb.KV answering fixed Put/Range/Txn answers (the ceiling of gRPC)");
  cmd->add_option("--host", o->host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", o->port, "port to listen on")->required();
  cmd->callback([o] { serve(*o); });
}

}  // namespace etcdlab::bench
