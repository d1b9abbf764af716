// KvNode::begin_defragment (etcd's Defragment) beside the node: while the VACUUM runs, Raft
// goes on, reads are served from the store as it was, and what Raft commits waits in a backlog
// that is applied, in order, once the store may be written again.
#include <gtest/gtest.h>

#include <thread>

#include "kv_node_fixture.h"
#include "temp_dir.h"

namespace etcdlab::server {
namespace {

using namespace kvtest;
using etcdlab::testing::TempDir;

// A member whose store is a file in `dir` (only a file store is defragmented beside the node).
std::function<void(NodeOptions&)> file_store(NodeId id, const TempDir& dir) {
  std::string path = dir / ("member-" + std::to_string(id) + ".db");
  return [path](NodeOptions& o) { o.store.path = path; };
}
void file_store(TestNode& n, const TempDir& dir) { n.tweak = file_store(n.id, dir); }

std::string value_of(const KvNode& node, const std::string& key) {
  auto r = node.store().range({key, ""});
  return r.kvs.empty() ? "(missing)" : r.kvs.at(0).value;
}

TEST(KvNodeDefragment, WhileTheStoreIsHeldWritesWaitReadsGoOnAndTheBacklogAppliesAfter) {
  TempDir dir;
  auto n = single(1, 1, 0, 1000, file_store(1, dir));
  for (int i = 0; i < 200; ++i) write(*n, put("k" + std::to_string(i), std::string(512, 'x')));
  for (int i = 0; i < 200; i += 2) {
    write(*n, DeleteRangeRequest{{"k" + std::to_string(i), ""}, false});
  }
  int64_t revision = n->node->store().revision();

  std::unique_ptr<KvNode::StoreJob> job = n->node->begin_defragment();
  ASSERT_NE(job, nullptr) << "a file store is defragmented beside the node";
  EXPECT_TRUE(n->node->holding_writes());
  // The VACUUM runs on another thread while this one reads from the store and commits writes.
  std::thread vacuum([&] { job->run(); });
  uint64_t waiting = n->node->submit(put("k1", "during"));
  for (int i = 0; i < 20; ++i) {
    n->node->tick();
    n->pump();
    EXPECT_EQ(value_of(*n->node, "k1"), std::string(512, 'x')) << "reads go on, as it was";
  }
  vacuum.join();
  EXPECT_EQ(n->find(waiting), nullptr) << "a write committed while held is not answered yet";
  EXPECT_EQ(n->node->store().revision(), revision) << "nothing was written to the store";
  EXPECT_FALSE(n->node->wants_snapshot());

  n->node->end_defragment();
  EXPECT_TRUE(n->node->backlog_pending());
  n->pump();
  ASSERT_NE(n->find(waiting), nullptr) << "answered once the backlog is applied";
  EXPECT_FALSE(n->find(waiting)->completion.error);
  EXPECT_EQ(value_of(*n->node, "k1"), "during");
  EXPECT_EQ(n->node->store().revision(), revision + 1);
  EXPECT_EQ(value_of(*n->node, "k3"), std::string(512, 'x')) << "the data survived the VACUUM";
}

TEST(KvNodeDefragment, AnInMemoryStoreIsDefragmentedAtOnceWithoutHoldingWrites) {
  auto n = single();
  write(*n, put("a", "1"));
  EXPECT_EQ(n->node->begin_defragment(), nullptr);
  EXPECT_FALSE(n->node->holding_writes());
  EXPECT_FALSE(write(*n, put("a", "2")).completion.error);
}

TEST(KvNodeDefragment, TheLeaderKeepsItsTermWhileHeldAndTheStoresAgreeAfter) {
  TempDir dir;
  Cluster c(0, [&](TestNode& n) { file_store(n, dir); });
  NodeId lead = c.elect();
  uint64_t term = c.at(lead).node->term();
  auto job = c.at(lead).node->begin_defragment();
  ASSERT_NE(job, nullptr);
  std::vector<uint64_t> puts;
  for (int i = 0; i < 10; ++i) puts.push_back(c.at(lead).node->submit(put("p" + std::to_string(i), "v")));
  // Several election timeouts (10 ticks each; fewer than a request's deadline): heartbeats
  // go on, so nobody campaigns.
  ASSERT_FALSE(c.tick_until([&] { return c.at(lead).node->term() != term; }, 40))
      << "a held store must not cost the leader its leadership";
  NodeId follower = lead % 3 + 1;
  EXPECT_EQ(value_of(*c.at(follower).node, "p9"), "v") << "the followers applied the writes";
  EXPECT_EQ(value_of(*c.at(lead).node, "p9"), "(missing)") << "the leader's store waits";
  for (uint64_t id : puts) EXPECT_EQ(c.at(lead).find(id), nullptr);

  job->run();
  c.at(lead).node->end_defragment();
  c.settle();
  for (uint64_t id : puts) {
    ASSERT_NE(c.at(lead).find(id), nullptr);
    EXPECT_FALSE(c.at(lead).find(id)->completion.error);
  }
  uint32_t hash = c.at(lead).node->store().hash_kv(0);
  for (NodeId id = 1; id <= 3; ++id) {
    EXPECT_EQ(c.at(id).node->store().hash_kv(0), hash) << "member " << id;
    EXPECT_EQ(c.at(id).node->store().revision(), c.at(lead).node->store().revision());
  }
}

TEST(KvNodeDefragment, AConfigurationChangeCommittedWhileHeldTakesEffectInRaftAtOnce) {
  TempDir dir;
  Cluster c(0, [&](TestNode& n) { file_store(n, dir); });
  NodeId lead = c.elect();
  NodeId gone = lead % 3 + 1;
  auto job = c.at(lead).node->begin_defragment();
  MemberChange change;
  change.kind = MemberChange::Kind::kRemove;
  change.id = gone;
  uint64_t id = c.at(lead).node->change_member(change);
  auto voters = [&] { return c.at(lead).node->status().conf.voters.size(); };
  ASSERT_TRUE(c.tick_until([&] { return voters() == 2; }))
      << "Raft's configuration must not wait for the store (quorums and elections use it)";
  EXPECT_EQ(c.at(lead).node->members().size(), 3u) << "the store's member list waits";
  EXPECT_EQ(c.at(lead).find(id), nullptr);

  job->run();
  c.at(lead).node->end_defragment();
  ASSERT_TRUE(c.tick_until([&] { return c.at(lead).find(id) != nullptr; }));
  EXPECT_FALSE(c.at(lead).find(id)->completion.error);
  EXPECT_EQ(c.at(lead).node->members().size(), 2u);
  EXPECT_EQ(voters(), 2u) << "applied once, not twice";
}

TEST(KvNodeDefragment, ALeadersSnapshotArrivingWhileHeldReplacesTheStoreAfterwards) {
  TempDir dir;
  Cluster c(/*snapshot_count=*/5, [&](TestNode& n) { file_store(n, dir); });
  NodeId lead = c.elect();
  NodeId behind = lead % 3 + 1;
  c.isolate(behind);
  for (int i = 0; i < 30; ++i) {
    c.at(lead).node->submit(put("s" + std::to_string(i), "v"));
    c.settle();
  }
  ASSERT_GT(c.at(lead).storage->first_index(), c.at(behind).node->applied_index() + 1)
      << "the leader released the log the follower lacks: it must send a snapshot";

  auto job = c.at(behind).node->begin_defragment();
  int64_t before = c.at(behind).node->store().revision();
  c.heal();
  ASSERT_TRUE(c.tick_until([&] { return c.at(behind).node->restore_deferred(); }))
      << "the snapshot arrives and waits";
  EXPECT_EQ(c.at(behind).node->store().revision(), before) << "not restored while held";

  job->run();
  c.at(behind).node->end_defragment();
  c.settle();
  EXPECT_FALSE(c.at(behind).node->restore_deferred());
  EXPECT_EQ(c.at(behind).node->store().revision(), c.at(lead).node->store().revision());
  EXPECT_EQ(c.at(behind).node->store().hash_kv(0), c.at(lead).node->store().hash_kv(0));
}

}  // namespace
}  // namespace etcdlab::server
