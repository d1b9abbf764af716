// SHA-256 through OpenSSL: the FIPS 180-2 test vectors, fed whole and in pieces.
#include "etcdlab/sha256.h"

#include <gtest/gtest.h>

namespace etcdlab {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(to_hex(sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(to_hex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, PiecesHashLikeTheWhole) {
  std::string data(100000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7 % 256);
  Sha256 h;
  for (size_t at = 0; at < data.size(); at += 32768) h.update(std::string_view(data).substr(at, 32768));
  EXPECT_EQ(h.digest(), sha256(data));
  EXPECT_EQ(sha256(data).size(), 32u);
}

}  // namespace
}  // namespace etcdlab
