// KvNode::move_leader (etcd's MoveLeader): the leader hands leadership over and the request
// completes once the target leads; etcd's refusals and its timeout, decided by the node.
#include <gtest/gtest.h>

#include "kv_node_fixture.h"

namespace etcdlab::server {

using namespace kvtest;

TEST(KvNodeMoveLeader, TheLeaderHandsOverAndTheRequestCompletesOnceTheTargetLeads) {
  Cluster c;
  NodeId lead = c.elect();
  NodeId target = lead % 3 + 1;
  uint64_t id = c.at(lead).node->move_leader(target);
  ASSERT_TRUE(c.tick_until([&] { return c.at(lead).find(id) != nullptr; }));
  const Done& d = *c.at(lead).find(id);
  ASSERT_FALSE(d.completion.error) << d.completion.error->what();
  EXPECT_EQ(c.at(lead).node->leader(), target) << "completed only once the target leads";
  EXPECT_EQ(c.at(target).node->leader(), target);
}

TEST(KvNodeMoveLeader, TheRequestCompletesAtTheFirstTickAfterTheTargetLeadsAsEtcdPollsForIt) {
  // etcd's MoveLeader looks at the leader once per tick (TickMs), so it answers a tick after
  // the change, by when every member has heard from the new leader: a client that asks the
  // others at once finds them following it (npm etcd3's session does).
  Cluster c;
  NodeId lead = c.elect();
  NodeId target = lead % 3 + 1;
  uint64_t id = c.at(lead).node->move_leader(target);
  c.settle();  // the hand-over needs no tick (TimeoutNow)
  ASSERT_EQ(c.at(lead).node->leader(), target);
  EXPECT_EQ(c.at(lead).find(id), nullptr) << "not answered before a tick";
  ASSERT_TRUE(c.tick_until([&] { return c.at(lead).find(id) != nullptr; }, 1))
      << "answered at the next tick";
  EXPECT_FALSE(c.at(lead).find(id)->completion.error);
}

TEST(KvNodeMoveLeader, AMoveToTheLeaderItselfCompletesAtOnce) {
  Cluster c;
  NodeId lead = c.elect();
  uint64_t id = c.at(lead).node->move_leader(lead);
  c.at(lead).pump();
  ASSERT_NE(c.at(lead).find(id), nullptr);
  EXPECT_FALSE(c.at(lead).find(id)->completion.error);
}

TEST(KvNodeMoveLeader, AFollowerRefusesAtOnceWithNotLeader) {
  Cluster c;
  NodeId lead = c.elect();
  NodeId follower = lead % 3 + 1;
  uint64_t id = c.at(follower).node->move_leader(lead);
  c.at(follower).pump();
  ASSERT_NE(c.at(follower).find(id), nullptr) << "refused at once";
  const ApiError& e = *c.at(follower).find(id)->completion.error;
  EXPECT_STREQ(e.what(), "etcdserver: not leader");
  EXPECT_EQ(e.code(), GrpcCode::kFailedPrecondition);
}

TEST(KvNodeMoveLeader, AnUnknownTargetIsABadLeaderTransferee) {
  Cluster c;
  NodeId lead = c.elect();
  uint64_t id = c.at(lead).node->move_leader(42);
  c.at(lead).pump();
  ASSERT_NE(c.at(lead).find(id), nullptr) << "refused at once";
  EXPECT_STREQ(c.at(lead).find(id)->completion.error->what(), "etcdserver: bad leader transferee");
  EXPECT_EQ(c.at(lead).node->leader(), lead) << "nothing was handed over";
}

TEST(KvNodeMoveLeader, ATargetThatCannotWinTimesOutWithEtcdsLeaderTransferError) {
  Cluster c;
  NodeId lead = c.elect();
  NodeId target = lead % 3 + 1;
  c.isolate(target);
  uint64_t id = c.at(lead).node->move_leader(target);
  ASSERT_TRUE(c.tick_until([&] { return c.at(lead).find(id) != nullptr; }))
      << "the request must end at its deadline";
  const ApiError& e = *c.at(lead).find(id)->completion.error;
  EXPECT_STREQ(e.what(), "etcdserver: request timed out, leader transfer took too long");
  EXPECT_EQ(e.code(), GrpcCode::kDeadlineExceeded);
}

}  // namespace etcdlab::server
