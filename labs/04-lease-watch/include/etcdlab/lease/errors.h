#pragma once
// Lab 4: the errors the lessor reports, with etcd's messages, which the server sends on as
// they are (the HTTP status and gRPC code are the server's business).

#include <stdexcept>

namespace etcdlab::lease {

class LeaseError : public std::runtime_error {
 public:
  enum class Code {
    kNotFound,     // "etcdserver: requested lease not found"
    kExists,       // "etcdserver: lease already exists"
    kTtlTooLarge,  // "etcdserver: too large lease TTL"
  };
  explicit LeaseError(Code code);
  Code code() const { return code_; }

 private:
  Code code_;
};

// etcd's message for a code. (Here, not in the lab: the messages are the API, not the work.)
inline const char* message_of(LeaseError::Code code) {
  switch (code) {
    case LeaseError::Code::kNotFound:
      return "etcdserver: requested lease not found";
    case LeaseError::Code::kExists:
      return "etcdserver: lease already exists";
    case LeaseError::Code::kTtlTooLarge:
      return "etcdserver: too large lease TTL";
  }
  return "etcdserver: unknown lease error";
}

inline LeaseError::LeaseError(Code code) : std::runtime_error(message_of(code)), code_(code) {}

}  // namespace etcdlab::lease
