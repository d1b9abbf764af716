#include "db_check.h"

#include <sqlite3.h>

#include <filesystem>
#include <memory>

#include "../node/sqlite_quick_check.h"
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
  if (auto fault = server::quick_check(db.get())) {
    throw CorruptionError(path, fault->offset,
                          fault->what + "; the member will not serve from it");
  }
}

}  // namespace etcdlab::runtime
