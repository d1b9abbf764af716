// Lab 3, part A: what put and delete do to a key (etcd-v3-json-api.md §3, §4.2, §4.3):
// version 1 on create and +1 per put, create_revision of the current generation, a delete ends
// the generation; prev_kv, ignore_value, ignore_lease; and the errors, which change nothing.
#include <gtest/gtest.h>

#include "mvcc_test_util.h"

namespace etcdlab::lab3 {

TEST(WriteRules, APutCreatesVersionOneWithCreateEqualToMod) {
  auto s = memory_store();
  s->put("foo", "bar", 7);
  EXPECT_EQ(read(*s, key("foo")), std::vector{kv("foo", 2, 2, 1, "bar", 7)});
  EXPECT_EQ(s->key_count(), 1);
}

TEST(WriteRules, EachPutAddsOneToVersionAndKeepsCreateRevision) {
  auto s = memory_store();
  s->put("foo", "1");
  s->put("other", "x");
  s->put("foo", "2");
  s->put("foo", "3");
  EXPECT_EQ(read(*s, key("foo")), std::vector{kv("foo", 2, 5, 3, "3")});
  EXPECT_EQ(s->key_count(), 2);
}

TEST(WriteRules, DeleteThenPutStartsANewGeneration) {
  auto s = memory_store();
  s->put("foo", "1");
  s->put("foo", "2");
  s->delete_range(key("foo"));
  EXPECT_TRUE(read(*s, key("foo")).empty());
  EXPECT_EQ(s->key_count(), 0);
  s->put("foo", "3");
  EXPECT_EQ(read(*s, key("foo")), std::vector{kv("foo", 5, 5, 1, "3")})
      << "version back to 1, create_revision of the new generation";
  EXPECT_EQ(s->key_count(), 1);
}

TEST(WriteRules, PutReturnsPrevKvOnlyWhenAskedAndTheKeyExisted) {
  auto s = memory_store();
  EXPECT_FALSE(s->put("foo", "1", 0, PutOptions{true, false, false}).prev_kv) << "a new key";
  EXPECT_FALSE(s->put("foo", "2").prev_kv) << "not asked";
  auto r = s->put("foo", "3", 4, PutOptions{true, false, false});
  EXPECT_EQ(r.revision, 4);
  EXPECT_EQ(r.prev_kv, kv("foo", 2, 3, 2, "2"));
}

TEST(WriteRules, APutWithoutALeaseDetachesTheKeyFromItsLease) {
  auto s = memory_store();
  s->put("foo", "1", 42);
  s->put("foo", "2");
  EXPECT_EQ(read(*s, key("foo")), std::vector{kv("foo", 2, 3, 2, "2", 0)});
}

TEST(WriteRules, IgnoreValueKeepsTheValueAndIgnoreLeaseKeepsTheLease) {
  auto s = memory_store();
  s->put("foo", "bar", 5);
  auto r = s->put("foo", "", 9, PutOptions{false, true, false});
  EXPECT_EQ(r.revision, 3) << "it is still a put: a new revision";
  EXPECT_EQ(read(*s, key("foo")), std::vector{kv("foo", 2, 3, 2, "bar", 9)});
  s->put("foo", "baz", 0, PutOptions{false, false, true});
  EXPECT_EQ(read(*s, key("foo")), std::vector{kv("foo", 2, 4, 3, "baz", 9)});
  s->put("foo", "", 0, PutOptions{true, true, true});
  EXPECT_EQ(read(*s, key("foo")), std::vector{kv("foo", 2, 5, 4, "baz", 9)});
}

TEST(WriteRules, IgnoreValueOrLeaseOnAMissingKeyIsKeyNotFound) {
  auto s = memory_store();
  s->put("other", "x");
  EXPECT_MVCC_ERROR(MvccError::Code::kKeyNotFound, "etcdserver: key not found",
                    s->put("foo", "", 0, PutOptions{false, true, false}));
  EXPECT_MVCC_ERROR(MvccError::Code::kKeyNotFound, "etcdserver: key not found",
                    s->put("foo", "v", 0, PutOptions{false, false, true}));
  s->put("foo", "1");
  s->delete_range(key("foo"));
  EXPECT_MVCC_ERROR(MvccError::Code::kKeyNotFound, "etcdserver: key not found",
                    s->put("foo", "", 0, PutOptions{false, true, false}))
      << "a deleted key is missing too";
  EXPECT_EQ(s->revision(), 4);
  EXPECT_TRUE(read(*s, key("foo")).empty());
}

TEST(WriteRules, AValueWithIgnoreValueOrALeaseWithIgnoreLeaseIsRefused) {
  auto s = memory_store();
  s->put("foo", "1", 3);
  EXPECT_MVCC_ERROR(MvccError::Code::kValueProvided, "etcdserver: value is provided",
                    s->put("foo", "2", 0, PutOptions{false, true, false}));
  EXPECT_MVCC_ERROR(MvccError::Code::kLeaseProvided, "etcdserver: lease is provided",
                    s->put("foo", "2", 4, PutOptions{false, false, true}));
  EXPECT_MVCC_ERROR(MvccError::Code::kValueProvided, "etcdserver: value is provided",
                    s->put("missing", "2", 0, PutOptions{false, true, false}))
      << "etcd checks the request before it looks for the key";
  EXPECT_EQ(s->revision(), 2);
  EXPECT_EQ(read(*s, key("foo")), std::vector{kv("foo", 2, 2, 1, "1", 3)});
}

TEST(WriteRules, AnEmptyKeyIsRefusedAndChangesNothing) {
  auto s = memory_store();
  s->put("a", "1");
  EXPECT_MVCC_ERROR(MvccError::Code::kEmptyKey, kEmptyKeyMessage, s->put("", "v"));
  EXPECT_MVCC_ERROR(MvccError::Code::kEmptyKey, kEmptyKeyMessage, s->delete_range(key("")));
  EXPECT_MVCC_ERROR(MvccError::Code::kEmptyKey, kEmptyKeyMessage, s->delete_range(span("", "z")));
  EXPECT_EQ(s->revision(), 2);
  EXPECT_EQ(read(*s, everything()), std::vector{kv("a", 2, 2, 1, "1")});
}

TEST(WriteRules, AFailedOperationLeavesTheWriteAsItWas) {
  auto s = memory_store();
  auto w = s->write();
  w.put("a", "1", 0);
  EXPECT_MVCC_ERROR(MvccError::Code::kKeyNotFound, "etcdserver: key not found",
                    w.put("b", "", 0, PutOptions{false, true, false}));
  EXPECT_MVCC_ERROR(MvccError::Code::kEmptyKey, kEmptyKeyMessage, w.put("", "x", 0));
  w.put("c", "1", 0);
  auto events = w.end();
  EXPECT_EQ(events, (std::vector<Event>{put_event(kv("a", 2, 2, 1, "1")),
                                        put_event(kv("c", 2, 2, 1, "1"))}));
}

TEST(WriteRules, DeleteRangeDeletesTheKeysOfTheRangeWithTheirPrevKvs) {
  auto s = memory_store();
  for (std::string k : {"a", "b", "b1", "b2", "c"}) s->put(k, "v" + k);
  auto d = s->delete_range(span("b", "c"), true);
  EXPECT_EQ(d.deleted, 3);
  EXPECT_EQ(d.revision, 7);
  EXPECT_EQ(d.prev_kvs, (std::vector{kv("b", 3, 3, 1, "vb"), kv("b1", 4, 4, 1, "vb1"),
                                     kv("b2", 5, 5, 1, "vb2")}));
  EXPECT_EQ(read(*s, everything()), (std::vector{kv("a", 2, 2, 1, "va"), kv("c", 6, 6, 1, "vc")}));
  EXPECT_EQ(s->key_count(), 2);
  EXPECT_TRUE(s->delete_range(key("a")).prev_kvs.empty()) << "prev_kvs only when asked";
}

TEST(WriteRules, DeleteRangeFollowsTheRangeEndRules) {
  auto s = memory_store();
  for (std::string k : {"a", "b", "c", "d"}) s->put(k, "1");
  EXPECT_EQ(s->delete_range(span("c", "b")).deleted, 0) << "range_end <= key: nothing";
  EXPECT_EQ(s->delete_range(span("b", "b")).deleted, 0);
  EXPECT_EQ(s->delete_range(key("b")).deleted, 1) << "no range_end: the key alone";
  EXPECT_EQ(s->delete_range(from("c")).deleted, 2) << "\"\\0\": every key from c";
  EXPECT_EQ(read(*s, everything()), std::vector{kv("a", 2, 2, 1, "1")});
}

TEST(WriteRules, ADeleteEventCarriesTheKeyAndTheDeletionRevisionOnly) {
  auto s = memory_store();
  s->put("a", "1", 5);
  auto w = s->write();
  w.delete_range(key("a"));
  auto events = w.end();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, Event::Type::kDelete);
  EXPECT_EQ(events[0].kv, (KeyValue{"a", 0, 3, 0, "", 0}));
  EXPECT_EQ(events[0].prev_kv, kv("a", 2, 2, 1, "1", 5));
}

namespace {

// Puts "a" (lease 1) and "z" in `s`, then opens a write that creates "m", overwrites "a" (lease
// 2) and deletes from "y" on: three events, two of them with a key before the write.
Write create_overwrite_and_delete(KvStore& s) {
  s.put("a", "old", 1);
  s.put("z", "old");
  Write w = s.write();
  w.put("m", "new", 0);
  w.put("a", "newer", 2);
  w.delete_range(from("y"));
  return w;
}

}  // namespace

TEST(WriteRules, EndReturnsEveryEventInOrderWithTheKeyBeforeTheWrite) {
  auto s = memory_store();
  Write w = create_overwrite_and_delete(*s);
  auto events = w.end();
  EXPECT_EQ(events, (std::vector<Event>{
                        put_event(kv("m", 4, 4, 1, "new")),
                        put_event(kv("a", 2, 4, 2, "newer", 2), kv("a", 2, 2, 1, "old", 1)),
                        delete_event("z", 4, kv("z", 3, 3, 1, "old")),
                    }));
}

// The node ends its writes this way while no one watches: the same write, minus the reads.
TEST(WriteRules, EndWithoutPrevKvsReturnsTheSameEventsWithNoKeyBeforeTheWrite) {
  auto s = memory_store();
  Write w = create_overwrite_and_delete(*s);
  auto events = w.end_without_prev_kvs();
  EXPECT_EQ(events, (std::vector<Event>{
                        put_event(kv("m", 4, 4, 1, "new")),
                        put_event(kv("a", 2, 4, 2, "newer", 2)),
                        delete_event("z", 4),
                    }));
  // The write itself is the same as end()'s: in the store, at the next revision.
  EXPECT_EQ(s->revision(), 4);
  EXPECT_EQ(read(*s, from("a")),
            (std::vector{kv("a", 2, 4, 2, "newer", 2), kv("m", 4, 4, 1, "new")}));
}

TEST(WriteRules, KeysAreBytesNotCStrings) {
  auto s = memory_store();
  std::string k1("a\0b", 3);
  std::string k2("a\0c", 3);
  std::string v("\0\xff\x01", 3);
  s->put(k1, v);
  s->put(k2, "");
  EXPECT_EQ(read(*s, key(k1)), std::vector{kv(k1, 2, 2, 1, v)});
  EXPECT_EQ(read(*s, key(k2)), std::vector{kv(k2, 3, 3, 1, "")});
  EXPECT_TRUE(read(*s, key("a")).empty());
  EXPECT_EQ(s->key_count(), 2);
}

}  // namespace etcdlab::lab3
