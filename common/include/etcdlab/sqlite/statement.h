#pragma once
// Prepared statements (provided code). A Statement is prepared once and kept in its Database's
// cache (keyed by the SQL text); each use goes through a Query, which binds, steps and reads
// columns, and on destruction resets the statement and clears its bindings, so the next use
// starts clean whatever happened in between (an exception included). Every SQLite return code
// is checked: an error throws SqliteError (database.h) with the SQL and SQLite's message.
//
//   auto q = db.query("SELECT value FROM kv WHERE main = ?1 AND sub = ?2");
//   q.bind_int(1, rev.main).bind_int(2, rev.sub);
//   if (q.step()) use(q.column_blob(0));   // valid until the next step() or the end of q
//
// Parameters are numbered from 1 (?1, ?2 ... in the SQL); columns from 0. Thread-unsafe, like
// the connection it belongs to.

#include <cstdint>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace etcdlab::sqlite {

class Statement {
 public:
  // Prepares `sql` (one statement) on `db`; `path` names the database in errors.
  Statement(sqlite3* db, const std::string& path, std::string_view sql);
  ~Statement();  // finalizes
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  const std::string& sql() const { return sql_; }
  bool in_use() const { return in_use_; }

 private:
  friend class Query;
  [[noreturn]] void fail(int code) const;
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
  const std::string& path_;
  bool in_use_ = false;
};

// One use of a statement. Not copyable or movable: get it from Database::query() and keep it
// in a local variable.
class Query {
 public:
  // Throws std::logic_error if the statement is already in use (a Query on it is alive).
  explicit Query(Statement& statement);
  ~Query();  // sqlite3_reset + sqlite3_clear_bindings
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind_int(int index, int64_t value);
  // An empty view binds a zero-length blob, never NULL (SQLite would store NULL for a null
  // pointer). The bytes are copied (SQLITE_TRANSIENT), so `value` may die after the call.
  Query& bind_blob(int index, std::string_view value);
  Query& bind_text(int index, std::string_view value);
  Query& bind_null(int index);

  // Runs the statement to its next row: true when a row is ready, false when it is done.
  [[nodiscard]] bool step();
  // Runs a statement that returns no rows to completion (throws std::logic_error on a row).
  void run();

  int64_t column_int(int column) const;
  // The bytes of a BLOB or TEXT column ("" for NULL and for a zero-length value), valid until
  // the next step() or the end of the Query.
  std::string_view column_blob(int column) const;
  bool column_is_null(int column) const;

 private:
  void check_bind(int code) const;
  Statement& s_;
};

}  // namespace etcdlab::sqlite
