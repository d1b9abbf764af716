#pragma once
// The server's state machine inside the simulator: etcdlab.Cluster(kv=True) runs the same
// request codec, the same apply (KvStateMachine) and the same MVCC store as the server, in
// memory, under the simulator's faults, so KV histories can be checked for linearizability
// deterministically. The Raft core is the same too; what the simulator does not run is the
// server's request tracking (KvNode's waiters): its own client model stands in.
//
// Simulated clients retry a write that was not answered with the same operation id; the app
// applies an id once (its snapshot keeps the ids it applied), as a real client would not
// retry a write it cannot deduplicate.
//
// Client data and outputs (etcdlab/codec.h):
//   write input   encode_request(0, request) (requests.h); the op id is filled in per attempt
//   write output  encode_write_output(Result)
//   read input    encode_query(KvQuery)
//   read output   encode_read_output(KvReadOutput)

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "etcdlab/mvcc/types.h"
#include "etcdlab/sim/app.h"
#include "requests.h"

namespace etcdlab::server {

struct KvQuery {
  mvcc::KeyRange range;
  mvcc::RangeOptions options;
};

struct KvReadOutput {
  std::optional<mvcc::MvccError::Code> error;
  mvcc::RangeResult result;
};

std::string encode_query(const KvQuery& query);
KvQuery decode_query(std::string_view data);  // throws DecodeError
std::string encode_write_output(const Result& result);
Result decode_write_output(std::string_view data);
std::string encode_read_output(const KvReadOutput& output);
KvReadOutput decode_read_output(std::string_view data);

// A new in-memory KV state machine for one simulated node.
std::unique_ptr<sim::SimApp> make_sim_kv_app();

}  // namespace etcdlab::server
