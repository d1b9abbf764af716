// The request codec's version 2 (server/node/requests.h, auth_codec.cc): every auth kind and
// the stamp come back field for field; version-1 entries (every entry written before auth
// existed) still decode; an entry with no stamp and an old kind is still written as version 1
// (a cluster with auth off writes the bytes it always wrote); a bad stamp or kind is refused.
#include <gtest/gtest.h>

#include "../node/auth_codec.h"
#include "../node/requests.h"
#include "etcdlab/codec.h"
#include "etcdlab/errors.h"

namespace etcdlab::server {
namespace {

std::vector<Request> every_auth_kind() {
  auth::Permission p{auth::PermType::kReadWrite, std::string("k\0", 2), std::string(1, '\0')};
  return {AuthEnableRequest{},
          AuthDisableRequest{},
          UserAddRequest{"alice", "$2b$10$abcdefghijklmnopqrstuu"},
          UserDeleteRequest{"bob"},
          UserChangePasswordRequest{"carol", "$2b$04$x"},
          UserGrantRoleRequest{"dave", "reader"},
          UserRevokeRoleRequest{"erin", "writer"},
          RoleAddRequest{"rw"},
          RoleDeleteRequest{"single"},
          RoleGrantPermissionRequest{"rw", p},
          RoleRevokePermissionRequest{"rw", "a", "m"},
          AuthenticateRequest{"root", "ABCDEFGHIJKLMNOP", 42}};
}

bool same(const Request& a, const Request& b) {
  return encode_request(1, a) == encode_request(1, b) && a.index() == b.index();
}

TEST(AuthCodecTest, EveryAuthKindRoundTripsWithAndWithoutAStamp) {
  for (const Request& r : every_auth_kind()) {
    SCOPED_TRACE(r.index());
    EXPECT_TRUE(is_auth_request(r));
    for (std::optional<auth::AuthStamp> stamp :
         {std::optional<auth::AuthStamp>{}, std::optional<auth::AuthStamp>{{"root", 7}}}) {
      std::string bytes = encode_request(0x1234, r, stamp);
      DecodedRequest d = decode_stamped_request(bytes);
      EXPECT_EQ(d.id, 0x1234u);
      EXPECT_EQ(d.request.index(), r.index());
      EXPECT_TRUE(same(d.request, r));
      EXPECT_EQ(d.stamp, stamp);
      EXPECT_EQ(encode_request(d.id, d.request, d.stamp), bytes);
    }
  }
  // Fields, spot-checked through the variant (same() compares encodings).
  auto grant = std::get<RoleGrantPermissionRequest>(
      decode_request(encode_request(1, every_auth_kind()[9])).second);
  EXPECT_EQ(grant.perm.type, auth::PermType::kReadWrite);
  EXPECT_EQ(grant.perm.key, std::string("k\0", 2));
  EXPECT_EQ(grant.perm.range_end, std::string(1, '\0'));
  auto a = std::get<AuthenticateRequest>(decode_request(encode_request(1, every_auth_kind()[11])).second);
  EXPECT_EQ(a.token_prefix, "ABCDEFGHIJKLMNOP");
  EXPECT_EQ(a.checked_revision, 42u);
}

TEST(AuthCodecTest, AStampedPutRoundTripsAsVersionTwo) {
  PutRequest p{"k", "v", 5, {}};
  std::string bytes = encode_request(9, p, auth::AuthStamp{"alice", 3});
  EXPECT_EQ(bytes[0], 2) << "version 2";
  DecodedRequest d = decode_stamped_request(bytes);
  EXPECT_EQ(d.stamp, (auth::AuthStamp{"alice", 3}));
  EXPECT_EQ(std::get<PutRequest>(d.request).key, "k");
}

TEST(AuthCodecTest, AnUnstampedOldKindIsStillWrittenAsVersionOne) {
  // Version 1 as it was written before auth: u64 1, u64 id, kind 1 (put), key, value, lease,
  // prev_kv, ignore_value, ignore_lease.
  std::string v1;
  Writer w(v1);
  w.u64(1);
  w.u64(77);
  w.u64(1);
  w.bytes("foo");
  w.bytes("bar");
  w.u64(0);
  w.boolean(false);
  w.boolean(false);
  w.boolean(false);
  EXPECT_EQ(encode_request(77, PutRequest{"foo", "bar", 0, {}}), v1);
  DecodedRequest d = decode_stamped_request(v1);
  EXPECT_EQ(d.id, 77u);
  EXPECT_FALSE(d.stamp.has_value());
  EXPECT_EQ(std::get<PutRequest>(d.request).value, "bar");
}

TEST(AuthCodecTest, AuthKindsAreRefusedInAVersionOneEntry) {
  std::string bytes = encode_request(1, RoleAddRequest{"x"});
  bytes[0] = 1;  // version 1 knows kinds 1-8 only
  EXPECT_THROW(decode_request(bytes), DecodeError);
}

TEST(AuthCodecTest, TruncatedOrBadStampsAndKindsAreRefused) {
  std::string bytes = encode_request(1, PutRequest{"k", "v", 0, {}}, auth::AuthStamp{"u", 2});
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_THROW(decode_request(bytes.substr(0, n)), DecodeError) << "truncated at " << n;
  }
  EXPECT_THROW(decode_request(bytes + "x"), DecodeError) << "trailing bytes";
  std::string bad_perm = encode_request(1, RoleGrantPermissionRequest{"r", {}});
  // version, id, kind, name "r" (2 bytes), then the type: make it 3 (no such type).
  bad_perm[5] = 3;
  EXPECT_THROW(decode_request(bad_perm), DecodeError);
  std::string v2_kind21;
  Writer w(v2_kind21);
  w.u64(2);
  w.u64(1);
  w.u64(21);
  w.boolean(false);
  EXPECT_THROW(decode_request(v2_kind21), DecodeError);
  std::string v3 = bytes;
  v3[0] = 3;
  EXPECT_THROW(decode_request(v3), DecodeError);
}

}  // namespace
}  // namespace etcdlab::server
