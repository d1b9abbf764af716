// The SQLite wrapper (etcdlab/sqlite/database.h): checked PRAGMAs and schema stamps on open,
// the exclusive lock, the statement cache, bindings, errors, transactions, checkpoints and
// snapshots.
#include "etcdlab/sqlite/database.h"

#include <gtest/gtest.h>

#include <thread>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace etcdlab::sqlite {
namespace {

DatabaseOptions test_options(uint32_t app = 0x7e57ab1e, int32_t version = 3) {
  DatabaseOptions o;
  o.application_id = app;
  o.user_version = version;
  o.schema = {"CREATE TABLE IF NOT EXISTS t (k BLOB PRIMARY KEY NOT NULL, v BLOB) WITHOUT ROWID"};
  o.cache_kib = 1024;
  return o;
}

std::string text(Database& db, std::string_view sql) {
  auto q = db.query(sql);
  EXPECT_TRUE(q.step()) << sql;
  return std::string(q.column_blob(0));
}

int64_t number(Database& db, std::string_view sql) {
  auto q = db.query(sql);
  EXPECT_TRUE(q.step()) << sql;
  return q.column_int(0);
}

void put(Database& db, std::string_view k, std::string_view v) {
  auto q = db.query("INSERT INTO t (k, v) VALUES (?1, ?2)");
  q.bind_blob(1, k).bind_blob(2, v);
  q.run();
}

std::string get(Database& db, std::string_view k) {
  auto q = db.query("SELECT v FROM t WHERE k = ?1");
  q.bind_blob(1, k);
  return q.step() ? std::string(q.column_blob(0)) : "(missing)";
}

// A raw connection, to look at a file the way another program would.
struct Raw {
  explicit Raw(const std::string& path) { EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK); }
  ~Raw() { sqlite3_close(db); }
  int exec(const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); }
  int64_t number(const char* sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return v;
  }
  std::string text(const char* sql) {
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &s, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    std::string v = sqlite3_step(s) == SQLITE_ROW
                        ? reinterpret_cast<const char*>(sqlite3_column_text(s, 0))
                        : "(no row)";
    sqlite3_finalize(s);
    return v;
  }
  sqlite3* db = nullptr;
};

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) {
      if (c == '/') c = '_';  // parameterized tests are named Name/0
    }
    dir = (std::filesystem::temp_directory_path() /
           ("etcdlab-sqlite-" + std::to_string(::getpid()) + "-" + name))
              .string();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    path = dir + "/test.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string dir;
  std::string path;
};

TEST_F(SqliteTest, OpenSetsAndVerifiesThePragmas) {
  auto db = Database::open(path, test_options());
  EXPECT_EQ(text(db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(text(db, "PRAGMA locking_mode"), "normal") << "readers share the file";
  EXPECT_EQ(number(db, "PRAGMA synchronous"), 1) << "NORMAL by default";
  EXPECT_EQ(number(db, "PRAGMA foreign_keys"), 0);
  EXPECT_EQ(number(db, "PRAGMA cache_size"), -1024);
  EXPECT_FALSE(db.in_memory());
  auto full = test_options();
  full.synchronous = Synchronous::kFull;
  auto memory = Database::open(":memory:", full);
  EXPECT_EQ(number(memory, "PRAGMA synchronous"), 2);
  EXPECT_EQ(text(memory, "PRAGMA journal_mode"), "memory");
  EXPECT_TRUE(memory.in_memory());
}

TEST_F(SqliteTest, SynchronousOffNeedsTheUnsafeFlag) {
  auto o = test_options();
  o.synchronous = Synchronous::kOff;
  EXPECT_THROW(Database::open(path, o), std::invalid_argument);
  o.allow_unsafe_sync_off = true;
  auto db = Database::open(path, o);
  EXPECT_EQ(number(db, "PRAGMA synchronous"), 0);
}

TEST_F(SqliteTest, NewDatabaseIsStampedAndGetsItsSchema) {
  { auto db = Database::open(path, test_options()); }
  Raw raw(path);
  EXPECT_EQ(raw.number("PRAGMA application_id"), 0x7e57ab1e);
  EXPECT_EQ(raw.number("PRAGMA user_version"), 3);
  EXPECT_EQ(raw.number("SELECT count(*) FROM sqlite_schema WHERE name = 't'"), 1);
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal") << "WAL mode is recorded in the file";
}

TEST_F(SqliteTest, AnotherApplicationsDatabaseIsRefusedNamingTheFile) {
  { auto db = Database::open(path, test_options(0x11111111)); }
  try {
    auto db = Database::open(path, test_options());
    FAIL() << "opened a database with another application_id";
  } catch (const SchemaError& e) {
    EXPECT_EQ(e.path(), path);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("0x11111111"), std::string::npos) << e.what();
  }
}

TEST_F(SqliteTest, AnotherSchemaVersionIsRefused) {
  { auto db = Database::open(path, test_options()); }
  EXPECT_THROW(Database::open(path, test_options(0x7e57ab1e, 4)), SchemaError);
  {
    Raw raw(path);  // someone else's tables, no stamp
    ASSERT_EQ(raw.exec("PRAGMA application_id = 0"), SQLITE_OK);
  }
  EXPECT_THROW(Database::open(path, test_options()), SchemaError);
}

TEST_F(SqliteTest, AFileThatIsNotADatabaseIsAStorageError) {
  std::ofstream(path) << std::string(4096, 'x');
  try {
    auto db = Database::open(path, test_options());
    FAIL() << "opened garbage";
  } catch (const SqliteError& e) {
    EXPECT_EQ(e.code(), SQLITE_NOTADB);
    EXPECT_EQ(e.path(), path);
  }
}

TEST_F(SqliteTest, ASecondOpenOfTheSameFileIsRefused) {
  auto db = Database::open(path, test_options());
  put(db, "k", "v");
  try {
    auto second = Database::open(path, test_options());
    FAIL() << "two connections hold the same database";
  } catch (const SqliteError& e) {
    EXPECT_EQ(e.code() & 0xff, SQLITE_BUSY) << e.what();
    EXPECT_NE(std::string(e.what()).find(path + ".lock is locked"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(get(db, "k"), "v");
}

TEST_F(SqliteTest, TheWritersLockGoesWithIt) {
  { auto db = Database::open(path, test_options()); }
  auto again = Database::open(path, test_options());  // no leftover lock
  put(again, "k", "v");
  EXPECT_EQ(get(again, "k"), "v");
}

TEST_F(SqliteTest, AReaderSeesCommittedWritesAndCannotWrite) {
  auto db = Database::open(path, test_options());
  put(db, "k1", "v1");
  auto reader = Database::open_reader(path);
  EXPECT_EQ(get(reader, "k1"), "v1");
  put(db, "k2", "v2");
  EXPECT_EQ(get(reader, "k2"), "v2") << "an unpinned reader sees each commit";
  EXPECT_THROW(put(reader, "x", "y"), SqliteError) << "a reader is read-only";
  EXPECT_THROW(Database::open_reader(":memory:"), std::invalid_argument);
}

TEST_F(SqliteTest, APinnedReaderKeepsItsSnapshotWhileTheWriterGoesOn) {
  auto db = Database::open(path, test_options());
  put(db, "k", "before");
  auto reader = Database::open_reader(path);
  reader.begin_read();
  put(db, "after", "x");
  put(db, "other", "x");
  EXPECT_EQ(get(reader, "after"), "(missing)") << "pinned at begin_read()";
  EXPECT_EQ(get(reader, "other"), "(missing)");
  // A copy made from the pinned reader, on another thread, is the database at that moment.
  std::string copy = dir + "/copy.db";
  std::thread t([&] { reader.copy_to(copy); });
  t.join();
  reader.end_read();
  EXPECT_EQ(get(reader, "after"), "x") << "unpinned again";
  {
    auto restored = Database::open(copy, test_options());
    EXPECT_EQ(get(restored, "k"), "before");
    EXPECT_EQ(get(restored, "after"), "(missing)");
    EXPECT_EQ(get(restored, "other"), "(missing)");
    EXPECT_EQ(text(restored, "PRAGMA journal_mode"), "wal") << "opened as any database";
  }
  EXPECT_EQ(get(db, "other"), "x");
}

// The snapshot thread's temporary copy (no journal, no sync: not observable here): the same
// pinned database, readable as any database, with no journal or WAL file left beside it.
TEST_F(SqliteTest, AnUnsyncedCopyIsThePinnedDatabaseAndLeavesNoFileBesideIt) {
  auto db = Database::open(path, test_options());
  put(db, "k", "before");
  auto reader = Database::open_reader(path);
  reader.begin_read();
  put(db, "after", "x");
  std::string copy = dir + "/copy.tmp";
  std::thread t([&] { reader.copy_to_unsynced(copy); });
  t.join();
  reader.end_read();
  EXPECT_FALSE(std::filesystem::exists(copy + "-journal"));
  EXPECT_FALSE(std::filesystem::exists(copy + "-wal"));
  {
    auto restored = Database::open(copy, test_options());
    EXPECT_EQ(get(restored, "k"), "before");
    EXPECT_EQ(get(restored, "after"), "(missing)") << "the copy is the pinned moment";
  }
}

TEST_F(SqliteTest, StatementsArePreparedOnceAndResetAfterEachUse) {
  auto db = Database::open(":memory:", test_options());
  size_t before = db.cached_statements();
  for (int i = 0; i < 10; ++i) put(db, "k" + std::to_string(i), "v");
  EXPECT_EQ(db.cached_statements(), before + 1);
  {
    auto q = db.query("SELECT ?1 IS NULL");
    q.bind_int(1, 5);
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.column_int(0), 0);
  }
  auto q = db.query("SELECT ?1 IS NULL");  // the same statement: its binding was cleared
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.column_int(0), 1);
}

TEST_F(SqliteTest, AStatementCannotBeUsedTwiceAtOnce) {
  auto db = Database::open(":memory:", test_options());
  auto q = db.query("SELECT 1");
  EXPECT_THROW((void)db.query("SELECT 1"), std::logic_error);
}

TEST_F(SqliteTest, EmptyBlobsAreEmptyNotNull) {
  auto db = Database::open(":memory:", test_options());
  put(db, "k", "");
  put(db, "n", std::string_view());
  auto q = db.query("SELECT typeof(v), length(v) FROM t ORDER BY k");
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.column_blob(0), "blob");
    EXPECT_EQ(q.column_int(1), 0);
  }
  EXPECT_EQ(get(db, "k"), "");
  EXPECT_EQ(get(db, std::string("\0x", 2)), "(missing)");
  put(db, std::string("\0x", 2), std::string("\xff\0", 2));
  EXPECT_EQ(get(db, std::string("\0x", 2)), std::string("\xff\0", 2)) << "bytes, not C strings";
}

TEST_F(SqliteTest, ErrorsCarryTheSqlTheMessageAndTheExtendedCode) {
  auto db = Database::open(":memory:", test_options());
  try {
    (void)db.query("SELEKT 1");
    FAIL();
  } catch (const SqliteError& e) {
    EXPECT_EQ(e.sql(), "SELEKT 1");
    EXPECT_NE(std::string(e.what()).find("syntax error"), std::string::npos) << e.what();
  }
  put(db, "k", "v");
  try {
    put(db, "k", "w");
    FAIL();
  } catch (const SqliteError& e) {
    EXPECT_EQ(e.code(), SQLITE_CONSTRAINT_PRIMARYKEY) << e.what();
  }
  put(db, "j", "v");  // the failed statement was reset: it works again
  EXPECT_EQ(get(db, "j"), "v");
}

TEST_F(SqliteTest, TransactionsCommitRollBackAndDoNotNest) {
  auto db = Database::open(path, test_options());
  {
    Transaction tx(db);
    put(db, "a", "1");
    EXPECT_THROW(Transaction nested(db), std::logic_error);
    tx.commit();
  }
  {
    Transaction tx(db);
    put(db, "b", "2");
  }  // no commit: rolled back
  EXPECT_FALSE(db.in_transaction());
  EXPECT_EQ(get(db, "a"), "1");
  EXPECT_EQ(get(db, "b"), "(missing)");
}

TEST_F(SqliteTest, CheckpointPutsEverythingCommittedInTheMainFile) {
  auto db = Database::open(path, test_options());
  put(db, "a", "1");
  {
    Transaction tx(db);
    EXPECT_THROW(db.checkpoint(), std::logic_error);
    tx.commit();
  }
  db.checkpoint(Checkpoint::kTruncate);
  // The main file alone, without its WAL, now holds the row.
  std::filesystem::copy_file(path, dir + "/copy.db");
  auto copy = Database::open(dir + "/copy.db", test_options());
  EXPECT_EQ(get(copy, "a"), "1");
}

TEST_F(SqliteTest, SizeIsPagesTimesPageSizeAndVacuumGivesPagesBack) {
  auto db = Database::open(path, test_options());
  for (int i = 0; i < 200; ++i) put(db, "k" + std::to_string(i), std::string(2000, 'v'));
  uint64_t full = db.size_bytes();
  EXPECT_EQ(full, static_cast<uint64_t>(number(db, "PRAGMA page_count") *
                                        number(db, "PRAGMA page_size")));
  db.execute("DELETE FROM t");
  db.vacuum();
  EXPECT_LT(db.size_bytes(), full / 10);
  EXPECT_LT(std::filesystem::file_size(path), full / 10);
}

class SqliteSnapshot : public SqliteTest, public ::testing::WithParamInterface<int> {};

TEST_P(SqliteSnapshot, RoundTripsInChunksBetweenFilesAndMemory) {
  bool from_file = GetParam() & 1;
  bool to_file = GetParam() & 2;
  auto src = Database::open(from_file ? path : ":memory:", test_options());
  for (int i = 0; i < 100; ++i) put(src, "k" + std::to_string(i), std::string(500, 'a' + i % 26));
  std::vector<std::string> chunks;
  src.snapshot([&](std::string_view c) { chunks.emplace_back(c); }, 4096);
  EXPECT_GT(chunks.size(), 5u);
  for (const auto& c : chunks) EXPECT_LE(c.size(), 4096u);
  EXPECT_FALSE(std::filesystem::exists(path + ".snapshot.tmp"));

  auto dst = Database::open(to_file ? dir + "/dst.db" : ":memory:", test_options());
  put(dst, "old", "x");
  size_t next = 0;
  dst.restore([&] { return next < chunks.size() ? chunks[next++] : std::string(); });
  EXPECT_EQ(get(dst, "old"), "(missing)");
  EXPECT_EQ(get(dst, "k42"), std::string(500, 'a' + 42 % 26));
  EXPECT_EQ(number(dst, "SELECT count(*) FROM t"), 100);
  put(dst, "new", "y");  // and it is writable, with the same settings
  EXPECT_EQ(text(dst, "PRAGMA journal_mode"), to_file ? "wal" : "memory");
  if (to_file) {
    EXPECT_EQ(text(dst, "PRAGMA locking_mode"), "normal") << "readers share it";
  }
}

INSTANTIATE_TEST_SUITE_P(FileAndMemory, SqliteSnapshot, ::testing::Values(0, 1, 2, 3));

TEST_F(SqliteTest, RestoreChecksTheSnapshotBeforeReplacingAnything) {
  auto other = Database::open(":memory:", test_options(0x22222222));
  std::string image;
  other.snapshot([&](std::string_view c) { image += c; });
  for (std::string target : {path, std::string(":memory:")}) {
    auto db = Database::open(target, test_options());
    put(db, "keep", "me");
    bool sent = false;
    auto once = [&](const std::string& bytes) {
      sent = false;
      return [&sent, bytes] {
        if (sent) return std::string();
        sent = true;
        return bytes;
      };
    };
    EXPECT_THROW(db.restore(once(image)), SchemaError) << target;
    EXPECT_THROW(db.restore(once("not a database at all")), SchemaError) << target;
    EXPECT_EQ(get(db, "keep"), "me") << target;
    EXPECT_FALSE(std::filesystem::exists(path + ".restore.tmp"));
  }
}

}  // namespace
}  // namespace etcdlab::sqlite
