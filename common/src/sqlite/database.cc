// The SQLite wrapper: opening, PRAGMAs, the statement cache, transactions. database.h states
// the rules; snapshot.cc holds snapshot() and restore().
#include "etcdlab/sqlite/database.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "database_impl.h"

namespace etcdlab::sqlite {
namespace {

std::string describe(const std::string& path, int code, const std::string& message,
                     std::string_view sql) {
  std::string out =
      fmt::format("sqlite: {}: {} ({}, code {})", path, message, sqlite3_errstr(code), code);
  if ((code & 0xff) == SQLITE_BUSY) {
    out += "; another process or connection has the database open for writing";
  }
  if ((code & 0xff) == SQLITE_FULL) {
    out += "; no space left on device (or the database reached its max_page_count)";
  }
  if (!sql.empty()) out += fmt::format(" in: {}", sql);
  return out;
}

// SQLite's error log (SQLITE_CONFIG_LOG), to spdlog. It must be installed before SQLite is
// initialized; if something else in the process initialized it first, the log stays off.
void log_sqlite(void* /*unused*/, int code, const char* message) {
  int primary = code & 0xff;
  if (primary == SQLITE_NOTICE || primary == SQLITE_WARNING) {
    spdlog::info("sqlite: {} (code {})", message, code);
  } else {
    spdlog::debug("sqlite: {} (code {})", message, code);
  }
}

void install_log() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sqlite3_config(SQLITE_CONFIG_LOG, log_sqlite, nullptr) != SQLITE_OK) {
      spdlog::debug("sqlite: the error log could not be installed (already initialized)");
    }
  });
}

// "unix-excl" when SQLite's stock VFS is the default: this process takes SQLite's file lock once
// and keeps the WAL index in its own memory, which its connections share with no system call,
// where the stock VFS takes and drops a POSIX lock (two fcntl calls) around every read
// transaction. Other processes cannot open the file meanwhile; the writer's flock keeps them
// out anyway, and readers are threads of the writer's process (database.h). A default VFS
// someone else installed (labs/03-mvcc/tests/kill_vfs.h injects crashes through one) is used
// as it is.
const char* vfs_name() {
  sqlite3_vfs* current = sqlite3_vfs_find(nullptr);
  return current != nullptr && std::string_view(current->zName) == "unix" ? "unix-excl" : nullptr;
}

}  // namespace

SqliteError::SqliteError(const std::string& path, int code, const std::string& message,
                         std::string_view sql)
    : StorageError(describe(path, code, message, sql)), code_(code), path_(path), sql_(sql) {}

SchemaError::SchemaError(const std::string& path, const std::string& reason)
    : StorageError("sqlite: " + path + ": " + reason), path_(path) {}

int lock_writer(const std::string& path) {
  std::string lock_path = path + ".lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw SqliteError(path, SQLITE_CANTOPEN,
                      fmt::format("cannot open its lock file {}: {}", lock_path,
                                  std::strerror(errno)),
                      "");
  }
  // flock locks belong to the open file description: a second open in this process conflicts
  // with the first, as another process's does.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    ::close(fd);
    throw SqliteError(path, SQLITE_BUSY,
                      fmt::format("{} is locked ({})", lock_path, std::strerror(error)), "");
  }
  return fd;
}

sqlite3* open_connection(const std::string& path, bool read_only) {
  install_log();
  sqlite3* db = nullptr;
  // NOMUTEX: a connection is used by one thread at a time (database.h), so SQLite need not
  // lock it.
  int flags = read_only ? SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
                        : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, vfs_name());
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    throw SqliteError(path, rc, message, "");
  }
  sqlite3_extended_result_codes(db, 1);
  return db;
}

// ---- Impl

Database::Impl::Impl(std::string path_in, DatabaseOptions options_in, sqlite3* db_in)
    : path(std::move(path_in)), options(std::move(options_in)), db(db_in) {}

Database::Impl::~Impl() {
  close();
  if (lock_fd >= 0) ::close(lock_fd);  // releases the writer's lock
}

sqlite3* Database::Impl::handle() const {
  if (db == nullptr) throw std::logic_error("sqlite: " + path + " is closed");
  return db;
}

void Database::Impl::fail(int code, std::string_view sql) const {
  throw SqliteError(path, code, db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code), sql);
}

void Database::Impl::execute(std::string_view sql) {
  Statement statement(handle(), path, sql);
  Query(statement).run();
}

std::string Database::Impl::query_text(std::string_view sql) {
  Statement statement(handle(), path, sql);
  Query q(statement);
  if (!q.step()) return "";
  return std::string(q.column_blob(0));
}

int64_t Database::Impl::query_int(std::string_view sql) {
  Statement statement(handle(), path, sql);
  Query q(statement);
  if (!q.step()) fail(SQLITE_ERROR, std::string(sql) + " returned no row");
  return q.column_int(0);
}

void Database::Impl::set_int_pragma(const char* name, int64_t value) {
  execute(fmt::format("PRAGMA {} = {}", name, value));
}

void Database::Impl::configure(bool allow_new) {
  if (options.application_id == 0) throw std::invalid_argument("sqlite: application_id is 0");
  if (options.user_version <= 0) throw std::invalid_argument("sqlite: user_version must be > 0");
  if (options.synchronous == Synchronous::kOff && !options.allow_unsafe_sync_off) {
    throw std::invalid_argument("sqlite: synchronous=OFF needs allow_unsafe_sync_off");
  }
  auto expect = [&](std::string_view pragma, const std::string& seen, const std::string& want) {
    if (seen != want) {
      throw SqliteError(path, SQLITE_ERROR,
                        fmt::format("PRAGMA {} is '{}', expected '{}'", pragma, seen, want), "");
    }
  };
  // Normal locking for files: readers on other connections share them (the one-writer rule is
  // the lock file's); WAL mode keeps its index in the -shm file they all map. (An in-memory
  // database belongs to its connection: SQLite reports it "exclusive".)
  if (!in_memory()) expect("locking_mode", query_text("PRAGMA locking_mode = NORMAL"), "normal");
  if (!in_memory()) expect("journal_mode", query_text("PRAGMA journal_mode = WAL"), "wal");
  switch (options.synchronous) {
    case Synchronous::kOff:
      spdlog::warn("sqlite: {} runs with synchronous=OFF: a crash can corrupt it", path);
      execute("PRAGMA synchronous = OFF");
      break;
    case Synchronous::kNormal:
      execute("PRAGMA synchronous = NORMAL");
      break;
    case Synchronous::kFull:
      execute("PRAGMA synchronous = FULL");
      break;
  }
  execute("PRAGMA foreign_keys = OFF");
  set_int_pragma("cache_size", -options.cache_kib);

  // Read every one back: a PRAGMA SQLite does not know is silently ignored.
  if (!in_memory()) expect("locking_mode", query_text("PRAGMA locking_mode"), "normal");
  expect("journal_mode", query_text("PRAGMA journal_mode"), in_memory() ? "memory" : "wal");
  // Our enum has SQLite's numbering: OFF 0, NORMAL 1, FULL 2.
  expect("synchronous", std::to_string(query_int("PRAGMA synchronous")),
         std::to_string(static_cast<int>(options.synchronous)));
  expect("foreign_keys", std::to_string(query_int("PRAGMA foreign_keys")), "0");
  expect("cache_size", std::to_string(query_int("PRAGMA cache_size")),
         std::to_string(-options.cache_kib));
  check_schema(allow_new);
}

void Database::Impl::check_schema(bool allow_new) {
  // BEGIN IMMEDIATE: the schema is created or checked under SQLite's write lock.
  execute("BEGIN IMMEDIATE");
  try {
    auto app = static_cast<uint32_t>(query_int("PRAGMA application_id"));
    auto version = query_int("PRAGMA user_version");
    auto objects = query_int("SELECT count(*) FROM sqlite_schema");
    if (app == 0 && version == 0 && objects == 0) {
      if (!allow_new) {
        throw SchemaError(path, "is an empty database, expected one with application_id " +
                                    fmt::format("0x{:08x}", options.application_id));
      }
      for (const auto& statement : options.schema) execute(statement);
      set_int_pragma("application_id", static_cast<int32_t>(options.application_id));
      set_int_pragma("user_version", options.user_version);
    } else if (app != options.application_id) {
      throw SchemaError(path, fmt::format("application_id is 0x{:08x}, expected 0x{:08x}: not a "
                                          "database of this program",
                                          app, options.application_id));
    } else if (version != options.user_version) {
      throw SchemaError(path, fmt::format("schema version (user_version) is {}, this program "
                                          "reads version {}",
                                          version, options.user_version));
    }
    execute("COMMIT");
  } catch (...) {
    if (sqlite3_get_autocommit(db) == 0) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void Database::Impl::close() noexcept {
  if (db == nullptr) return;
  cache.clear();  // finalizes every statement
  int rc = sqlite3_close(db);
  if (rc != SQLITE_OK) {
    spdlog::error("sqlite: closing {}: {} (code {})", path, sqlite3_errmsg(db), rc);
    sqlite3_close_v2(db);  // closes once the last statement is finalized
  }
  db = nullptr;
}

// ---- Database

Database Database::open(const std::string& path, const DatabaseOptions& options) {
  if (path.empty()) throw std::invalid_argument("sqlite: empty path (use \":memory:\")");
  int lock_fd = path == kInMemory ? -1 : lock_writer(path);
  std::unique_ptr<Impl> impl;
  try {
    impl = std::make_unique<Impl>(path, options, open_connection(path));
  } catch (...) {
    if (lock_fd >= 0) ::close(lock_fd);
    throw;
  }
  impl->lock_fd = lock_fd;
  impl->configure(/*allow_new=*/true);
  impl->companion = CompanionScope::take();
  Database db(std::move(impl));
  if (db.impl_->companion) db.impl_->companion->attached(db);
  return db;
}

Companion* Database::companion() const { return impl_->companion.get(); }

Database Database::open_reader(const std::string& path) {
  if (path.empty() || path == kInMemory) {
    throw std::invalid_argument("sqlite: a reader needs a database file, not \"" + path + "\"");
  }
  auto impl = std::make_unique<Impl>(path, DatabaseOptions{}, open_connection(path, true));
  // A reader only waits out a writer's WAL recovery (rare, short).
  sqlite3_busy_timeout(impl->handle(), 5000);
  return Database(std::move(impl));
}

void Database::begin_read() {
  impl_->execute("BEGIN");
  // The read transaction starts with the first read: this one pins the snapshot now.
  impl_->query_int("SELECT count(*) FROM sqlite_schema");
}

void Database::end_read() {
  if (in_transaction()) impl_->execute("COMMIT");
}

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::~Database() = default;
Database::Database(Database&&) noexcept = default;
Database& Database::operator=(Database&&) noexcept = default;

const std::string& Database::path() const {
  return impl_->path;
}

bool Database::in_memory() const {
  return impl_->in_memory();
}

bool Database::in_transaction() const {
  return sqlite3_get_autocommit(impl_->handle()) == 0;
}

size_t Database::cached_statements() const {
  return impl_->cache.size();
}

Query Database::query(std::string_view sql) {
  auto it = impl_->cache.find(sql);
  if (it == impl_->cache.end()) {
    auto statement = std::make_unique<Statement>(impl_->handle(), impl_->path, sql);
    it = impl_->cache.emplace(std::string(sql), std::move(statement)).first;
  }
  return Query(*it->second);
}

void Database::execute(std::string_view sql) {
  impl_->execute(sql);
}

void Database::checkpoint(Checkpoint mode) {
  sqlite3* db = impl_->handle();
  if (impl_->in_memory()) return;
  if (sqlite3_get_autocommit(db) == 0) {
    throw std::logic_error("sqlite: checkpoint inside a transaction on " + impl_->path);
  }
  int modes[] = {SQLITE_CHECKPOINT_PASSIVE, SQLITE_CHECKPOINT_FULL, SQLITE_CHECKPOINT_TRUNCATE};
  int log_frames = -1;
  int done_frames = -1;
  int rc = sqlite3_wal_checkpoint_v2(db, "main", modes[static_cast<int>(mode)], &log_frames,
                                     &done_frames);
  impl_->check(rc, "wal_checkpoint");
  if (mode != Checkpoint::kPassive && log_frames != done_frames) {
    impl_->fail(SQLITE_BUSY,
                fmt::format("wal_checkpoint copied {} of {} frames", done_frames, log_frames));
  }
}

void Database::vacuum() {
  if (in_transaction()) throw std::logic_error("sqlite: VACUUM inside a transaction");
  // VACUUM writes the whole new database into the WAL file before it commits; one that fails
  // (SQLITE_FULL: it needs about the database's size free) rolls back and leaves the old
  // database as it was, but the WAL file keeps the size it grew to, and a full disk stays
  // full. So the WAL is emptied first (its commits copied into the database, which may need
  // room: then VACUUM would not have fitted either), and after a failure it holds only
  // VACUUM's dead frames, which a second truncation gives back without writing anything.
  checkpoint(Checkpoint::kTruncate);
  try {
    impl_->execute("VACUUM");
  } catch (const SqliteError&) {
    try {
      checkpoint(Checkpoint::kTruncate);
    } catch (const std::exception& e) {
      spdlog::warn("sqlite: {}: could not truncate the WAL after a failed VACUUM: {}",
                   impl_->path, e.what());
    }
    throw;
  }
  checkpoint(Checkpoint::kTruncate);
}

void Database::vacuum_beside_writer(const std::string& path) {
  if (path.empty() || path == kInMemory) {
    throw std::invalid_argument("sqlite: VACUUM beside a writer needs a file, not \"" + path + "\"");
  }
  // No writer lock (the writer holds it) and no configure(): the file is already the writer's,
  // in WAL mode. VACUUM writes the rebuilt database into the WAL; the checkpoint copies it
  // into the file and truncates the WAL, waiting (the busy timeout) for readers of older
  // snapshots to move on.
  auto impl = std::make_unique<Impl>(path, DatabaseOptions{}, open_connection(path, false));
  sqlite3_busy_timeout(impl->handle(), 5000);
  Database db(std::move(impl));
  db.vacuum();
}

uint64_t Database::size_bytes() {
  int64_t pages = 0;
  int64_t page_size = 0;
  {
    auto q = query("PRAGMA page_count");
    if (q.step()) pages = q.column_int(0);
  }
  {
    auto q = query("PRAGMA page_size");
    if (q.step()) page_size = q.column_int(0);
  }
  return static_cast<uint64_t>(pages * page_size);
}

// ---- Transaction

Transaction::Transaction(Database& db) : db_(db) {
  if (db_.in_transaction()) {
    throw std::logic_error("sqlite: a transaction is already open on " + db_.path());
  }
  db_.query("BEGIN IMMEDIATE").run();
}

Transaction::~Transaction() {
  if (committed_) return;
  try {
    if (db_.in_transaction()) db_.query("ROLLBACK").run();
  } catch (const std::exception& e) {
    spdlog::error("sqlite: rollback on {} failed: {}", db_.path(), e.what());
  }
}

void Transaction::commit() {
  if (committed_) throw std::logic_error("sqlite: transaction committed twice");
  if (Companion* companion = db_.companion()) companion->flush(db_);
  db_.query("COMMIT").run();
  committed_ = true;
}

}  // namespace etcdlab::sqlite
