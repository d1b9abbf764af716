#pragma once
// SHA-256 (OpenSSL's libcrypto), for what etcd checks with it: a database snapshot ends with the
// SHA-256 of its bytes (maintenance/snapshot, etcdlabctl snapshot save/restore).

#include <memory>
#include <string>
#include <string_view>

namespace etcdlab {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view bytes);
  std::string digest();  // the 32 raw bytes; the object is spent after this

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string sha256(std::string_view bytes);
std::string to_hex(std::string_view bytes);

}  // namespace etcdlab
