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

}  // namespace etcdlab
