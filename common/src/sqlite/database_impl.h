#pragma once
// The private state of a Database, shared by database.cc (open, PRAGMAs, queries) and
// snapshot.cc (snapshot and restore).
#include <sqlite3.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "etcdlab/sqlite/companion.h"
#include "etcdlab/sqlite/database.h"

namespace etcdlab::sqlite {

struct SqlHash {
  using is_transparent = void;
  size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
};

// Opens a connection with extended result codes on; nothing else is set yet.
sqlite3* open_connection(const std::string& path, bool read_only = false);
// Takes the one-writer lock of the file database at `path` (database.h); returns its fd.
int lock_writer(const std::string& path);

struct Database::Impl {
  Impl(std::string path_in, DatabaseOptions options_in, sqlite3* db_in);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  bool in_memory() const { return path == Database::kInMemory; }
  sqlite3* handle() const;  // throws std::logic_error once closed
  [[noreturn]] void fail(int code, std::string_view sql) const;
  void check(int code, std::string_view sql) const {
    if (code != SQLITE_OK) fail(code, sql);
  }

  // One-off statements (not cached): PRAGMAs and DDL.
  void execute(std::string_view sql);
  std::string query_text(std::string_view sql);  // the first column of the first row
  int64_t query_int(std::string_view sql);
  // PRAGMA <name> = <value>. PRAGMAs take no bound parameters, so this is the one place where
  // SQL is formatted, and only with an integer. `name` is always a literal.
  void set_int_pragma(const char* name, int64_t value);

  // Sets and verifies the PRAGMAs, then checks (or, if allowed, creates) the schema.
  void configure(bool allow_new);
  void check_schema(bool allow_new);
  void close() noexcept;  // finalizes the cached statements and closes the connection

  std::string path;
  DatabaseOptions options;
  sqlite3* db = nullptr;
  int lock_fd = -1;  // the writer's lock on "<path>.lock" (database.h), -1: none
  std::shared_ptr<Companion> companion;  // companion.h: tables committed with ours
  std::unordered_map<std::string, std::unique_ptr<Statement>, SqlHash, std::equal_to<>> cache;
};

}  // namespace etcdlab::sqlite
