// The request codec (server/node/requests.h): any bytes either decode or throw DecodeError;
// what decodes re-encodes to bytes that decode to the same request (the codec is a bijection
// on what it accepts, so every member applies what the proposer meant).
#include "../fuzz_input.h"
#include "etcdlab/errors.h"
#include "requests.h"

using namespace etcdlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::pair<uint64_t, server::Request> decoded;
  try {
    decoded = server::decode_request(bytes);
  } catch (const DecodeError&) {
    return 0;
  }
  std::string again = server::encode_request(decoded.first, decoded.second);
  auto twice = server::decode_request(again);  // must not throw
  if (twice.first != decoded.first) __builtin_trap();
  if (server::encode_request(twice.first, twice.second) != again) __builtin_trap();
  return 0;
}
