#include "etcdlab/crc32c.h"

#include <boost/crc.hpp>
#include <cstring>

namespace etcdlab {
namespace {

// Castagnoli polynomial, reflected, initial and final XOR 0xFFFFFFFF (as iSCSI, ext4, etcd).
using Crc32cEngine = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

uint32_t reverse_bits(uint32_t x) {
  uint32_t r = 0;
  for (int i = 0; i < 32; ++i, x >>= 1) r = (r << 1) | (x & 1);
  return r;
}

uint32_t crc32c_boost(std::string_view data, uint32_t crc) {
  // To continue a checksum, start from the remainder it ended with: undo the final XOR, and
  // give the value in the unreflected form crc_optimal's constructor expects.
  Crc32cEngine engine(reverse_bits(crc ^ 0xFFFFFFFF));
  engine.process_bytes(data.data(), data.size());
  return engine.checksum();
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// The same function with the CPU's CRC32 instruction (SSE4.2), 8 bytes at a time. It computes
// exactly the CRC-32C above (common/tests/crc32c_test.cc checks both on random data); Boost is
// the definition and the fallback, this is only faster.
__attribute__((target("sse4.2"))) uint32_t crc32c_sse42(std::string_view data, uint32_t crc) {
  uint64_t c = crc ^ 0xFFFFFFFFu;
  const char* p = data.data();
  size_t n = data.size();
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n-- > 0) c32 = __builtin_ia32_crc32qi(c32, static_cast<uint8_t>(*p++));
  return c32 ^ 0xFFFFFFFFu;
}

bool have_sse42() {
  static const bool yes = __builtin_cpu_supports("sse4.2");
  return yes;
}
#endif

}  // namespace

uint32_t crc32c(std::string_view data, uint32_t crc) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (have_sse42()) return crc32c_sse42(data, crc);
#endif
  return crc32c_boost(data, crc);
}

uint32_t crc32c_portable(std::string_view data, uint32_t crc) {
  return crc32c_boost(data, crc);
}

}  // namespace etcdlab
