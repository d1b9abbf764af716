#pragma once
// CRC-32C (Castagnoli), the checksum of WAL records and snapshot files, computed with Boost.CRC.

#include <cstdint>
#include <string_view>

namespace etcdlab {

// The CRC-32C of `data`, continuing from `crc` (the value returned for the bytes before it), so
// a checksum can be computed over a stream chunk by chunk: crc32c(b, crc32c(a)) == crc32c(a + b).
uint32_t crc32c(std::string_view data, uint32_t crc = 0);

}  // namespace etcdlab
