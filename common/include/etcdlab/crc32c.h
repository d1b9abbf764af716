#pragma once
// CRC-32C (Castagnoli), the checksum of WAL records and snapshot files. Boost.CRC defines it;
// on x86-64 CPUs with SSE4.2 the CPU's crc32 instruction computes the same value faster.

#include <cstdint>
#include <string_view>

namespace etcdlab {

// The CRC-32C of `data`, continuing from `crc` (the value returned for the bytes before it), so
// a checksum can be computed over a stream chunk by chunk: crc32c(b, crc32c(a)) == crc32c(a + b).
uint32_t crc32c(std::string_view data, uint32_t crc = 0);

// The same, always with Boost.CRC (for tests that the fast path agrees).
uint32_t crc32c_portable(std::string_view data, uint32_t crc = 0);

}  // namespace etcdlab
