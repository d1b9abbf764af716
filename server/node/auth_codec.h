#pragma once
// The auth requests' part of the request codec (requests.h: version 2, kinds 9-20) and the
// stamp every version-2 entry ends with. Private to requests.cc and the node's tests.

#include <optional>

#include "etcdlab/codec.h"
#include "requests.h"

namespace etcdlab::server {

inline constexpr uint64_t kFirstAuthKind = 9;
inline constexpr uint64_t kLastAuthKind = 20;

// Writes the kind and the fields of an auth request; false (nothing written) for another kind.
bool encode_auth_request(Writer& w, const Request& request);
// Reads the fields of auth kind `kind` (kFirstAuthKind..kLastAuthKind). Throws DecodeError.
Request decode_auth_request(Reader& r, uint64_t kind);

void encode_stamp(Writer& w, const std::optional<auth::AuthStamp>& stamp);
std::optional<auth::AuthStamp> decode_stamp(Reader& r);

}  // namespace etcdlab::server
