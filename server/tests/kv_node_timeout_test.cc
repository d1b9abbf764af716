// The words of a write's timeout, as etcd's (parseProposeCtxErr): clients log them, and an
// operator reads them to tell a failing leader from a slow cluster.
#include <gtest/gtest.h>

#include "kv_node_fixture.h"

namespace etcdlab::server {

using namespace kvtest;

namespace {
Request put_a() { return PutRequest{"a", "1", 0, {}}; }
}  // namespace

TEST(KvNodeTimeout, AWriteLostWithAFailingLeaderTimesOutPossiblyDueToPreviousLeaderFailure) {
  Cluster c;
  NodeId lead = c.elect();
  NodeId a = lead % 3 + 1;
  c.isolate(lead);  // the leader fails: the write a forwards to it is lost
  uint64_t id = c.at(a).node->submit(put_a());
  ASSERT_TRUE(c.tick_until([&] { return c.at(a).find(id) != nullptr; }, 20000));
  const Done& d = *c.at(a).find(id);
  ASSERT_TRUE(d.completion.error);
  ASSERT_NE(c.at(a).node->leader(), lead) << "the other two elected a new leader meanwhile";
  EXPECT_STREQ(d.completion.error->what(),
               "etcdserver: request timed out, possibly due to previous leader failure");
}

TEST(KvNodeTimeout, AWriteLostUnderASteadyLeaderTimesOutPlainly) {
  Cluster c;
  NodeId lead = c.elect();
  NodeId a = lead % 3 + 1;
  c.isolate(a);  // a keeps its leader; what it forwards is lost
  uint64_t id = c.at(a).node->submit(put_a());
  ASSERT_TRUE(c.tick_until([&] { return c.at(a).find(id) != nullptr; }, 20000));
  const Done& d = *c.at(a).find(id);
  ASSERT_TRUE(d.completion.error);
  EXPECT_STREQ(d.completion.error->what(), "etcdserver: request timed out");
}

}  // namespace etcdlab::server
