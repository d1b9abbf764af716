#include "etcdlab/sqlite/statement.h"

#include <sqlite3.h>

#include <limits>
#include <stdexcept>

#include "etcdlab/sqlite/database.h"

namespace etcdlab::sqlite {

Statement::Statement(sqlite3* db, const std::string& path, std::string_view sql)
    : db_(db), sql_(sql), path_(path) {
  if (sql.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    throw std::invalid_argument("sqlite: statement too long");
  }
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql_.data(), static_cast<int>(sql_.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt_, &tail);
  if (rc != SQLITE_OK) fail(rc);
  if (stmt_ == nullptr) throw SqliteError(path_, SQLITE_MISUSE, "no statement in the SQL", sql_);
  for (; tail != nullptr && *tail != '\0'; ++tail) {
    if (*tail != ' ' && *tail != '\n' && *tail != '\t' && *tail != ';') {
      sqlite3_finalize(stmt_);
      stmt_ = nullptr;
      throw SqliteError(path_, SQLITE_MISUSE, "more than one statement in the SQL", sql_);
    }
  }
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);  // returns the last step's error, which was reported then
}

void Statement::fail(int code) const {
  throw SqliteError(path_, code, sqlite3_errmsg(db_), sql_);
}

Query::Query(Statement& statement) : s_(statement) {
  if (s_.in_use_) {
    throw std::logic_error("sqlite: statement already in use by another Query: " + s_.sql_);
  }
  s_.in_use_ = true;
}

Query::~Query() {
  // sqlite3_reset returns the error of the last step, already reported by step().
  sqlite3_reset(s_.stmt_);
  sqlite3_clear_bindings(s_.stmt_);
  s_.in_use_ = false;
}

void Query::check_bind(int code) const {
  if (code != SQLITE_OK) s_.fail(code);
}

Query& Query::bind_int(int index, int64_t value) {
  check_bind(sqlite3_bind_int64(s_.stmt_, index, value));
  return *this;
}

Query& Query::bind_blob(int index, std::string_view value) {
  // A null data pointer would bind NULL, not an empty blob: Bitcoin's BindBlobToStatement.
  static const char kEmpty = 0;
  const char* data = value.data() != nullptr ? value.data() : &kEmpty;
  check_bind(sqlite3_bind_blob64(s_.stmt_, index, data, value.size(), SQLITE_TRANSIENT));
  return *this;
}

Query& Query::bind_text(int index, std::string_view value) {
  static const char kEmpty = 0;
  const char* data = value.data() != nullptr ? value.data() : &kEmpty;
  check_bind(
      sqlite3_bind_text64(s_.stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  return *this;
}

Query& Query::bind_null(int index) {
  check_bind(sqlite3_bind_null(s_.stmt_, index));
  return *this;
}

bool Query::step() {
  int rc = sqlite3_step(s_.stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  s_.fail(rc);
}

void Query::run() {
  if (step()) throw std::logic_error("sqlite: statement returned a row: " + s_.sql_);
}

int64_t Query::column_int(int column) const {
  return sqlite3_column_int64(s_.stmt_, column);
}

std::string_view Query::column_blob(int column) const {
  // Ask for the pointer first, then the size (SQLite's documented order).
  const void* data = sqlite3_column_blob(s_.stmt_, column);
  int size = sqlite3_column_bytes(s_.stmt_, column);
  if (data == nullptr) {
    // NULL, a zero-length value, or an out-of-memory error converting the value.
    int rc = sqlite3_errcode(s_.db_);
    if (size == 0 && rc == SQLITE_NOMEM) s_.fail(rc);
    return {};
  }
  return {static_cast<const char*>(data), static_cast<size_t>(size)};
}

bool Query::column_is_null(int column) const {
  return sqlite3_column_type(s_.stmt_, column) == SQLITE_NULL;
}

}  // namespace etcdlab::sqlite
