// Lab 3, part A: a write ends at end(), not when its Write object goes away. The node keeps
// the object around (in a scope, in a member) and goes on with the next write at once.
#include <gtest/gtest.h>

#include "mvcc_test_util.h"

namespace etcdlab::lab3 {

TEST(RevisionRules, AnEndedWriteLetsTheNextOneInWhileItsObjectStillLives) {
  auto s = memory_store();
  s->put("a", "1");
  Write nothing = s->write();
  nothing.delete_range(key("missing"));
  nothing.end();  // changed nothing: no revision, and no longer open
  EXPECT_EQ(s->put("b", "1").revision, 3) << "a write after an ended write that changed nothing";
  Write something = s->write();
  something.put("c", "1", 0);
  something.end();
  EXPECT_EQ(s->put("d", "1").revision, 5) << "a write after an ended write that changed a key";
  EXPECT_EQ(s->key_count(), 4);
}

}  // namespace etcdlab::lab3
