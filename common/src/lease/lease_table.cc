#include "etcdlab/lease/lease_table.h"

#include <stdexcept>

#include "etcdlab/sqlite/database.h"

namespace etcdlab::lease {

std::vector<LeaseRow> MemoryLeaseTable::load() const {
  std::vector<LeaseRow> out;
  for (const auto& [id, ttl] : rows_) out.push_back({id, ttl});
  return out;
}

void SqliteLeaseTable::attached(sqlite::Database& db) {
  db.execute(
      "CREATE TABLE IF NOT EXISTS lease (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL) "
      "WITHOUT ROWID");
  read(db);
}

void SqliteLeaseTable::restored(sqlite::Database& db) {
  // The whole database was replaced (a snapshot from the leader): what was noted belonged to
  // the state it replaced. (A database from before leases existed has no table yet.)
  pending_.clear();
  attached(db);
}

void SqliteLeaseTable::read(sqlite::Database& db) {
  committed_.clear();
  auto q = db.query("SELECT id, ttl FROM lease ORDER BY id");
  while (q.step()) committed_[q.column_int(0)] = q.column_int(1);
  attached_ = true;
}

void SqliteLeaseTable::flush(sqlite::Database& db) {
  for (const auto& [id, ttl] : pending_) {
    if (ttl) {
      auto q = db.query("INSERT OR REPLACE INTO lease (id, ttl) VALUES (?1, ?2)");
      q.bind_int(1, id);
      q.bind_int(2, *ttl);
      q.run();
      committed_[id] = *ttl;
    } else {
      auto q = db.query("DELETE FROM lease WHERE id = ?1");
      q.bind_int(1, id);
      q.run();
      committed_.erase(id);
    }
  }
  pending_.clear();
}

std::vector<LeaseRow> SqliteLeaseTable::load() const {
  if (!attached_) throw std::logic_error("lease table: not attached to a database");
  std::map<int64_t, int64_t> rows = committed_;
  for (const auto& [id, ttl] : pending_) {
    if (ttl) {
      rows[id] = *ttl;
    } else {
      rows.erase(id);
    }
  }
  std::vector<LeaseRow> out;
  for (const auto& [id, ttl] : rows) out.push_back({id, ttl});
  return out;
}

}  // namespace etcdlab::lease
