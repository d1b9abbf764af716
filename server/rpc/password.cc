// bcrypt over libxcrypt (password.h).
#include "password.h"

#include <crypt.h>

#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

namespace etcdlab::rpc {

namespace {

// crypt_rn with its ~32 KiB scratch area on the heap (it is too big for a worker's stack
// habits, and crypt_rn is thread-safe only with a buffer per call).
std::optional<std::string> crypt_string(const std::string& phrase, const std::string& setting) {
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn(phrase.c_str(), setting.c_str(), data.get(), sizeof(crypt_data));
  // libxcrypt's failure token starts with '*' (and crypt_rn may also return NULL).
  if (out == nullptr || out[0] == '*') return std::nullopt;
  return std::string(out);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

std::string hash_password(std::string_view password, int cost, std::string_view salt_bytes) {
  if (cost < kMinBcryptCost || cost > kMaxBcryptCost) {
    throw std::invalid_argument("bcrypt cost " + std::to_string(cost) + " is outside [" +
                                std::to_string(kMinBcryptCost) + ", " +
                                std::to_string(kMaxBcryptCost) + "]");
  }
  if (salt_bytes.size() < kSaltBytes) {
    throw std::invalid_argument("bcrypt needs " + std::to_string(kSaltBytes) + " salt bytes");
  }
  if (password.find('\0') != std::string_view::npos) {
    throw std::invalid_argument("a password may not hold a NUL byte");
  }
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn("$2b$", static_cast<unsigned long>(cost), salt_bytes.data(),
                       static_cast<int>(kSaltBytes), setting, sizeof setting) == nullptr) {
    throw std::runtime_error("libxcrypt: crypt_gensalt_rn failed for $2b$");
  }
  std::optional<std::string> hash = crypt_string(std::string(password), setting);
  if (!hash) throw std::runtime_error("libxcrypt: crypt_rn failed for $2b$");
  return *hash;
}

bool verify_password(std::string_view password, std::string_view hash) {
  if (password.find('\0') != std::string_view::npos) return false;
  if (!hash.starts_with("$2")) return false;  // only bcrypt is ever stored
  std::optional<std::string> again = crypt_string(std::string(password), std::string(hash));
  return again && constant_time_equal(*again, hash);
}

bool verify_or_pay(std::string_view password, const std::optional<std::string>& hash, int cost) {
  // (A user added with no password has an empty hash: nothing verifies, at a hash's cost.)
  if (hash && hash->starts_with("$2")) return verify_password(password, *hash);
  // One fixed hash per cost, made once (its salt needs no secrecy: nothing can log in with it).
  static std::mutex mu;
  static std::map<int, std::string> dummies;
  std::string dummy;
  {
    std::lock_guard lock(mu);
    auto it = dummies.find(cost);
    if (it == dummies.end()) {
      it = dummies
               .emplace(cost, hash_password("etcdlab: no such user", cost,
                                            std::string(kSaltBytes, '\x5a')))
               .first;
    }
    dummy = it->second;
  }
  verify_password(password, dummy);
  return false;
}

}  // namespace etcdlab::rpc
