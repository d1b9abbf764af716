#pragma once
// Lab 4 (provided code): where the lessor keeps its leases across restarts.
//
// A lease row is (id, granted TTL in seconds). Nothing else about a lease is stored: the keys
// attached to a lease are the MVCC store's (each key's `lease` field, rebuilt at start), and
// how long a lease has left is the leader's clock, never stored (etcd 3.4 does the same).
//
// SqliteLeaseTable keeps the rows in a table of the MVCC store's own database:
//
//   CREATE TABLE lease (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL) WITHOUT ROWID
//
// and writes them with the store's next commit: put() and remove() only note the change, and
// the SQLite wrapper flushes it inside the transaction that commits the store's batch — with
// the consistent index (etcdlab/sqlite/companion.h). So after a crash the leases and the keys
// are at the same log entry, and a node snapshot (a copy of that database) carries the leases.
// MemoryLeaseTable is the in-memory twin for tests.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "etcdlab/sqlite/companion.h"

namespace etcdlab::lease {

struct LeaseRow {
  int64_t id = 0;
  int64_t ttl = 0;  // seconds, as granted
  friend bool operator==(const LeaseRow&, const LeaseRow&) = default;
};

class LeaseTable {
 public:
  virtual ~LeaseTable() = default;
  virtual std::vector<LeaseRow> load() const = 0;  // every lease, by ascending id
  virtual void put(const LeaseRow& row) = 0;       // inserts or replaces
  virtual void remove(int64_t id) = 0;             // nothing if absent
};

class MemoryLeaseTable final : public LeaseTable {
 public:
  std::vector<LeaseRow> load() const override;
  void put(const LeaseRow& row) override { rows_[row.id] = row.ttl; }
  void remove(int64_t id) override { rows_.erase(id); }

 private:
  std::map<int64_t, int64_t> rows_;
};

class SqliteLeaseTable final : public LeaseTable, public sqlite::Companion {
 public:
  std::vector<LeaseRow> load() const override;  // the database's rows with the changes noted
  void put(const LeaseRow& row) override { pending_[row.id] = row.ttl; }
  void remove(int64_t id) override { pending_[id] = std::nullopt; }

  // sqlite::Companion
  void attached(sqlite::Database& db) override;
  void flush(sqlite::Database& db) override;
  void restored(sqlite::Database& db) override;

 private:
  void read(sqlite::Database& db);

  // The rows as committed: read when attached and restored, kept up to date by flush(). (No
  // pointer to the Database is kept: Database::open() hands it to attached() and then moves
  // it into the store.)
  std::map<int64_t, int64_t> committed_;
  bool attached_ = false;
  std::map<int64_t, std::optional<int64_t>> pending_;  // id -> TTL, or nullopt: removed
};

}  // namespace etcdlab::lease
