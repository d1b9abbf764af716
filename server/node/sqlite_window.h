#pragma once
// A SQLite database read in place from a window of bytes that are not a file of its own: the
// store part of a node snapshot, which begins after the snapshot's header (state_machine.h).
// Checking a received snapshot this way needs no copy of the store (as big as the database)
// and no I/O but the reads the caller's function does.
//
// The connection is read-only and sees the bytes as immutable: SQLite writes nothing, takes no
// lock and opens no journal or WAL. A database image that says it is in WAL mode (bytes 18 and
// 19 of its header) is shown as a rollback-journal one, as Database::restore does with an image
// it loads into memory: a snapshot's image holds every page in its main part.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

struct sqlite3;

namespace etcdlab::server {

using ReadAt = std::function<std::string(uint64_t offset, uint64_t length)>;

class SqliteWindow {
 public:
  // Bytes [begin, end) of what `read` returns are the database. `read` may return fewer bytes
  // than asked only at the end, and may throw (the read is then a SQLite I/O error).
  SqliteWindow(ReadAt read, uint64_t begin, uint64_t end);
  ~SqliteWindow();
  SqliteWindow(const SqliteWindow&) = delete;
  SqliteWindow& operator=(const SqliteWindow&) = delete;

  // The connection (nullptr if SQLite could not open one: see open_error()). Used by one
  // thread at a time, while this object lives.
  sqlite3* db() const { return db_; }
  const std::string& open_error() const { return open_error_; }
  // What the last read that failed threw (empty: none failed).
  const std::string& read_error() const;

  struct Source;  // what the VFS reads through (sqlite_window.cc)

 private:
  std::unique_ptr<Source> source_;
  sqlite3* db_ = nullptr;
  std::string open_error_;
};

}  // namespace etcdlab::server
