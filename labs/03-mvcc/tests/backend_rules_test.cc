// Lab 3, part C: the SQLite backend. The file is a SQLite database in WAL mode that says it is
// an etcdlab store; a batch is one transaction that also records the consistent index; a
// second process cannot open it; make_durable() puts everything committed in the main file;
// snapshots carry the whole store.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include "etcdlab/errors.h"
#include "mvcc_test_util.h"

namespace etcdlab::lab3 {
namespace {

// Looks at a database file the way another program would (the store must be closed).
struct RawDb {
  explicit RawDb(const std::string& path) { EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK); }
  ~RawDb() { sqlite3_close(db); }
  std::string text(const char* sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    std::string v;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != nullptr) {
      v = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    return v;
  }
  sqlite3* db = nullptr;
};

void fill(KvStore& s, int n, const std::string& prefix = "k") {
  for (int i = 0; i < n; ++i) s.put(prefix + std::to_string(i), "value" + std::to_string(i), i);
}

std::string snapshot_of(const KvStore& s) {
  std::string out;
  s.snapshot([&](std::string_view chunk) { out += chunk; });
  return out;
}

std::function<std::string()> chunks_of(const std::string& bytes, size_t size = 1000) {
  auto at = std::make_shared<size_t>(0);
  return [bytes, size, at] {
    std::string c = bytes.substr(*at, size);
    *at += c.size();
    return c;
  };
}

}  // namespace

TEST(BackendRules, TheFileIsASqliteDatabaseInWalModeThatSaysItIsAStore) {
  TempDir dir;
  std::string path = dir.file("kv.db");
  {
    auto s = file_store(path);
    s->put("a", "1");
  }
  RawDb raw(path);
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
  EXPECT_NE(raw.text("PRAGMA application_id"), "0") << "set an application_id";
  EXPECT_NE(raw.text("PRAGMA user_version"), "0") << "set a schema version (user_version)";
}

TEST(BackendRules, ADatabaseThatIsNotAStoreIsRefusedNamingTheFile) {
  TempDir dir;
  std::string path = dir.file("other.db");
  {
    RawDb raw(path);
    ASSERT_EQ(sqlite3_exec(raw.db, "CREATE TABLE t (x); PRAGMA application_id = 1234", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
  }
  try {
    auto s = file_store(path);
    FAIL() << "opened another program's database";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  std::ofstream(dir.file("garbage.db")) << std::string(8192, 'g');
  EXPECT_THROW(file_store(dir.file("garbage.db")), StorageError);
}

TEST(BackendRules, AStoreOfAnotherSchemaVersionIsRefused) {
  TempDir dir;
  std::string path = dir.file("kv.db");
  { file_store(path)->put("a", "1"); }
  {
    RawDb raw(path);
    ASSERT_EQ(sqlite3_exec(raw.db, "PRAGMA user_version = 999", nullptr, nullptr, nullptr),
              SQLITE_OK);
  }
  EXPECT_THROW(file_store(path), StorageError);
}

TEST(BackendRules, ASecondOpenOfTheSameFileIsRefused) {
  TempDir dir;
  auto s = file_store(dir.file("kv.db"));
  s->put("a", "1");
  EXPECT_THROW(file_store(dir.file("kv.db")), StorageError) << "locking_mode=EXCLUSIVE";
  EXPECT_EQ(read(*s, key("a")).size(), 1u);
}

TEST(BackendRules, ABatchCommitsItsWritesWithTheConsistentIndex) {
  TempDir dir;
  std::string path = dir.file("kv.db");
  {
    auto s = file_store(path);
    EXPECT_EQ(s->consistent_index(), 0u);
    s->begin_batch();
    s->put("a", "1");
    s->put("b", "1");
    EXPECT_EQ(read(*s, everything()).size(), 2u) << "a batch's writes are visible at once";
    EXPECT_EQ(s->consistent_index(), 0u) << "until commit_batch";
    s->commit_batch(7);
    EXPECT_EQ(s->consistent_index(), 7u);
  }
  auto s = file_store(path);
  EXPECT_EQ(s->consistent_index(), 7u);
  EXPECT_EQ(s->revision(), 3);
}

TEST(BackendRules, AnUncommittedBatchIsLostWholeAndTheIndexWithIt) {
  TempDir dir;
  std::string path = dir.file("kv.db");
  {
    auto s = file_store(path);
    s->begin_batch();
    s->put("a", "1");
    s->commit_batch(3);
    s->begin_batch();
    s->put("b", "1");
    s->delete_range(key("a"));
    // The store goes away with the batch open, as in a crash before commit.
  }
  auto s = file_store(path);
  EXPECT_EQ(s->consistent_index(), 3u);
  EXPECT_EQ(s->revision(), 2);
  EXPECT_EQ(read(*s, everything()), std::vector{kv("a", 2, 2, 1, "1")});
  EXPECT_EQ(s->put("c", "1").revision, 3) << "the lost revisions are taken again";
}

TEST(BackendRules, WritesOutsideABatchCommitOneByOneAndKeepTheConsistentIndex) {
  TempDir dir;
  std::string path = dir.file("kv.db");
  {
    auto s = file_store(path);
    s->begin_batch();
    s->put("a", "1");
    s->commit_batch(5);
    s->put("b", "1");
    s->delete_range(key("a"));
    EXPECT_EQ(s->consistent_index(), 5u);
  }
  auto s = file_store(path);
  EXPECT_EQ(s->consistent_index(), 5u);
  EXPECT_EQ(s->revision(), 4);
  EXPECT_EQ(read(*s, everything()), std::vector{kv("b", 3, 3, 1, "1")});
}

TEST(BackendRules, MakeDurableCheckpointsEverythingCommittedIntoTheDatabaseFile) {
  TempDir dir;
  std::string path = dir.file("kv.db");
  auto s = file_store(path);
  s->begin_batch();
  fill(*s, 50);
  s->commit_batch(9);
  s->make_durable();
  // The main file alone, without its WAL, holds it all now (the Raft log may be released).
  std::filesystem::copy_file(path, dir.file("copy.db"));
  auto copy = file_store(dir.file("copy.db"));
  EXPECT_EQ(copy->consistent_index(), 9u);
  EXPECT_EQ(copy->revision(), 51);
  EXPECT_EQ(read(*copy, everything()), read(*s, everything()));
}

TEST(BackendRules, DbSizeGrowsWithTheDataAndDefragmentKeepsEverything) {
  TempDir dir;
  auto s = file_store(dir.file("kv.db"));
  uint64_t empty = s->db_size();
  EXPECT_GT(empty, 0u);
  for (int i = 0; i < 300; ++i) s->put("k" + std::to_string(i), std::string(1000, 'x'));
  EXPECT_GT(s->db_size(), empty + 250 * 1000);
  auto before = read(*s, everything());
  s->defragment();
  EXPECT_EQ(read(*s, everything()), before);
  EXPECT_EQ(s->revision(), 301);
  EXPECT_EQ(read(*s, key("k7"), 9), std::vector{kv("k7", 9, 9, 1, std::string(1000, 'x'))})
      << "history too";
}

TEST(BackendRules, ASnapshotRestoresTheWholeStoreIntoAnother) {
  TempDir dir;
  for (bool file_to_memory : {false, true}) {
    SCOPED_TRACE(file_to_memory ? "file -> memory" : "memory -> file");
    auto src = file_to_memory ? file_store(dir.file("src.db")) : memory_store();
    src->begin_batch();
    fill(*src, 40);
    src->delete_range(span("k1", "k2"));
    src->put("k3", "changed", 9);
    src->commit_batch(12);
    std::string image = snapshot_of(*src);

    auto dst = file_to_memory ? memory_store() : file_store(dir.file("dst.db"));
    dst->put("stale", "x");
    dst->restore(chunks_of(image));
    EXPECT_EQ(dst->revision(), src->revision());
    EXPECT_EQ(dst->consistent_index(), 12u);
    EXPECT_EQ(dst->key_count(), src->key_count());
    EXPECT_EQ(read(*dst, everything()), read(*src, everything()));
    EXPECT_EQ(read(*dst, everything(), 20), read(*src, everything(), 20)) << "and the history";
    EXPECT_EQ(dst->put("new", "1").revision, src->revision() + 1);
    std::filesystem::remove(dir.file("src.db"));
    std::filesystem::remove(dir.file("dst.db"));
  }
}

TEST(BackendRules, ARestoreOfSomethingElseIsRefusedAndChangesNothing) {
  TempDir dir;
  for (std::string path : {std::string(":memory:"), dir.file("kv.db")}) {
    SCOPED_TRACE(path);
    StoreOptions o;
    o.path = path;
    auto s = KvStore::open(o);
    s->put("a", "1");
    EXPECT_THROW(s->restore(chunks_of(std::string(5000, 'z'))), StorageError);
    EXPECT_EQ(read(*s, everything()), std::vector{kv("a", 2, 2, 1, "1")});
    EXPECT_EQ(s->put("b", "1").revision, 3);
  }
}

TEST(BackendRules, AnInMemoryStoreIsAFreshStoreEachTime) {
  auto s = memory_store();
  s->put("a", "1");
  auto t = memory_store();
  EXPECT_EQ(t->revision(), 1);
  EXPECT_TRUE(read(*t, everything()).empty());
  EXPECT_EQ(t->consistent_index(), 0u);
}

TEST(BackendRules, ARestoreReplacesTheRevisionAndTheIndexOfAStoreThatWasAhead) {
  auto src = memory_store();
  src->put("k", "from-src");  // 2
  std::string image = snapshot_of(*src);

  auto dst = memory_store();
  for (int i = 0; i < 30; ++i) dst->put("k", std::to_string(i));  // k at version 30
  dst->put("only-in-dst", "x");
  dst->restore(chunks_of(image));
  EXPECT_EQ(dst->revision(), 2) << "the snapshot's revision, even though the store was ahead";
  EXPECT_EQ(dst->key_count(), 1);
  EXPECT_EQ(read(*dst, everything()), std::vector{kv("k", 2, 2, 1, "from-src")});
  dst->put("k", "next");
  EXPECT_EQ(read(*dst, key("k")), std::vector{kv("k", 2, 3, 2, "next")})
      << "the key's history is the snapshot's, not what the store had before";
  EXPECT_TRUE(read(*dst, key("only-in-dst")).empty());
}

}  // namespace etcdlab::lab3
