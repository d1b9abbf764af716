#pragma once
// Client requests that go through the Raft log, and their results. A request is encoded into
// an entry's data (the codec of etcdlab/codec.h: a version, the request id, the kind, the
// fields); every member decodes and applies the same bytes, so every member computes the same
// result. Reads (ranges) do not go through the log: they use ReadIndex or are served locally.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "etcdlab/mvcc/errors.h"
#include "etcdlab/mvcc/types.h"
#include "etcdlab/types.h"

namespace etcdlab::server {

struct PutRequest {
  std::string key;
  std::string value;
  int64_t lease = 0;
  mvcc::PutOptions options;
};

struct DeleteRangeRequest {
  mvcc::KeyRange range;
  bool prev_kv = false;
};

struct CompactionRequest {
  int64_t revision = 0;
  bool physical = false;  // answer only once superseded versions are gone
};

// A member announces how clients reach it (etcd's "publish"), after it starts.
struct AttributesRequest {
  NodeId member = kNoNode;
  std::string name;
  std::vector<std::string> client_urls;
};

using Request = std::variant<PutRequest, DeleteRangeRequest, CompactionRequest, AttributesRequest>;

// Errors a request can end with that are not the store's (the store's are mvcc::MvccError).
enum class RequestError {
  kNone,
  kLeaseNotFound,  // "etcdserver: requested lease not found" (no leases before lab 4)
};

struct CompactionResult {};
struct AttributesResult {};

// What applying a request produced, as every member computes it.
struct Result {
  int64_t revision = 0;  // the store's revision after the request (the response header's)
  std::optional<mvcc::MvccError::Code> store_error;
  RequestError error = RequestError::kNone;
  std::variant<std::monostate, mvcc::PutResult, mvcc::DeleteResult, CompactionResult,
               AttributesResult>
      value;
  bool ok() const { return !store_error && error == RequestError::kNone; }
};

// The entry data for a request, and back. decode_request throws DecodeError.
std::string encode_request(uint64_t id, const Request& request);
std::pair<uint64_t, Request> decode_request(std::string_view data);

}  // namespace etcdlab::server
