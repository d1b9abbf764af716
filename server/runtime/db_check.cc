#include "db_check.h"

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <regex>

#include "etcdlab/errors.h"

namespace etcdlab::runtime {

void check_database_file(const std::string& path) {
  if (!std::filesystem::exists(path)) return;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  if (rc != SQLITE_OK) {
    throw CorruptionError(path, 0, std::string("cannot open the database: ") +
                                       (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  uint64_t page_size = 4096;
  std::string first_fault;
  auto run = [&](const char* sql, auto&& row) -> int {
    sqlite3_stmt* st = nullptr;
    int prc = sqlite3_prepare_v2(db.get(), sql, -1, &st, nullptr);
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> guard(st, &sqlite3_finalize);
    if (prc != SQLITE_OK) return prc;
    while ((prc = sqlite3_step(st)) == SQLITE_ROW) row(st);
    return prc == SQLITE_DONE ? SQLITE_OK : prc;
  };
  if (run("PRAGMA page_size", [&](sqlite3_stmt* st) {
        page_size = static_cast<uint64_t>(sqlite3_column_int64(st, 0));
      }) != SQLITE_OK) {
    throw CorruptionError(path, 0, std::string("not a database: ") + sqlite3_errmsg(db.get()));
  }
  int qrc = run("PRAGMA quick_check(1)", [&](sqlite3_stmt* st) {
    const unsigned char* text = sqlite3_column_text(st, 0);
    if (first_fault.empty() && text) first_fault = reinterpret_cast<const char*>(text);
  });
  if (qrc != SQLITE_OK) {
    throw CorruptionError(path, 0, std::string("the database is damaged: ") +
                                       sqlite3_errmsg(db.get()));
  }
  if (first_fault.empty() || first_fault == "ok") return;
  // SQLite names pages ("Page 7: ..." or "... page 7 ..."); the offset is where that page is.
  uint64_t offset = 0;
  std::smatch m;
  if (std::regex_search(first_fault, m, std::regex(R"([Pp]age (\d+))"))) {
    offset = (std::stoull(m[1].str()) - 1) * page_size;
  }
  throw CorruptionError(path, offset, "the database is damaged (quick_check: " + first_fault +
                                          "); the member will not serve from it");
}

}  // namespace etcdlab::runtime
