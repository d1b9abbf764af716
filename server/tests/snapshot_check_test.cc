// The check of a snapshot received from a peer (server/node/snapshot_check.h; issue 24:
// anything reachable from a socket is hostile until checked). Each kind of damage a peer can
// send is refused with the part and the payload offset where it is; what a leader really
// sends passes.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "../node/snapshot_check.h"
#include "../node/state_machine.h"
#include "kv_node_fixture.h"
#include "temp_dir.h"

namespace etcdlab::server {
namespace {

using etcdlab::testing::TempDir;

std::optional<SnapshotProblem> check(const std::string& payload) {
  return check_snapshot_payload(
      [&](uint64_t offset, uint64_t length) {
        return offset >= payload.size() ? std::string() : payload.substr(offset, length);
      },
      payload.size());
}

std::vector<Member> two_members() {
  return {Member{1, "m1", {"http://127.0.0.1:1"}, {}, false},
          Member{2, "m2", {"http://127.0.0.1:2"}, {}, false}};
}

// A whole node snapshot of a store with a few keys (header, then the store's database).
std::string whole_snapshot() {
  KvStateMachine sm(mvcc::KvStore::open({}), two_members());
  for (int i = 0; i < 20; ++i) {
    PutRequest p;
    p.key = "key" + std::to_string(i);
    p.value = std::string(100, 'v');
    sm.apply_request(Request{p});
  }
  std::string out;
  sm.write_snapshot([&](std::string_view chunk) { out += chunk; });
  return out;
}

uint64_t header_size(const std::string& payload) {
  return KvStateMachine::snapshot_header_of([&](uint64_t offset, uint64_t length) {
           return offset >= payload.size() ? std::string() : payload.substr(offset, length);
         }).size();
}

// The store part changed by SQL run on a copy of it (the header kept as it is).
std::string with_store_changed(const std::string& payload, const std::string& sql) {
  uint64_t at = header_size(payload);
  std::string image = payload.substr(at);
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  auto* buffer = static_cast<unsigned char*>(sqlite3_malloc64(image.size()));
  std::memcpy(buffer, image.data(), image.size());
  EXPECT_EQ(sqlite3_deserialize(db, "main", buffer, static_cast<sqlite3_int64>(image.size()),
                                static_cast<sqlite3_int64>(image.size()),
                                SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE),
            SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
  sqlite3_int64 size = 0;
  unsigned char* changed = sqlite3_serialize(db, "main", &size, 0);
  std::string out = payload.substr(0, at) +
                    std::string(reinterpret_cast<const char*>(changed), static_cast<size_t>(size));
  sqlite3_free(changed);
  sqlite3_close(db);
  return out;
}

// The name of the first table (by name) of the store part: one the store needs.
std::string first_table(const std::string& payload) {
  SqliteWindow w(
      [&](uint64_t offset, uint64_t length) { return payload.substr(offset, length); },
      header_size(payload), payload.size());
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(w.db(),
                     "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name LIMIT 1",
                     -1, &st, nullptr);
  std::string name;
  if (sqlite3_step(st) == SQLITE_ROW) name = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return name;
}

TEST(SnapshotCheck, AWholeSnapshotPasses) {
  std::string payload = whole_snapshot();
  auto problem = check(payload);
  EXPECT_FALSE(problem) << problem->describe();
}

TEST(SnapshotCheck, WhatALeaderSendsFromAFileStorePasses) {
  // The leader's header and its file store's copy, lease and auth tables included
  // (KvNode::snapshot_to_send), as the peer transport streams it.
  TempDir dir;
  auto n = kvtest::single(1, 1, /*snapshot_count=*/5, 1000,
                          [&](NodeOptions& o) { o.store.path = dir / "db"; });
  n->server_snapshots = true;
  for (int i = 0; i < 6; ++i) kvtest::write(*n, kvtest::put("k" + std::to_string(i), "v"));
  n->take_snapshot();
  std::string sent = n->snapshot_payload(n->storage->snapshot());
  auto problem = check(sent);
  EXPECT_FALSE(problem) << problem->describe();

  // Its own snapshot is the header alone: only it can use that.
  auto reader = n->storage->open_snapshot();
  std::string own = reader->read(0, reader->size());
  problem = check(own);
  ASSERT_TRUE(problem) << "a header alone holds no store to install";
  EXPECT_EQ(problem->part, "store");
  EXPECT_EQ(problem->offset, own.size()) << "the store should begin where the payload ends";
  EXPECT_NE(problem->what.find("header alone"), std::string::npos) << problem->describe();
}

TEST(SnapshotCheck, AHeaderThatDoesNotDecodeIsRefusedWhereItBreaks) {
  auto problem = check("garbage");  // not even the 8-byte header length
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->part, "header");
  EXPECT_NE(problem->what.find("does not decode"), std::string::npos) << problem->describe();

  std::string payload = whole_snapshot();
  std::string claims_more = payload;
  claims_more[7] = '\x7f';  // the header length: far beyond the payload (not read, not allocated)
  problem = check(claims_more);
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->part, "header");
  EXPECT_EQ(problem->offset, 8u) << problem->describe();
  EXPECT_NE(problem->what.find("truncated"), std::string::npos) << problem->describe();

  std::string other_version = payload;
  other_version[8] = '\x09';  // the header's first field: the version
  problem = check(other_version);
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->part, "header");
  EXPECT_NE(problem->what.find("version"), std::string::npos) << problem->describe();
}

TEST(SnapshotCheck, AHeaderAloneIsRefused) {
  std::string payload = whole_snapshot();
  uint64_t at = header_size(payload);
  auto problem = check(payload.substr(0, at));
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->part, "store");
  EXPECT_EQ(problem->offset, at);
  EXPECT_NE(problem->what.find("no store"), std::string::npos) << problem->describe();
}

TEST(SnapshotCheck, ATruncatedStoreIsRefusedWhereItEnds) {
  std::string payload = whole_snapshot();
  uint64_t at = header_size(payload);
  ASSERT_GT(payload.size(), at + 4096 + 100) << "premise: the store has more than one page";
  for (uint64_t cut : {at + 50, at + 4096 + 100, static_cast<uint64_t>(payload.size() - 1)}) {
    auto problem = check(payload.substr(0, cut));
    ASSERT_TRUE(problem) << "cut at " << cut;
    EXPECT_EQ(problem->part, "store");
    EXPECT_EQ(problem->offset, cut) << problem->describe();
    EXPECT_NE(problem->what.find("truncated"), std::string::npos) << problem->describe();
  }
  // Bytes after the database are refused too: the stream is not the one that was sent.
  auto problem = check(payload + "extra");
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->offset, payload.size()) << problem->describe();
}

TEST(SnapshotCheck, StoreBytesThatAreNotSqliteAreRefused) {
  std::string payload = whole_snapshot();
  uint64_t at = header_size(payload);
  auto problem = check(payload.substr(0, at) + std::string(8192, 'x'));
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->part, "store");
  EXPECT_EQ(problem->offset, at);
  EXPECT_NE(problem->what.find("not a SQLite database"), std::string::npos)
      << problem->describe();
}

TEST(SnapshotCheck, ADamagedPageFailsQuickCheckAndIsNamedByItsOffset) {
  std::string payload = whole_snapshot();
  uint64_t at = header_size(payload);
  uint64_t page_size = (static_cast<unsigned char>(payload[at + 16]) << 8) |
                       static_cast<unsigned char>(payload[at + 17]);
  ASSERT_GE(payload.size(), at + 3 * page_size) << "premise: pages 1 and 2 exist";
  std::string damaged = payload;
  for (uint64_t i = 0; i < page_size; ++i) damaged[at + page_size + i] = '\x55';  // page 2
  auto problem = check(damaged);
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->part, "store");
  EXPECT_NE(problem->what.find("damaged"), std::string::npos) << problem->describe();
  EXPECT_EQ(problem->offset, at + page_size) << problem->describe();
}

TEST(SnapshotCheck, AStoreWithoutATableTheStoreNeedsIsRefused) {
  std::string payload = whole_snapshot();
  std::string table = first_table(payload);
  ASSERT_FALSE(table.empty());
  auto problem = check(with_store_changed(payload, "DROP TABLE " + table));
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->part, "store");
  EXPECT_NE(problem->what.find("no table " + table), std::string::npos) << problem->describe();

  problem = check(with_store_changed(payload, "ALTER TABLE " + table + " ADD COLUMN extra"));
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->what.find("columns"), std::string::npos) << problem->describe();
}

TEST(SnapshotCheck, AStoreOfAnotherProgramOrSchemaVersionIsRefused) {
  std::string payload = whole_snapshot();
  uint64_t at = header_size(payload);
  auto problem = check(with_store_changed(payload, "PRAGMA application_id = 42"));
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->offset, at + 68) << problem->describe();
  EXPECT_NE(problem->what.find("application_id"), std::string::npos) << problem->describe();

  problem = check(with_store_changed(payload, "PRAGMA user_version = 99"));
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->offset, at + 60) << problem->describe();
  EXPECT_NE(problem->what.find("schema version"), std::string::npos) << problem->describe();
}

TEST(SnapshotCheck, AReadThatFailsIsAProblemNotAnException) {
  std::string payload = whole_snapshot();
  uint64_t at = header_size(payload);
  auto problem = check_snapshot_payload(
      [&](uint64_t offset, uint64_t length) -> std::string {
        if (offset >= at + 4096) throw StorageError("pread failed: Input/output error");
        return payload.substr(offset, length);
      },
      payload.size());
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->part, "store");
  EXPECT_NE(problem->describe().find("Input/output error"), std::string::npos)
      << problem->describe();
}

}  // namespace
}  // namespace etcdlab::server
