// The server's snapshots over a file store (state_machine.h, "A member whose store is a file"):
// its own snapshot is the node's header alone over a store made durable first; a member that
// needs one gets the header and the store as it is when sent; nothing that grows with the data
// is copied until a member needs it.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "kv_node_fixture.h"
#include "temp_dir.h"

namespace etcdlab::server::kvtest {
namespace {

using etcdlab::testing::TempDir;

std::function<void(NodeOptions&)> file_store(const std::string& path) {
  return [path](NodeOptions& o) { o.store.path = path; };
}

std::string header_of(const std::string& snapshot) {
  return KvStateMachine::snapshot_header_of([&](uint64_t offset, uint64_t length) {
    return offset >= snapshot.size() ? std::string() : snapshot.substr(offset, length);
  });
}

std::string own_snapshot(const TestNode& n) {
  auto reader = n.storage->open_snapshot();
  return reader ? reader->read(0, reader->size()) : std::string();
}

// A single member over a file store, snapshotting every 5 entries as the server does.
std::unique_ptr<TestNode> single_on_file(const std::string& path) {
  auto n = single(1, 1, /*snapshot_count=*/5, 1000, file_store(path));
  n->server_snapshots = true;
  return n;
}

TEST(KvNodeFileSnapshot, OwnSnapshotIsTheHeaderAloneOverADurableStore) {
  TempDir dir;
  auto n = single_on_file(dir / "db");
  write(*n, put("a", "1"));
  write(*n, put("b", "2"));
  write(*n, put("a", "3"));
  ASSERT_TRUE(n->node->wants_snapshot());
  n->take_snapshot();

  std::string snap = own_snapshot(*n);
  ASSERT_FALSE(snap.empty());
  EXPECT_EQ(header_of(snap), snap) << "no copy of the store in the member's own snapshot";
  EXPECT_EQ(n->storage->snapshot().index, 5u);
  EXPECT_EQ(n->storage->first_index(), 6u) << "the log below the snapshot is released";
  EXPECT_EQ(n->node->store().consistent_index(), 5u);
}

TEST(KvNodeFileSnapshot, RestartOverItsOwnSnapshotKeepsTheStoreAndTheMembers) {
  TempDir dir;
  auto n = single_on_file(dir / "db");
  for (int i = 0; i < 3; ++i) write(*n, put("k" + std::to_string(i), "v"));
  n->take_snapshot();
  write(*n, put("after", "x"));  // only in the log and the store
  uint32_t hash = n->node->store().hash_kv(0);
  int64_t revision = n->node->store().revision();

  TestNode again;
  again.id = 1;
  again.tweak = file_store(dir / "db");
  again.storage = std::move(n->storage);
  n->node.reset();
  again.open({1}, 2, 5);
  EXPECT_EQ(again.node->store().revision(), revision) << "the store is the snapshot's data";
  ASSERT_EQ(again.node->members().size(), 1u) << "members come from the snapshot's header";
  EXPECT_EQ(again.node->members()[0].name, "n1");
  ASSERT_TRUE(lead_alone(again));
  EXPECT_EQ(again.node->store().hash_kv(0), hash);
  EXPECT_EQ(again.node->store().revision(), revision) << "entries the store holds are skipped";
}

TEST(KvNodeFileSnapshot, AStoreLostUnderItsOwnSnapshotStopsTheMemberWithWhatToDo) {
  TempDir dir;
  auto n = single_on_file(dir / "db");
  for (int i = 0; i < 3; ++i) write(*n, put("k" + std::to_string(i), "v"));
  n->take_snapshot();
  TestNode again;
  again.id = 1;
  again.tweak = file_store(dir / "db");
  again.storage = std::move(n->storage);
  n->node.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(dir / "db" + suffix);
  try {
    again.open({1}, 2, 5);
    FAIL() << "a member whose store is gone cannot rebuild it from a header";
  } catch (const StorageError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("behind this member's Raft snapshot at index 5"), std::string::npos)
        << what;
    EXPECT_NE(what.find("etcdlabctl snapshot restore"), std::string::npos) << what;
  }
}

TEST(KvNodeFileSnapshot, NoSnapshotWhileACopyReadsTheStore) {
  TempDir dir;
  auto n = single_on_file(dir / "db");
  for (int i = 0; i < 3; ++i) write(*n, put("k" + std::to_string(i), "v"));
  ASSERT_TRUE(n->node->wants_snapshot());
  std::unique_ptr<StateCopy> copy = n->node->copy_store();
  EXPECT_FALSE(n->node->wants_snapshot())
      << "making the store durable would wait for the copy's reader";
  copy->prepare();
  EXPECT_TRUE(n->node->wants_snapshot()) << "a prepared copy reads its own file, not the store";
  write(*n, put("k0", "changed"));
  n->take_snapshot();
  EXPECT_GT(copy->size(), 0u);
  std::string bytes = copy->read(0, copy->size());
  EXPECT_EQ(bytes.size(), copy->size()) << "the copy is still whole after the snapshot";
  EXPECT_EQ(bytes.substr(0, 16), std::string("SQLite format 3\0", 16));
}

TEST(KvNodeFileSnapshot, ASnapshotToSendIsTheOneRaftNamed) {
  TempDir dir;
  auto n = single_on_file(dir / "db");
  for (int i = 0; i < 3; ++i) write(*n, put("k" + std::to_string(i), "v"));
  n->take_snapshot();
  SnapshotMeta meta = n->storage->snapshot();
  SnapshotMeta other = meta;
  other.index -= 1;
  EXPECT_THROW(n->node->snapshot_to_send(other), std::runtime_error)
      << "a snapshot a newer one replaced is not sent under the old one's name";
  std::string sent = n->snapshot_payload(meta);
  EXPECT_EQ(header_of(sent), own_snapshot(*n)) << "the header is the Raft log snapshot's";
  EXPECT_GT(sent.size(), header_of(sent).size()) << "followed by the store";
}

TEST(KvNodeFileSnapshotCluster, AMemberThatNeedsASnapshotGetsTheStoreAsItIsNow) {
  TempDir dir;
  Cluster c(/*snapshot_count=*/4, [&](TestNode& n) {
    n.tweak = file_store(dir / ("db" + std::to_string(n.id)));
    n.server_snapshots = true;
  });
  NodeId lead = c.elect();
  NodeId lagging = lead % 3 + 1;
  c.isolate(lagging);
  int writes = 0;
  // Until the store is ahead of the leader's last snapshot (entries after it, fewer than 4).
  while (writes < 12 || c.at(lead).node->store().consistent_index() ==
                            c.at(lead).storage->snapshot().index) {
    uint64_t id =
        c.at(lead).node->submit(put("k" + std::to_string(writes % 4), std::to_string(writes)));
    ++writes;
    c.settle();
    ASSERT_NE(c.at(lead).find(id), nullptr) << "write " << writes;
  }
  SnapshotMeta snap = c.at(lead).storage->snapshot();
  ASSERT_GT(snap.index, c.at(lagging).storage->last_index())
      << "premise: the entries the lagging member needs are only in the leader's snapshot";
  ASSERT_GT(c.at(lead).node->store().consistent_index(), snap.index)
      << "premise: the leader's store is ahead of its snapshot";

  c.heal();
  uint64_t target = c.at(lead).node->applied_index();
  ASSERT_TRUE(c.tick_until([&] { return c.at(lagging).node->applied_index() >= target; }));
  ASSERT_EQ(c.at(lagging).staged.count(snap.index), 1u) << "it was sent the leader's snapshot";
  const std::string& got = c.at(lagging).staged.at(snap.index);
  EXPECT_GT(got.size(), header_of(got).size()) << "with the store in it";
  EXPECT_EQ(c.at(lagging).node->store().revision(), writes + 1);
  EXPECT_EQ(c.at(lagging).node->store().hash_kv(0), c.at(lead).node->store().hash_kv(0));
  EXPECT_EQ(c.at(lagging).node->members().size(), 3u);

  // The entries between the header and the store apply to what lives in memory only: a
  // request whose proposal arrives twice is still applied once on every member.
  c.duplicate_proposals(true);
  uint64_t id = c.at(lagging).node->submit(put("twice", "1"));  // forwarded to the leader
  c.settle();
  ASSERT_NE(c.at(lagging).find(id), nullptr);
  for (NodeId m = 1; m <= 3; ++m) {
    EXPECT_EQ(c.at(m).node->store().revision(), writes + 2) << "member " << m;
    EXPECT_EQ(c.at(m).node->store().hash_kv(0), c.at(lead).node->store().hash_kv(0))
        << "member " << m;
  }
}

TEST(KvNodeSnapshotSpread, MembersSnapshotAtTheirOwnPhasesOncePerSnapshotCount) {
  // snapshot_count 12 over 3 voters: phases 0, 4 and 8 (ranks by id).
  Cluster c(/*snapshot_count=*/12, [](TestNode& n) {
    n.tweak = [](NodeOptions& o) { o.spread_snapshots = true; };
  });
  NodeId lead = c.elect();
  std::map<NodeId, std::vector<uint64_t>> taken;
  for (int i = 0; i < 60; ++i) {
    uint64_t id = c.at(lead).node->submit(put("k" + std::to_string(i % 5), "v"));
    c.settle();
    ASSERT_NE(c.at(lead).find(id), nullptr) << "write " << i;
    for (NodeId m = 1; m <= 3; ++m) {
      uint64_t index = c.at(m).storage->snapshot().index;
      if (index != 0 && (taken[m].empty() || taken[m].back() != index)) taken[m].push_back(index);
    }
  }
  for (NodeId m = 1; m <= 3; ++m) {
    SCOPED_TRACE("member " + std::to_string(m));
    ASSERT_GE(taken[m].size(), 4u) << "about one snapshot per 12 entries";
    uint64_t phase = (m - 1) * 4;  // members 1, 2, 3 rank 0, 1, 2
    for (size_t i = 1; i < taken[m].size(); ++i) {
      // Each one in a later period of 12 past this member's phase than the one before.
      EXPECT_GT((taken[m][i] - phase) / 12, (taken[m][i - 1] - phase) / 12) << taken[m][i];
    }
  }
  std::set<uint64_t> all;
  for (const auto& [m, indexes] : taken) all.insert(indexes.begin(), indexes.end());
  EXPECT_EQ(all.size(), taken[1].size() + taken[2].size() + taken[3].size())
      << "no two members snapshot at the same index";
  for (NodeId m = 2; m <= 3; ++m) {
    EXPECT_EQ(c.at(m).node->store().hash_kv(0), c.at(1).node->store().hash_kv(0));
  }
}

}  // namespace
}  // namespace etcdlab::server::kvtest
