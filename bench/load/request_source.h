#pragma once
// The requests a load run sends, as ready-to-write HTTP/1.1 bytes. The JSON bodies are
// preformatted: fixed text around the base64 of the key (and, for puts, a value encoded once),
// so the hot path formats no JSON. The gRPC mode (grpc_load.cc) draws the same choices with
// next_choice() and fills protobuf messages instead. One source per event-loop thread (not
// thread-safe).

#include <cstdint>
#include <string>
#include <string_view>

#include "etcdlab/random.h"
#include "load_options.h"

namespace etcdlab::bench {

// Appends the standard base64 (with padding) of `bytes` to `out`.
void append_base64(std::string& out, std::string_view bytes);

class RequestSource {
 public:
  // `stream` tells sources of different threads apart: it seeds the key choice and offsets
  // sequential keys so threads do not write the same keys in lockstep.
  RequestSource(const LoadOptions& options, uint32_t stream);

  // Writes the next request for `host` (the Host header) into `out` (replacing its content).
  void next(std::string& out, std::string_view host);

  // The next request's kind and key (raw bytes), drawn as next() draws them: `read` is true for
  // a range (kRange, and kMixed with probability read_ratio); a kTxn request is not a read.
  // `range_end` is set for a read when range_keys > 1: the range [key, range_end) holds
  // exactly range_keys consecutive keys of the key space (empty: a single-key range).
  struct Choice {
    bool read = false;
    std::string key;
    std::string range_end;
  };
  [[nodiscard]] Choice next_choice();
  // The value every put writes (val_size bytes).
  [[nodiscard]] const std::string& value() const { return value_; }

  // The lease workloads' requests (their bodies are formatted each time: a lease operation
  // costs the server a Raft round or a leader's answer, far more than the formatting).
  void lease_grant(std::string& out, std::string_view host);  // the server picks the id
  void lease_put(std::string& out, std::string_view host, int64_t lease);  // next key, attached
  void lease_revoke(std::string& out, std::string_view host, int64_t lease);
  void lease_keepalive(std::string& out, std::string_view host, int64_t lease);

  // The key with index k as key_size bytes: k in decimal, zero-padded on the left (a key_size
  // too small for the key space is rejected by validate_key_size).
  static std::string key_bytes(uint64_t k, uint32_t key_size);

 private:
  // The next key index; `span` keys from it on are all in the key space.
  uint64_t next_key(uint64_t span = 1);
  static void post(std::string& out, std::string_view host, std::string_view path,
                   std::string_view body);

  const LoadOptions& options_;
  Rng rng_;
  uint64_t sequence_;
  std::string value_;
  std::string value_b64_;
  std::string key_;
  std::string range_end_;
};

// Throws std::invalid_argument when key_size cannot hold every key of the key space (from
// key_offset on), or when range_keys is 0 or larger than the key space.
void validate_key_size(const LoadOptions& options);

}  // namespace etcdlab::bench
