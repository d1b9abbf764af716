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

// etcd's message for a code. (Here, not in the lab: the messages are the API, not the work.)
inline const char* message_of(MvccError::Code code) {
  switch (code) {
    case MvccError::Code::kEmptyKey:
      return "etcdserver: key is not provided";
    case MvccError::Code::kCompacted:
      return "etcdserver: mvcc: required revision has been compacted";
    case MvccError::Code::kFutureRevision:
      return "etcdserver: mvcc: required revision is a future revision";
    case MvccError::Code::kKeyNotFound:
      return "etcdserver: key not found";
    case MvccError::Code::kValueProvided:
      return "etcdserver: value is provided";
    case MvccError::Code::kLeaseProvided:
      return "etcdserver: lease is provided";
  }
  return "etcdserver: unknown mvcc error";
}

inline MvccError::MvccError(Code code) : std::runtime_error(message_of(code)), code_(code) {}

}  // namespace etcdlab::mvcc
