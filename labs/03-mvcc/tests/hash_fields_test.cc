// Lab 3, part D: what hash_kv covers. Two stores whose visible keys differ in any one field must
// hash differently, or the hash cannot catch a member that diverged in that field; and the
// fields must be delimited, or bytes moved from one field to the next go unnoticed.
#include <gtest/gtest.h>

#include "mvcc_test_util.h"

namespace etcdlab::lab3 {

TEST(HashKv, TheCreateAndModRevisionsAndTheVersionAreInTheHash) {
  // Each store ends with the single key "a"; "z" only fills a revision and is gone again.
  auto base = memory_store();  // a: create 2, mod 4, version 2
  base->put("a", "v");
  base->put("z", "-");
  base->put("a", "v");
  base->delete_range(key("z"));
  auto other_create = memory_store();  // a: create 3, mod 4, version 2
  other_create->put("z", "-");
  other_create->put("a", "v");
  other_create->put("a", "v");
  other_create->delete_range(key("z"));
  auto other_mod = memory_store();  // a: create 2, mod 3, version 2
  other_mod->put("a", "v");
  other_mod->put("a", "v");
  other_mod->put("z", "-");
  other_mod->delete_range(key("z"));
  auto other_version = memory_store();  // a: create 2, mod 4, version 3
  other_version->put("a", "v");
  other_version->put("a", "v");
  other_version->put("a", "v");

  ASSERT_EQ(read(*base, everything()), std::vector{kv("a", 2, 4, 2, "v")});
  ASSERT_EQ(read(*other_create, everything()), std::vector{kv("a", 3, 4, 2, "v")});
  ASSERT_EQ(read(*other_mod, everything()), std::vector{kv("a", 2, 3, 2, "v")});
  ASSERT_EQ(read(*other_version, everything()), std::vector{kv("a", 2, 4, 3, "v")});
  EXPECT_NE(base->hash_kv(0), other_create->hash_kv(0)) << "the create revision is hashed";
  EXPECT_NE(base->hash_kv(0), other_mod->hash_kv(0)) << "the mod revision is hashed";
  EXPECT_NE(base->hash_kv(0), other_version->hash_kv(0)) << "the version is hashed";
}

TEST(HashKv, BytesMovedFromAValueToTheNextKeyChangeTheHash) {
  // {a: "x", bk: "v"} and {a: "xb", k: "v"}: the same bytes in the same order, split
  // differently between a value and the next key. Without the lengths they hash alike.
  auto one = memory_store();
  one->put("a", "x");
  one->put("bk", "v");
  auto other = memory_store();
  other->put("a", "xb");
  other->put("k", "v");
  EXPECT_NE(one->hash_kv(0), other->hash_kv(0));
}

}  // namespace etcdlab::lab3
