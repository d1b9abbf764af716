#include "etcdlab/lease/lease_table.h"


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
  rows_.clear();
  pending_.clear();
  auto q = db.query("SELECT id, ttl FROM lease ORDER BY id");
  while (q.step()) rows_[q.column_int(0)] = q.column_int(1);
}

void SqliteLeaseTable::restored(sqlite::Database& db) {
  // The whole database was replaced (a snapshot from the leader): what was noted belonged to
  // the state it replaced. (A database from before leases existed has no table yet.)
  attached(db);
}

void SqliteLeaseTable::put(const LeaseRow& row) {
  rows_[row.id] = row.ttl;
  pending_[row.id] = row.ttl;
}

void SqliteLeaseTable::remove(int64_t id) {
  rows_.erase(id);
  pending_[id] = std::nullopt;
}

void SqliteLeaseTable::flush(sqlite::Database& db) {
  for (const auto& [id, ttl] : pending_) {
    if (ttl) {
      auto q = db.query("INSERT OR REPLACE INTO lease (id, ttl) VALUES (?1, ?2)");
      q.bind_int(1, id);
      q.bind_int(2, *ttl);
      q.run();
    } else {
      auto q = db.query("DELETE FROM lease WHERE id = ?1");
      q.bind_int(1, id);
      q.run();
    }
  }
  pending_.clear();
}

std::vector<LeaseRow> SqliteLeaseTable::load() const {
  std::vector<LeaseRow> out;
  for (const auto& [id, ttl] : rows_) out.push_back({id, ttl});
  return out;
}

}  // namespace etcdlab::lease
