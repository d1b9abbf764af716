#pragma once
// A thin RAII wrapper over SQLite's C API (provided code), so the MVCC lab is about MVCC and
// not about SQLite's sharp edges. The habits are Bitcoin Core's and Chromium's:
//
//   - open() sets every PRAGMA in one place and reads each one back: journal_mode=WAL for
//     files, synchronous as asked (NORMAL by default; OFF only with allow_unsafe_sync_off, and
//     logged), foreign_keys=OFF, the page cache size. Extended result codes are on.
//   - One writer per file: open() takes an exclusive lock on "<path>.lock" (flock) for as long
//     as the Database lives, so a second process, or a second Database in this one, gets
//     SqliteError SQLITE_BUSY. Readers (open_reader) take no lock: in WAL mode they read a
//     consistent snapshot beside the writer, from another thread of the same process: files
//     are opened through SQLite's "unix-excl" VFS, which locks the file for this process once
//     and keeps the WAL index in memory (no fcntl per read transaction), so another process
//     cannot read it while it is open. (Until December 2026 the lock was
//     locking_mode=EXCLUSIVE, which also kept every reader out.)
//   - A new database gets the caller's schema, application_id and user_version in one
//     transaction; an existing one must carry the same application_id and user_version, or
//     open() throws SchemaError naming the file.
//   - Statements are prepared once and cached by their SQL text (query()); nothing is built by
//     formatting SQL, except the integer of a PRAGMA that takes no parameter, in one function.
//   - Transactions are scoped: BEGIN IMMEDIATE in the constructor, ROLLBACK in the destructor
//     unless commit() ran. They do not nest.
//   - Every return code is checked; errors are SqliteError (a StorageError) with the database's
//     path, SQLite's message, the extended code and the SQL.
//
// Durability. In WAL mode with synchronous=NORMAL a commit is atomic and consistent but not
// durable: a power loss may lose the last commits (never half of one). checkpoint() copies the
// WAL into the database file, syncing the WAL before and the database after, so everything
// committed before it survives a power loss. Callers whose data can be rebuilt from elsewhere
// (the MVCC store, from the Raft log) run with NORMAL and checkpoint before they let that
// source go.
//
// Snapshots. snapshot() streams a consistent copy of the whole database in chunks: a file
// database is copied with VACUUM INTO a temporary file next to it, an in-memory one with
// sqlite3_serialize. restore() checks a snapshot (it must be a SQLite database with this
// application_id and user_version) before it replaces anything; a file database is replaced by
// rename, so a crash leaves either the old or the new database.
//
// Threads. One thread at a time uses a Database and everything it hands out; a Database may
// move to another thread between uses. The writer and its readers are separate Databases, so
// they may be used from different threads at once.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "etcdlab/errors.h"
#include "etcdlab/sqlite/statement.h"

namespace etcdlab::sqlite {

// A SQLite call failed. code() is the extended result code (SQLITE_BUSY, SQLITE_CORRUPT,
// SQLITE_CONSTRAINT_PRIMARYKEY...).
class SqliteError : public StorageError {
 public:
  SqliteError(const std::string& path, int code, const std::string& message, std::string_view sql);
  int code() const { return code_; }
  const std::string& path() const { return path_; }
  const std::string& sql() const { return sql_; }

 private:
  int code_;
  std::string path_;
  std::string sql_;
};

// The file is a SQLite database, but not one of ours, or one with another schema version.
class SchemaError : public StorageError {
 public:
  SchemaError(const std::string& path, const std::string& reason);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class Companion;  // companion.h

enum class Synchronous { kOff, kNormal, kFull };
enum class Checkpoint { kPassive, kFull, kTruncate };

struct DatabaseOptions {
  uint32_t application_id = 0;  // what kind of file this is (required, non-zero)
  int32_t user_version = 1;     // the schema version this code reads and writes (> 0)
  // Statements run once, in the transaction that creates a new database (CREATE TABLE ...).
  std::vector<std::string> schema;
  // NORMAL: commits may be lost on power loss until checkpoint(); FULL: every commit is synced.
  Synchronous synchronous = Synchronous::kNormal;
  bool allow_unsafe_sync_off = false;  // kOff is refused without it: a crash can corrupt the file
  int64_t cache_kib = 2 << 10;         // the page cache (PRAGMA cache_size = -cache_kib)
};

class Database {
 public:
  static constexpr std::string_view kInMemory = ":memory:";

  // Opens (creating if needed) the database at `path`, or an in-memory one for ":memory:".
  [[nodiscard]] static Database open(const std::string& path, const DatabaseOptions& options);
  // A read-only connection to the file database at `path`, which a writer keeps open (WAL
  // mode). No schema is created or checked. Throws SqliteError.
  [[nodiscard]] static Database open_reader(const std::string& path);
  ~Database();
  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;

  const std::string& path() const;
  bool in_memory() const;
  bool in_transaction() const;
  size_t cached_statements() const;

  // A use of the cached statement for `sql` (prepared on first use).
  [[nodiscard]] Query query(std::string_view sql);
  // Runs one statement that takes no parameters and returns no rows, without caching it.
  void execute(std::string_view sql);

  // Copies the WAL into the database file (nothing for in-memory databases; refused inside a
  // transaction). After kFull or kTruncate everything committed so far is durable.
  void checkpoint(Checkpoint mode = Checkpoint::kFull);
  void vacuum();          // rebuilds the file without free pages, then checkpoints it
  // The same VACUUM, for the writer of the file database at `path` (this process holds its
  // lock), run through a connection of its own so that it can run on another thread: readers
  // (the writer's connection included) go on reading meanwhile, as WAL mode allows. The caller
  // promises that the writer writes nothing until it returns: a write would wait for it, and
  // it for the write. Throws SqliteError (the file is then as it was).
  static void vacuum_beside_writer(const std::string& path);
  uint64_t size_bytes();  // page_count * page_size
  void snapshot(const std::function<void(std::string_view chunk)>& out,
                size_t chunk_bytes = 1 << 20);
  // `in` returns the next chunk, "" at the end. Throws (leaving the database as it was) if the
  // snapshot is not a database of this application and schema version.
  void restore(const std::function<std::string()>& in);

  // Pins what this connection reads: begin_read() opens a read transaction now, so later
  // reads (and copy_to) see the database as the writer had committed it at this moment, while
  // the writer goes on. end_read() lets go. A reader pinned for long keeps the WAL from
  // being reset by checkpoints (it grows meanwhile).
  void begin_read();
  void end_read();
  // Writes a copy of the whole database (as this connection reads it: pinned, if
  // begin_read() was called) to a new file at `path`, in rollback-journal mode, synced.
  // Replaces a file already there. Throws SqliteError.
  void copy_to(const std::string& path);
  // The same copy for a temporary file that is read once and removed (the snapshot written
  // beside the node, which syncs what it makes of it): no journal and no sync, so the copy is
  // written once and nothing waits for the disk. A crash leaves a torn file; its owner removes
  // it at the next start.
  void copy_to_unsynced(const std::string& path);

  // The companion attached at open (companion.h), if any: provided code's tables that commit
  // with this database's transactions.
  Companion* companion() const;

  struct Impl;

 private:
  explicit Database(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A scoped write transaction: BEGIN IMMEDIATE now, COMMIT on commit(), ROLLBACK when destroyed
// without a commit (logged, never thrown). Throws std::logic_error if one is already open.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();
  bool committed() const { return committed_; }

 private:
  Database& db_;
  bool committed_ = false;
};

}  // namespace etcdlab::sqlite
