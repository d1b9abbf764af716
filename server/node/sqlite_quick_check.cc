#include "sqlite_quick_check.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace etcdlab::server {

bool sqlite_rows(sqlite3* db, const char* sql, const std::string* param,
                 std::vector<std::vector<std::string>>& rows, std::string& error) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr);
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> st(raw, &sqlite3_finalize);
  if (rc == SQLITE_OK && param) {
    rc = sqlite3_bind_text(st.get(), 1, param->data(), static_cast<int>(param->size()),
                           SQLITE_TRANSIENT);
  }
  while (rc == SQLITE_OK && (rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    rc = SQLITE_OK;
    auto& row = rows.emplace_back();
    for (int i = 0; i < sqlite3_column_count(st.get()); ++i) {
      const unsigned char* text = sqlite3_column_text(st.get(), i);
      row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
    }
  }
  if (rc == SQLITE_DONE) return true;
  error = sqlite3_errmsg(db);
  return false;
}

std::optional<SqliteFault> quick_check(sqlite3* db) {
  std::vector<std::vector<std::string>> rows;
  std::string error;
  if (!sqlite_rows(db, "PRAGMA page_size", nullptr, rows, error)) {
    return SqliteFault{0, "not a database: " + error};
  }
  uint64_t page_size = 4096;
  if (!rows.empty() && !rows[0].empty()) page_size = std::stoull(rows[0][0]);
  rows.clear();
  if (!sqlite_rows(db, "PRAGMA quick_check(1)", nullptr, rows, error)) {
    return SqliteFault{0, "the database is damaged: " + error};
  }
  std::string first = !rows.empty() && !rows[0].empty() ? rows[0][0] : std::string();
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
