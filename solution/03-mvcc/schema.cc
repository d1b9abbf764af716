// The store's SQL (schema.h). Every statement is a constant: values are always bound.
#include "schema.h"

#include "etcdlab/broken.h"

namespace etcdlab::mvcc::schema {

std::vector<std::string> statements() {
  return {
      "CREATE TABLE IF NOT EXISTS kv ("
      " main INTEGER NOT NULL,"
      " sub INTEGER NOT NULL,"
      " key BLOB NOT NULL,"
      " create_revision INTEGER NOT NULL,"
      " version INTEGER NOT NULL,"
      " lease INTEGER NOT NULL,"
      " value BLOB NOT NULL,"
      " PRIMARY KEY (main, sub)) WITHOUT ROWID",
      "CREATE TABLE IF NOT EXISTS meta ("
      " name TEXT PRIMARY KEY NOT NULL,"
      " value INTEGER NOT NULL) WITHOUT ROWID",
  };
}

void insert_row(sqlite::Database& db, Revision rev, const KeyValue& kv, bool tombstone) {
  if (ETCDLAB_BROKEN("sql-text-with-values")) {
    // The bug: values formatted into the SQL text. A quote or a zero byte in a key breaks it,
    // and every row is a new statement to prepare.
    auto n = [](int64_t v) { return std::to_string(v); };
    db.execute("INSERT INTO kv (main, sub, key, create_revision, version, lease, value) VALUES (" +
               n(rev.main) + ", " + n(rev.sub) + ", '" + kv.key + "', " +
               n(tombstone ? 0 : kv.create_revision) + ", " + n(tombstone ? 0 : kv.version) + ", " +
               n(tombstone ? 0 : kv.lease) + ", '" + (tombstone ? "" : kv.value) + "')");
    return;
  }
  auto q = db.query(
      "INSERT INTO kv (main, sub, key, create_revision, version, lease, value) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  q.bind_int(1, rev.main).bind_int(2, rev.sub).bind_blob(3, kv.key);
  if (tombstone) {
    q.bind_int(4, 0).bind_int(5, 0).bind_int(6, 0).bind_blob(7, "");
  } else {
    q.bind_int(4, kv.create_revision).bind_int(5, kv.version).bind_int(6, kv.lease);
    q.bind_blob(7, kv.value);
  }
  q.run();
}

bool read_row(sqlite::Database& db, Revision rev, bool with_value, KeyValue& kv) {
  // Two statements, so a keys-only read does not copy values it drops.
  auto q = with_value ? db.query(
                            "SELECT create_revision, version, lease, value FROM kv "
                            "WHERE main = ?1 AND sub = ?2")
                      : db.query(
                            "SELECT create_revision, version, lease FROM kv "
                            "WHERE main = ?1 AND sub = ?2");
  q.bind_int(1, rev.main).bind_int(2, rev.sub);
  if (!q.step()) return false;
  kv.create_revision = q.column_int(0);
  kv.version = q.column_int(1);
  kv.lease = q.column_int(2);
  if (with_value) kv.value.assign(q.column_blob(3));
  return true;
}

void delete_row(sqlite::Database& db, Revision rev) {
  auto q = db.query("DELETE FROM kv WHERE main = ?1 AND sub = ?2");
  q.bind_int(1, rev.main).bind_int(2, rev.sub);
  q.run();
}

int64_t read_meta(sqlite::Database& db, std::string_view name, int64_t fallback) {
  auto q = db.query("SELECT value FROM meta WHERE name = ?1");
  q.bind_text(1, name);
  return q.step() ? q.column_int(0) : fallback;
}

void write_meta(sqlite::Database& db, std::string_view name, int64_t value) {
  auto q = db.query(
      "INSERT INTO meta (name, value) VALUES (?1, ?2) "
      "ON CONFLICT (name) DO UPDATE SET value = excluded.value");
  q.bind_text(1, name).bind_int(2, value);
  q.run();
}

}  // namespace etcdlab::mvcc::schema
