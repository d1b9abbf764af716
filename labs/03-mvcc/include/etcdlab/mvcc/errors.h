#pragma once
// Lab 3: the errors the MVCC store reports, with etcd's messages, so the server can send them on
// unchanged (HTTP status and gRPC code are the server's business: etcd-v3-json-api.md §8).
// A request that fails leaves the store unchanged.

#include <stdexcept>
#include <string>

namespace etcdlab::mvcc {

class MvccError : public std::runtime_error {
 public:
  enum class Code {
    kEmptyKey,        // "etcdserver: key is not provided"
    kCompacted,       // "etcdserver: mvcc: required revision has been compacted"
    kFutureRevision,  // "etcdserver: mvcc: required revision is a future revision"
    kKeyNotFound,     // "etcdserver: key not found" (ignore_value / ignore_lease, missing key)
    kValueProvided,   // "etcdserver: value is provided" (ignore_value with a value)
    kLeaseProvided,   // "etcdserver: lease is provided" (ignore_lease with a lease)
  };
  explicit MvccError(Code code);
  Code code() const { return code_; }

 private:
  Code code_;
};

// etcd's message for a code.
const char* message_of(MvccError::Code code);

}  // namespace etcdlab::mvcc
