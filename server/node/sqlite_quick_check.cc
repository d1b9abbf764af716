#include "sqlite_quick_check.h"

#include <sqlite3.h>

#include <algorithm>
#include <memory>
#include <regex>

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
  uint64_t offset = 0;
  std::smatch m;
  if (std::regex_search(first, m, std::regex(R"([Pp]age (\d+))"))) {
    offset = (std::stoull(m[1].str()) - 1) * page_size;
  }
  return SqliteFault{offset, "the database is damaged (quick_check: " + first + ")"};
}

}  // namespace etcdlab::server
