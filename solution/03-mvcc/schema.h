#pragma once
// The SQLite schema of the MVCC store, and the few statements that touch it.
//
//   kv    one row per revision (main, sub): the key's version as that write left it, or a
//         tombstone (version 0, empty value) for a delete. The primary key is the revision, so
//         rows are appended in order and a value is fetched by its revision alone. The value is
//         the last column: scans that do not need it (the index rebuild, compaction) do not
//         read it.
//   meta  named integers: the consistent index, the compact revision (reads below it fail),
//         and the revision up to which superseded rows have been removed.
//
// The database carries application_id kApplicationId and user_version kSchemaVersion
// (checked on open by the SQLite wrapper). The store's revision is not stored: it is the
// highest revision in kv, or the compact revision if that is higher (compaction may remove the
// row of the newest revision, a tombstone).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "etcdlab/mvcc/types.h"
#include "etcdlab/sqlite/database.h"

namespace etcdlab::mvcc::schema {

inline constexpr uint32_t kApplicationId = 0x65746364;  // "etcd"
inline constexpr int32_t kSchemaVersion = 1;

inline constexpr std::string_view kConsistentIndex = "consistent_index";
inline constexpr std::string_view kCompactRevision = "compact_revision";
inline constexpr std::string_view kFinishedCompactRevision = "finished_compact_revision";

std::vector<std::string> statements();  // CREATE TABLE ... for a new database

// One row of kv, as the index rebuild and compaction read it (no value).
struct RowHead {
  Revision rev;
  std::string_view key;  // valid until the next row
  int64_t create_revision = 0;
  int64_t version = 0;  // 0: a tombstone
};

void insert_row(sqlite::Database& db, Revision rev, const KeyValue& kv, bool tombstone);
// Fills kv's create_revision, version, lease and (if with_value) value from the row at `rev`;
// false if there is no such row.
bool read_row(sqlite::Database& db, Revision rev, bool with_value, KeyValue& kv);
void delete_row(sqlite::Database& db, Revision rev);

// Calls fn(RowHead) for every row, in revision order.
template <typename Fn>
void scan_rows(sqlite::Database& db, Fn&& fn) {
  auto q = db.query("SELECT main, sub, key, create_revision, version FROM kv ORDER BY main, sub");
  while (q.step()) {
    fn(RowHead{
        {q.column_int(0), q.column_int(1)}, q.column_blob(2), q.column_int(3), q.column_int(4)});
  }
}

// Up to `limit` rows after `after` with main <= `up_to`, in revision order.
template <typename Fn>
int64_t scan_rows_after(sqlite::Database& db, Revision after, int64_t up_to, int64_t limit,
                        Fn&& fn) {
  auto q = db.query(
      "SELECT main, sub, key FROM kv WHERE (main, sub) > (?1, ?2) AND main <= ?3 "
      "ORDER BY main, sub LIMIT ?4");
  q.bind_int(1, after.main).bind_int(2, after.sub).bind_int(3, up_to).bind_int(4, limit);
  int64_t n = 0;
  for (; q.step(); ++n) fn(RowHead{{q.column_int(0), q.column_int(1)}, q.column_blob(2), 0, 0});
  return n;
}

int64_t read_meta(sqlite::Database& db, std::string_view name, int64_t fallback);
void write_meta(sqlite::Database& db, std::string_view name, int64_t value);

}  // namespace etcdlab::mvcc::schema
