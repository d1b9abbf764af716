// The server's driver (server/runtime/node_driver.h) over the simulated disk: a failed fsync
// stops the member (exit 2) and acknowledges nothing it did not persist (issue 23, item 4:
// "fsync returning EIO stops the member without acknowledging anything it did not persist"),
// and so does a disk that fills up (item 4's ENOSPC; the storage side: disk_full_test.cc).
// A death test: the member's process is the test's child, and what the child printed is read.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>

#include "../node/state_machine.h"
#include "../runtime/node_driver.h"
#include "../runtime/server_metrics.h"
#include "etcdlab/fs/sim_file_system.h"
#include "etcdlab/log/wal_storage.h"

namespace etcdlab::runtime {
namespace {

namespace asio = boost::asio;

asio::awaitable<void> pause(asio::io_context& io, int ms) {
  asio::steady_timer t(io, std::chrono::milliseconds(ms));
  co_await t.async_wait(asio::use_awaitable);
}

asio::awaitable<bool> put(NodeDriver& driver, std::string key) {
  server::PutRequest p;
  p.key = std::move(key);
  p.value = "v";
  server::Completion c = co_await driver.call(
      [&](server::KvNode& node) { return node.submit(server::Request{p}); });
  co_return !c.error;
}

asio::awaitable<void> script(asio::io_context& io, NodeDriver& driver, SimFileSystem& fs) {
  while (driver.node().role() != Role::kLeader) co_await pause(io, 5);
  if (!co_await put(driver, "synced")) std::_Exit(4);
  std::fprintf(stderr, "the first put was acknowledged\n");
  fs.fail_syncs("raft", -1);  // the disk fails every fsync from now on
  bool ok = co_await put(driver, "never synced");
  std::fprintf(stderr, ok ? "ACKNOWLEDGED WITHOUT FSYNC\n" : "refused\n");
  std::_Exit(0);
}

// One member on the simulated disk, driven by `script` (which ends the process); exit 3 if
// neither the script nor the driver ends it within 20 s.
using Script = asio::awaitable<void> (*)(asio::io_context&, NodeDriver&, SimFileSystem&);
[[noreturn]] void run_one_member(Script script, const WalStorageOptions& wal = {}) {
  spdlog::set_default_logger(spdlog::stderr_color_st("node-driver-test"));
  SimFileSystem fs;
  fs.create_dirs("/m/raft");
  auto storage = WalStorage::open(fs, "/m/raft", wal);
  server::NodeOptions o;
  o.raft.id = 1;
  o.raft.voters = {1};
  o.raft.election_ticks = 2;
  o.raft.storage = storage.get();
  o.raft.seed = 1;
  o.initial_members = {server::Member{1, "m1", {"http://127.0.0.1:1"}, {}, false}};
  o.tick_ms = 5;
  o.store.path = ":memory:";
  asio::io_context io;
  ServerMetrics metrics;
  NodeDriver driver(io, fs, *storage, o, metrics, "m1");
  const PeerTransport* no_transport = nullptr;
  register_server_metrics(metrics, driver, no_transport, 1, 0);
  driver.start();
  asio::co_spawn(io, script(io, driver, fs), asio::detached);
  io.run_for(std::chrono::seconds(20));
  std::_Exit(3);  // neither stopped nor answered
}

void run_a_member_whose_fsync_fails() { run_one_member(script); }

TEST(NodeDriverDeathTest, AFailedFsyncStopsTheMemberWithoutAcknowledgingTheWrite) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_a_member_whose_fsync_fails(), ::testing::ExitedWithCode(2),
              ::testing::AllOf(::testing::HasSubstr("the first put was acknowledged"),
                               ::testing::HasSubstr("storage failure"),
                               ::testing::HasSubstr("Input/output error"),
                               ::testing::Not(::testing::HasSubstr("ACKNOWLEDGED WITHOUT")),
                               ::testing::Not(::testing::HasSubstr("refused"))));
}

// Issue 23, item 4: a disk that fills up. The segments are preallocated, so puts go on until
// the WAL needs a new segment; that one does not fit, and the member stops with the file and
// the cause (etcd stops too: it cannot persist, so it must not acknowledge). Nothing is
// answered as refused meanwhile: a write either is persisted or is never answered.
asio::awaitable<void> fill_script(asio::io_context& io, NodeDriver& driver, SimFileSystem& fs) {
  while (driver.node().role() != Role::kLeader) co_await pause(io, 5);
  if (!co_await put(driver, "before")) std::_Exit(4);
  std::fprintf(stderr, "the first put was acknowledged\n");
  fs.set_capacity(fs.used_bytes());  // full: only what is preallocated is left
  for (int i = 0; i < 10000; ++i) {
    if (!co_await put(driver, "k" + std::to_string(i))) {
      std::fprintf(stderr, "refused\n");
      std::_Exit(0);
    }
  }
  std::_Exit(5);  // the segment never filled
}

void run_a_member_whose_disk_fills() {
  WalStorageOptions small;
  small.wal.segment_bytes = 16 * 1024;
  run_one_member(fill_script, small);
}

TEST(NodeDriverDeathTest, ADiskThatFillsUpStopsTheMemberNamingTheFileAndTheCause) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(run_a_member_whose_disk_fills(), ::testing::ExitedWithCode(2),
              ::testing::AllOf(::testing::HasSubstr("the first put was acknowledged"),
                               ::testing::HasSubstr("storage failure"),
                               ::testing::HasSubstr("/m/raft/"),
                               ::testing::HasSubstr(".wal.tmp: No space left on device"),
                               ::testing::Not(::testing::HasSubstr("refused"))));
}

// Issue 23, defect 5: staged snapshots (payloads received from a leader, waiting for Raft)
// are removed once installed, when superseded (the node installed a newer one) and when Raft
// declines one (it arrives after the node is already past it). Two arriving back to back must
// not lose the first: Raft may already have taken it for its next Ready (removing it at the
// second's arrival stopped the member: "snapshot 5 was installed but never arrived").
class StagedSnapshots : public ::testing::Test {
 protected:
  StagedSnapshots() {
    fs_.create_dirs("/m/raft");
    fs_.create_dirs("/m/snap-incoming");
    storage_ = WalStorage::open(fs_, "/m/raft");
    server::NodeOptions o;
    o.raft.id = 1;
    o.raft.voters = {1, 2};  // member 2 is the leader; it is never dialled here
    o.raft.storage = storage_.get();
    o.raft.seed = 1;
    o.tick_ms = 1000;  // no election meanwhile
    o.store.path = ":memory:";
    driver_ = std::make_unique<NodeDriver>(io_, fs_, *storage_, o, metrics_, "m1");
    register_server_metrics(metrics_, *driver_, no_transport_, 1, 0);
    driver_->start();
    // A real node snapshot (an empty store, members 1 and 2) as every staged payload.
    server::KvStateMachine leader(mvcc::KvStore::open({}),
                                  {server::Member{1, "m1", {"http://127.0.0.1:1"}, {}, false},
                                   server::Member{2, "m2", {"http://127.0.0.1:2"}, {}, false}});
    leader.write_snapshot([&](std::string_view chunk) { payload_ += chunk; });
  }

 public:
  void replace_payload(std::string payload) { payload_ = std::move(payload); }
  void stage(uint64_t index) { receive(index, "2-1.snap.part"); }
  void wait(std::chrono::seconds limit) { io_.run_for(limit); }

 protected:
  // Stages a payload as the transport would and hands the snapshot message to the driver.
  std::string receive(uint64_t index, const std::string& name) {
    std::string path = "/m/snap-incoming/" + name;
    auto f = fs_.create(path);
    f->append(payload_);
    Message m;
    m.type = MessageType::kSnapshot;
    m.from = 2;
    m.to = 1;
    m.term = 1;
    m.snapshot = SnapshotMeta{index, 1, ConfState{{1, 2}, {}}};
    driver_->receive(m, path);
    return path;
  }

  bool run_until(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io_.run_for(std::chrono::milliseconds(5));
    }
    return done();
  }

  SimFileSystem fs_;
  std::unique_ptr<WalStorage> storage_;
  asio::io_context io_;
  ServerMetrics metrics_;
  const PeerTransport* no_transport_ = nullptr;
  std::unique_ptr<NodeDriver> driver_;
  std::string payload_;
};

TEST_F(StagedSnapshots, SupersededInstalledAndDeclinedSnapshotsLeaveNoFile) {
  std::string older = receive(5, "2-1.snap.part");
  std::string newer = receive(10, "2-2.snap.part");  // before the node got to the first
  ASSERT_TRUE(run_until([&] { return driver_->node().applied_index() >= 10; }))
      << "the newer snapshot is installed";
  EXPECT_FALSE(fs_.exists(older)) << "superseded: removed";
  EXPECT_FALSE(fs_.exists(newer)) << "installed: its staged copy goes";
  std::string late = receive(7, "2-3.snap.part");  // Raft declines: the node is at 10
  ASSERT_TRUE(run_until([&] { return !fs_.exists(late); })) << "declined: removed";
  EXPECT_EQ(driver_->staged_snapshots(), 0u);
  EXPECT_TRUE(fs_.list("/m/snap-incoming").empty());
}

// Issue 24, defence in depth: a snapshot that was checked when it arrived but cannot be
// restored when Raft applies it (the disk damaged it since, or the check missed something)
// stops the member on purpose (exit 2, as for any storage failure), naming the snapshot file
// and what to do, instead of an exception escaping the apply. Here the payload is staged
// without the transport's check, as such a snapshot would be.
void stage_and_wait(StagedSnapshots& test, std::string payload) {
  spdlog::set_default_logger(spdlog::stderr_color_st("node-driver-snapshot"));
  test.replace_payload(std::move(payload));
  test.stage(5);
  test.wait(std::chrono::seconds(10));
  std::_Exit(3);  // it was installed and applied, or never taken
}

TEST_F(StagedSnapshots, ASnapshotThatCannotBeRestoredStopsTheMemberNamingTheFile) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  uint64_t at = server::KvStateMachine::snapshot_header_of([&](uint64_t offset, uint64_t n) {
                  return offset >= payload_.size() ? std::string() : payload_.substr(offset, n);
                }).size();
  auto says = [](const std::string& what) {
    return ::testing::AllOf(::testing::HasSubstr("snap/0000000000000001-0000000000000005.snap"),
                            ::testing::HasSubstr("snapshot 5 (term 1) cannot be restored"),
                            ::testing::HasSubstr(what), ::testing::HasSubstr("member remove"));
  };
  EXPECT_EXIT(stage_and_wait(*this, payload_.substr(0, at)), ::testing::ExitedWithCode(2),
              says("holds no store"))
      << "a header alone";
  EXPECT_EXIT(stage_and_wait(*this, payload_.substr(0, at) + std::string(8192, 'x')),
              ::testing::ExitedWithCode(2), says("not a SQLite database"))
      << "a store part that is not a database";
}

}  // namespace
}  // namespace etcdlab::runtime
