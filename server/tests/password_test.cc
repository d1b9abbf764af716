// bcrypt through libxcrypt (server/rpc/password.h): the hash etcd stores, never the password.
#include "../rpc/password.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace etcdlab::rpc {
namespace {

const std::string kSalt(kSaltBytes, '\x11');

TEST(Password, HashIsBcrypt2bWithTheGivenCostAndNeverHoldsThePassword) {
  std::string h = hash_password("s3cret-pw", 4, kSalt);
  EXPECT_EQ(h.substr(0, 7), "$2b$04$") << h;
  EXPECT_EQ(h.size(), 60u) << h;  // $2b$ + cost + $ + 22 salt chars + 31 hash chars
  EXPECT_EQ(h.find("s3cret-pw"), std::string::npos);
  EXPECT_EQ(hash_password("s3cret-pw", 5, kSalt).substr(0, 7), "$2b$05$");
}

TEST(Password, SameSaltSameHashOtherSaltOtherHash) {
  EXPECT_EQ(hash_password("pw", 4, kSalt), hash_password("pw", 4, kSalt));
  EXPECT_NE(hash_password("pw", 4, kSalt), hash_password("pw", 4, std::string(kSaltBytes, 'x')));
}

TEST(Password, VerifyAcceptsTheRightPasswordOnly) {
  std::string h = hash_password("right", 4, kSalt);
  EXPECT_TRUE(verify_password("right", h));
  EXPECT_FALSE(verify_password("wrong", h));
  EXPECT_FALSE(verify_password("", h));
}

TEST(Password, VerifiesGoStyle2aHashes) {
  // crypt_blowfish's published test vector ($2a$, as Go's bcrypt writes them and etcd 3.4 stores).
  EXPECT_TRUE(
      verify_password("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
  EXPECT_FALSE(
      verify_password("U*V", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
}

TEST(Password, MalformedHashOrNulPasswordIsAMismatchNotAnError) {
  EXPECT_FALSE(verify_password("x", ""));
  EXPECT_FALSE(verify_password("x", "plain-sha"));
  EXPECT_FALSE(verify_password("x", "$2b$04$short"));
  std::string h = hash_password("a", 4, kSalt);
  EXPECT_FALSE(verify_password(std::string("a\0b", 3), h));  // would compare as "a"
}

TEST(Password, RefusesCostOutsideBcryptsRangeShortSaltAndNulPasswords) {
  EXPECT_THROW(hash_password("pw", 3, kSalt), std::invalid_argument);
  EXPECT_THROW(hash_password("pw", 32, kSalt), std::invalid_argument);
  EXPECT_THROW(hash_password("pw", 4, "short"), std::invalid_argument);
  EXPECT_THROW(hash_password(std::string("a\0b", 3), 4, kSalt), std::invalid_argument);
}

TEST(Password, UnknownUserPaysADummyVerifyAndNeverMatches) {
  EXPECT_FALSE(verify_or_pay("anything", std::nullopt, 4));
  EXPECT_FALSE(verify_or_pay("etcdlab: no such user", std::nullopt, 4));
  EXPECT_TRUE(verify_or_pay("pw", hash_password("pw", 4, kSalt), 4));
}

}  // namespace
}  // namespace etcdlab::rpc
