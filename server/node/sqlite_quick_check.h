#pragma once
// SQLite's structure check on an open connection, for the two places that judge a database
// before the member uses it: the store's file at start (runtime/db_check.h) and the store part
// of a snapshot received from a peer (snapshot_check.h). SQLite has no page checksums;
// `PRAGMA quick_check` reads every page's structure (b-tree pages, cell pointers, the free
// list; O(size)) and names the first bad page, which becomes a byte offset here.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace etcdlab::server {

struct SqliteFault {
  uint64_t offset = 0;  // of the page SQLite named, into the database (0: it named none)
  std::string what;     // "not a database: ...", "the database is damaged (quick_check: ...)"
};

// nullopt if `db` is a database whose structure quick_check finds sound; otherwise the first
// fault. Throws nothing: a check that cannot run is a fault too.
std::optional<SqliteFault> quick_check(sqlite3* db);

// The rows of `sql` on a raw connection (with `param` bound to ?1 if given), each column as
// text, appended to `rows`; false and SQLite's message in `error` if it failed. (The checks
// run on connections that are not Database's: a window's, or a file opened read-only.)
bool sqlite_rows(sqlite3* db, const char* sql, const std::string* param,
                 std::vector<std::vector<std::string>>& rows, std::string& error);

}  // namespace etcdlab::server
