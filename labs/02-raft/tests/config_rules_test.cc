// Lab 2, part A: a RaftConfig that cannot work is refused when the node is made (config.h), with
// std::invalid_argument, instead of a node that misbehaves later. Each test also builds the
// nearest valid config and checks it is accepted and runs, so a constructor that refuses
// everything fails as surely as one that refuses nothing.
#include <gtest/gtest.h>

#include <memory>

#include "raft_script.h"

namespace etcdlab::lab2 {
namespace {

RaftConfig valid_config(MemoryStorage& storage) {
  RaftConfig c;
  c.id = 1;
  c.voters = {1};
  c.election_ticks = 10;
  c.heartbeat_ticks = 1;
  c.storage = &storage;
  return c;
}

// A valid config makes a node that works: a single voter elects itself at once.
void expect_usable(const RaftConfig& c, const std::string& what) {
  std::unique_ptr<Raft> r;
  ASSERT_NO_THROW(r = std::make_unique<Raft>(c)) << what << " is a valid config";
  r->campaign();
  EXPECT_EQ(r->status().soft_state.role, Role::kLeader) << what << ": a lone voter elects itself";
}

}  // namespace

TEST(ElectionRules, ConfigWithoutAnIdIsRefused) {
  MemoryStorage storage;
  RaftConfig c = valid_config(storage);
  c.id = kNoNode;
  EXPECT_THROW(Raft r(c), std::invalid_argument) << "ids are positive; 0 means no node";
  expect_usable(valid_config(storage), "id 1");
}

TEST(ElectionRules, ConfigWithoutStorageIsRefused) {
  MemoryStorage storage;
  RaftConfig c = valid_config(storage);
  c.storage = nullptr;
  EXPECT_THROW(Raft r(c), std::invalid_argument) << "the node starts from its storage";
  expect_usable(valid_config(storage), "a config with storage");
}

TEST(ElectionRules, ConfigNeedsAPositiveHeartbeatTimeout) {
  MemoryStorage storage;
  RaftConfig c = valid_config(storage);
  c.heartbeat_ticks = 0;
  EXPECT_THROW(Raft r(c), std::invalid_argument) << "heartbeat_ticks 0: a leader never beats";
  c.heartbeat_ticks = -1;
  EXPECT_THROW(Raft r(c), std::invalid_argument) << "heartbeat_ticks -1";
  c.heartbeat_ticks = 1;
  expect_usable(c, "heartbeat_ticks 1");
}

TEST(ElectionRules, ConfigNeedsHeartbeatShorterThanElectionTimeout) {
  MemoryStorage storage;
  RaftConfig c = valid_config(storage);
  c.heartbeat_ticks = 5;
  c.election_ticks = 5;
  EXPECT_THROW(Raft r(c), std::invalid_argument)
      << "heartbeats as slow as the election timeout cannot keep followers from campaigning";
  c.election_ticks = 4;
  EXPECT_THROW(Raft r(c), std::invalid_argument) << "election_ticks 4 < heartbeat_ticks 5";
  c.election_ticks = 6;
  expect_usable(c, "heartbeat_ticks 5, election_ticks 6");
}

TEST(ElectionRules, ConfigNeedsRoomForAtLeastOneInflightAppend) {
  MemoryStorage storage;
  RaftConfig c = valid_config(storage);
  c.max_inflight_appends = 0;
  EXPECT_THROW(Raft r(c), std::invalid_argument) << "max_inflight_appends 0: nothing could be sent";
  c.max_inflight_appends = 1;
  expect_usable(c, "max_inflight_appends 1");
}

TEST(ElectionRules, StateChangesReachTheConfiguredLogger) {
  MemoryStorage storage;
  RaftConfig c = valid_config(storage);
  std::vector<std::string> lines;
  c.logger = [&](const std::string& line) { lines.push_back(line); };
  Raft r(c);
  r.campaign();
  ASSERT_EQ(r.status().soft_state.role, Role::kLeader);
  bool told = false;
  for (const auto& line : lines) told |= line.find("leader") != std::string::npos;
  EXPECT_TRUE(told) << "config.logger receives a line per state change (\"node 1 became leader "
                       "at term 1\"): the driver's log shows who led when";
}

}  // namespace etcdlab::lab2
