#include "etcdlab/crc32c.h"

#include <gtest/gtest.h>

namespace etcdlab {

TEST(Crc32c, MatchesTheStandardCheckValue) {
  // The check value of CRC-32C (RFC 3720, B.4) for "123456789".
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(Crc32c, ContinuesAcrossChunks) {
  std::string data = "the quick brown fox jumps over the lazy dog";
  for (size_t cut = 0; cut <= data.size(); ++cut) {
    uint32_t first = crc32c(std::string_view(data).substr(0, cut));
    EXPECT_EQ(crc32c(std::string_view(data).substr(cut), first), crc32c(data)) << "cut " << cut;
  }
}

TEST(Crc32c, FastPathAgreesWithBoost) {
  std::string data;
  for (int i = 0; i < 5000; ++i) {
    EXPECT_EQ(crc32c(data), crc32c_portable(data)) << "length " << data.size();
    EXPECT_EQ(crc32c(data, 0x12345678u), crc32c_portable(data, 0x12345678u));
    data.push_back(static_cast<char>((i * 2654435761u) >> 13));
  }
}

}  // namespace etcdlab
