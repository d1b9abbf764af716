#include "etcdlab/crc32c.h"

#include <boost/crc.hpp>

namespace etcdlab {
namespace {

// Castagnoli polynomial, reflected, initial and final XOR 0xFFFFFFFF (as iSCSI, ext4, etcd).
using Crc32cEngine = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

uint32_t reverse_bits(uint32_t x) {
  uint32_t r = 0;
  for (int i = 0; i < 32; ++i, x >>= 1)
    r = (r << 1) | (x & 1);
  return r;
}

}  // namespace

uint32_t crc32c(std::string_view data, uint32_t crc) {
  // To continue a checksum, start from the remainder it ended with: undo the final XOR, and
  // give the value in the unreflected form crc_optimal's constructor expects.
  Crc32cEngine engine(reverse_bits(crc ^ 0xFFFFFFFF));
  engine.process_bytes(data.data(), data.size());
  return engine.checksum();
}

}  // namespace etcdlab
