#pragma once
// Password hashing for the auth store: bcrypt ($2b$) through libxcrypt, as etcd stores users'
// passwords (Go's golang.org/x/crypto/bcrypt). Only hashes go into the Raft log; the password
// never leaves the rpc layer. Both calls cost 2^cost rounds of Blowfish (cost 10 ≈ 100 ms):
// run them on a worker thread (KvService::run_blocking), never on the node's or the io's
// thread. No randomness in here: the salt's bytes are an argument (the runtime passes
// OpenSSL's RAND_bytes), so tests are reproducible.

#include <optional>
#include <string>
#include <string_view>

namespace etcdlab::rpc {

inline constexpr int kDefaultBcryptCost = 10;  // etcd 3.4's --bcrypt-cost default
inline constexpr int kMinBcryptCost = 4;       // bcrypt's own range
inline constexpr int kMaxBcryptCost = 31;
inline constexpr size_t kSaltBytes = 16;  // bcrypt's salt is 128 bits

// "$2b$<cost>$<22 salt chars><31 hash chars>". Throws std::invalid_argument for a cost outside
// [4, 31], fewer than kSaltBytes salt bytes, or a password holding a NUL byte (crypt takes C
// strings: "a\0b" would hash as "a"); std::runtime_error if libxcrypt fails.
std::string hash_password(std::string_view password, int cost, std::string_view salt_bytes);

// Whether `password` hashes to `hash` (any bcrypt prefix libxcrypt knows: $2b$, $2a$ from Go,
// $2y$). A malformed hash or a password with a NUL byte is a mismatch, never an exception.
// The comparison takes the same time wherever the strings differ.
bool verify_password(std::string_view password, std::string_view hash);

// Checks `password` against `hash`, or — for a user that does not exist (nullopt) or has no
// password (an empty hash: etcd's UserAddOptions.no_password) — against a
// fixed hash of the same cost, so an unknown name costs as much time as a wrong password
// (etcd 3.4 answers it at once: a user-enumeration leak). Returns false for an unknown user.
bool verify_or_pay(std::string_view password, const std::optional<std::string>& hash, int cost);

}  // namespace etcdlab::rpc
