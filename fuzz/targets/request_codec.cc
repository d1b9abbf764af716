// The request codec (server/node/requests.h): any bytes either decode or throw DecodeError;
// what decodes re-encodes to bytes that decode to the same request and the same stamp (the
// codec is a bijection on what it accepts, so every member applies what the proposer meant,
// as the user the proposer stamped). Versions 1 and 2: the auth kinds (9-20) and the stamp.
#include "../fuzz_input.h"
#include "etcdlab/errors.h"
#include "requests.h"

using namespace etcdlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  server::DecodedRequest decoded;
  try {
    decoded = server::decode_stamped_request(bytes);
  } catch (const DecodeError&) {
    return 0;
  }
  // The plain decoder agrees with the stamped one on the request.
  if (server::decode_request(bytes).second.index() != decoded.request.index()) __builtin_trap();
  std::string again = server::encode_request(decoded.id, decoded.request, decoded.stamp);
  auto twice = server::decode_stamped_request(again);  // must not throw
  if (twice.id != decoded.id || twice.stamp != decoded.stamp) __builtin_trap();
  if (twice.request.index() != decoded.request.index()) __builtin_trap();
  if (server::encode_request(twice.id, twice.request, twice.stamp) != again) __builtin_trap();
  return 0;
}
