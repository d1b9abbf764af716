#include "sqlite_quick_check.h"

#include <sqlite3.h>

#include <algorithm>
#include <memory>
#include <cctype>

namespace etcdlab::server {

std::optional<SqliteFault> quick_check(sqlite3* db) {
  auto run = [&](const char* sql, auto&& row) -> int {
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> guard(st, &sqlite3_finalize);
    if (rc != SQLITE_OK) return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) row(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
  };
  uint64_t page_size = 4096;
  if (run("PRAGMA page_size", [&](sqlite3_stmt* st) {
        page_size = static_cast<uint64_t>(sqlite3_column_int64(st, 0));
      }) != SQLITE_OK) {
    return SqliteFault{0, std::string("not a database: ") + sqlite3_errmsg(db)};
  }
  std::string first;
  int rc = run("PRAGMA quick_check(1)", [&](sqlite3_stmt* st) {
    const unsigned char* text = sqlite3_column_text(st, 0);
    if (first.empty() && text) first = reinterpret_cast<const char*>(text);
  });
  if (rc != SQLITE_OK) {
    return SqliteFault{0, std::string("the database is damaged: ") + sqlite3_errmsg(db)};
  }
  if (first.empty() || first == "ok") return std::nullopt;
  // One line for the log: SQLite puts "*** in database main ***" on a line of its own.
  std::replace(first.begin(), first.end(), '\n', ' ');
  // SQLite names pages ("Page 7: ..." or "... page 7 ..."); the offset is where that page is.
  // (Read by hand: std::regex trips GCC 12's maybe-uninitialized warning under ASan.)
  uint64_t offset = 0;
  for (size_t at = first.find("age "); at != std::string::npos; at = first.find("age ", at + 1)) {
    if (at == 0 || (first[at - 1] != 'P' && first[at - 1] != 'p')) continue;
    size_t digits = at + 4;
    uint64_t page = 0;
    while (digits < first.size() && std::isdigit(static_cast<unsigned char>(first[digits])) &&
           page < (uint64_t{1} << 40)) {
      page = page * 10 + static_cast<uint64_t>(first[digits++] - '0');
    }
    if (page > 0) {
      offset = (page - 1) * page_size;
      break;
    }
  }
  return SqliteFault{offset, "the database is damaged (quick_check: " + first + ")"};
}

}  // namespace etcdlab::server
