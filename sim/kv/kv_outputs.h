#pragma once
// What a simulated KV client asks and is told (etcdlab.Cluster(kv=True)): the queries of
// reads, and the outputs the simulator records for each operation (Operation::output), in the
// codec of etcdlab/codec.h. A write's input is the request itself (server/node/requests.h's
// encode_request, with id 0: the node gives the request its own id).
//
//   query    u64 kind, then
//              1 (range)       bytes key, bytes range_end, u64 limit, u64 revision,
//                              u64 sort order, u64 sort target, bool keys_only, bool count_only
//              2 (keep-alive)  u64 lease
//              3 (time to live) u64 lease, bool keys
//              4 (leases)
//   output   u64 kind, then
//              1 (write)  u64 revision, u64 store error + 1 (0: none), u64 lease error + 1,
//                         u64 request error, u64 value kind, then the value (put: bool has
//                         prev_kv [+ kv]; delete: u64 deleted, u64 n + n kvs; member: the
//                         member; alarms: u64 n + n x (u64 member, u64 type); lease grant:
//                         u64 id, u64 ttl; keep-alive: u64 id, u64 ttl; time to live: u64 id,
//                         u64 ttl, u64 granted, u64 n + n x bytes key; leases: u64 n + n ids;
//                         txn: the txn result below)
//              2 (read)   u64 store error + 1, u64 revision, u64 count, bool more, u64 n + n kvs
//              3 (error)  u64 gRPC code, bytes message: the error etcd's gateway would answer
//   kv       bytes key, u64 create, u64 mod, u64 version, bytes value, u64 lease
//   txn result  bool succeeded, u64 n, then n responses: u64 kind, then
//              1 (range)   u64 revision, u64 count, bool more, u64 n + n kvs
//              2 (put)     u64 revision, bool has prev_kv [+ kv]
//              3 (delete)  u64 revision, u64 deleted, u64 n + n prev kvs
//              4 (txn)     a txn result (its revision 0: etcd's empty nested header)

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api_error.h"
#include "etcdlab/codec.h"
#include "etcdlab/mvcc/types.h"
#include "requests.h"

namespace etcdlab::sim {

struct KvQuery {
  enum class Kind : uint64_t { kRange = 1, kKeepAlive, kTimeToLive, kLeases };
  Kind kind = Kind::kRange;
  mvcc::KeyRange range;          // kRange
  mvcc::RangeOptions options;    // kRange
  int64_t lease = 0;             // kKeepAlive, kTimeToLive
  bool with_keys = false;        // kTimeToLive
};

struct KvReadOutput {
  std::optional<mvcc::MvccError::Code> error;
  mvcc::RangeResult result;
};

struct KvOutput {
  enum class Kind : uint64_t { kWrite = 1, kRead = 2, kError = 3 };
  Kind kind = Kind::kWrite;
  server::Result write;
  KvReadOutput read;
  server::GrpcCode code = server::GrpcCode::kOk;
  std::string error;
};

std::string encode_query(const KvQuery& query);
KvQuery decode_query(std::string_view data);  // throws DecodeError
std::string encode_write_output(const server::Result& result);
std::string encode_read_output(const KvReadOutput& output);
std::string encode_error_output(const server::ApiError& error);
KvOutput decode_output(std::string_view data);  // throws DecodeError

// Parts of the format, shared by kv_outputs.cc and kv_txn_outputs.cc.
void encode_kv(Writer& w, const mvcc::KeyValue& kv);
mvcc::KeyValue decode_kv(Reader& r);
void encode_kvs(Writer& w, const std::vector<mvcc::KeyValue>& kvs);  // u64 n + n kvs
std::vector<mvcc::KeyValue> decode_kvs(Reader& r);
void encode_txn_result(Writer& w, const txn::TxnResult& t);
txn::TxnResult decode_txn_result(Reader& r, int depth = 0);  // throws DecodeError

}  // namespace etcdlab::sim
