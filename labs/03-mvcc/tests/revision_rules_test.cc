// Lab 3, part A: revisions. The store starts at revision 1; each write that changes something
// takes the next main revision, shared by all its operations (sub revisions 0, 1, 2... in
// order); reads and writes that change nothing leave it alone (etcd-v3-json-api.md §3).
#include <gtest/gtest.h>

#include "mvcc_test_util.h"

namespace etcdlab::lab3 {

TEST(RevisionRules, AnEmptyStoreIsAtRevisionOne) {
  auto s = memory_store();
  EXPECT_EQ(s->revision(), 1);
  EXPECT_EQ(s->key_count(), 0);
  EXPECT_TRUE(read(*s, everything()).empty());
}

TEST(RevisionRules, EachPutTakesTheNextMainRevision) {
  auto s = memory_store();
  EXPECT_EQ(s->put("a", "1").revision, 2);
  EXPECT_EQ(s->put("b", "1").revision, 3);
  EXPECT_EQ(s->put("a", "2").revision, 4);
  EXPECT_EQ(s->revision(), 4);
}

TEST(RevisionRules, APutOfTheSameValueStillTakesARevision) {
  auto s = memory_store();
  s->put("a", "1");
  EXPECT_EQ(s->put("a", "1").revision, 3);
  EXPECT_EQ(read(*s, key("a")), std::vector{kv("a", 2, 3, 2, "1")});
}

TEST(RevisionRules, ADeleteTakesOneRevisionHoweverManyKeysItDeletes) {
  auto s = memory_store();
  s->put("a", "1");
  s->put("b", "1");
  s->put("c", "1");
  auto d = s->delete_range(span("a", "z"));
  EXPECT_EQ(d.deleted, 3);
  EXPECT_EQ(d.revision, 5);
  EXPECT_EQ(s->revision(), 5);
}

TEST(RevisionRules, ADeleteThatMatchesNothingDoesNotMoveTheRevision) {
  auto s = memory_store();
  s->put("a", "1");
  auto d = s->delete_range(key("nope"));
  EXPECT_EQ(d.deleted, 0);
  EXPECT_EQ(d.revision, 2) << "the current revision, unchanged";
  EXPECT_EQ(s->delete_range(span("b", "z")).deleted, 0);
  EXPECT_EQ(s->revision(), 2);
  EXPECT_EQ(s->put("b", "1").revision, 3) << "and the next write takes 3";
}

TEST(RevisionRules, ReadsDoNotMoveTheRevision) {
  auto s = memory_store();
  s->put("a", "1");
  for (int i = 0; i < 3; ++i) read(*s, everything());
  EXPECT_EQ(s->revision(), 2);
}

TEST(RevisionRules, AWriteTakesOneMainRevisionForAllItsOperations) {
  auto s = memory_store();
  s->put("x", "0");
  auto w = s->write();
  EXPECT_EQ(w.revision(), 3);
  EXPECT_EQ(w.put("a", "1", 0).revision, 3);
  EXPECT_EQ(w.put("b", "1", 0).revision, 3);
  EXPECT_EQ(w.delete_range(key("x")).revision, 3);
  auto events = w.end();
  EXPECT_EQ(s->revision(), 3);
  // Sub revisions follow the order of the operations: the events come back in that order.
  EXPECT_EQ(events,
            (std::vector<Event>{put_event(kv("a", 3, 3, 1, "1")), put_event(kv("b", 3, 3, 1, "1")),
                                delete_event("x", 3, kv("x", 2, 2, 1, "0"))}));
  EXPECT_EQ(s->put("c", "1").revision, 4);
}

TEST(RevisionRules, AWriteThatChangesNothingDoesNotMoveTheRevision) {
  auto s = memory_store();
  s->put("a", "1");
  {
    auto w = s->write();
    EXPECT_TRUE(w.end().empty());
  }
  {
    auto w = s->write();
    w.range(key("a"), {});
    EXPECT_EQ(w.delete_range(key("missing")).deleted, 0);
    EXPECT_TRUE(w.end().empty());
  }
  EXPECT_EQ(s->revision(), 2);
  EXPECT_EQ(s->put("b", "1").revision, 3);
}

TEST(RevisionRules, AWriteIsInvisibleUntilItEnds) {
  auto s = memory_store();
  s->put("a", "1");
  auto w = s->write();
  w.put("a", "2", 0);
  w.put("b", "1", 0);
  EXPECT_EQ(s->revision(), 2);
  EXPECT_EQ(read(*s, everything()), std::vector{kv("a", 2, 2, 1, "1")});
  w.end();
  EXPECT_EQ(s->revision(), 3);
  EXPECT_EQ(read(*s, everything()), (std::vector{kv("a", 2, 3, 2, "2"), kv("b", 3, 3, 1, "1")}));
}

TEST(RevisionRules, AWriteDroppedWithoutEndChangesNothing) {
  auto s = memory_store();
  s->put("a", "1");
  {
    auto w = s->write();
    w.put("a", "2", 0);
    w.delete_range(key("a"));
    w.put("c", "3", 0);
  }
  EXPECT_EQ(s->revision(), 2);
  EXPECT_EQ(read(*s, everything()), std::vector{kv("a", 2, 2, 1, "1")});
  EXPECT_EQ(s->put("b", "1").revision, 3) << "the dropped write's revision is free again";
  EXPECT_EQ(read(*s, everything()), (std::vector{kv("a", 2, 2, 1, "1"), kv("b", 3, 3, 1, "1")}));
}

TEST(RevisionRules, AWriteSeesItsOwnEarlierOperations) {
  auto s = memory_store();
  s->put("a", "1");
  auto w = s->write();
  w.put("b", "2", 0);
  w.delete_range(key("a"));
  auto r = w.range(everything(), {});
  EXPECT_EQ(r.kvs, std::vector{kv("b", 3, 3, 1, "2")});
  EXPECT_EQ(r.count, 1);
  EXPECT_EQ(r.revision, 3) << "a write with changes is one revision ahead";
  auto p = w.put("b", "3", 0, PutOptions{true, false, false});
  EXPECT_EQ(p.prev_kv, kv("b", 3, 3, 1, "2")) << "prev_kv is the write's own earlier put";
  auto events = w.end();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].kv, kv("b", 3, 3, 2, "3")) << "the second put of b in one write";
  EXPECT_FALSE(events[2].prev_kv) << "an event's prev_kv is the key before the whole write";
  EXPECT_EQ(read(*s, key("b")), std::vector{kv("b", 3, 3, 2, "3")});
}

TEST(RevisionRules, AnotherWriteAfterEndTakesTheNextRevision) {
  auto s = memory_store();
  for (int i = 0; i < 5; ++i) {
    auto w = s->write();
    EXPECT_EQ(w.revision(), 2 + i);
    w.put("k" + std::to_string(i), "v", 0);
    w.end();
  }
  EXPECT_EQ(s->revision(), 6);
  EXPECT_EQ(s->key_count(), 5);
}

TEST(RevisionRules, AWriteAssignedOverIsDroppedAndTheAssignedOneGoesOn) {
  auto one = memory_store();
  auto two = memory_store();
  Write w = one->write();
  w.put("a", "1", 0);
  w = two->write();  // one's write is dropped: one is free for writes again
  w.put("b", "1", 0);
  w.end();
  EXPECT_EQ(one->revision(), 1);
  EXPECT_TRUE(read(*one, everything()).empty());
  EXPECT_EQ(read(*two, everything()), std::vector{kv("b", 2, 2, 1, "1")});
  EXPECT_EQ(one->put("c", "1").revision, 2);

  Write x = one->write();
  Write y = std::move(x);
  x = std::move(y);  // onto a moved-from write
  x.put("d", "1", 0);
  x.end();
  EXPECT_EQ(read(*one, key("d")), std::vector{kv("d", 3, 3, 1, "1")});
}

}  // namespace etcdlab::lab3
