#pragma once
// Companions: tables of provided code that live in a database another component writes, and
// commit in that component's transactions. Lab 4's leases live in lab 3's MVCC database this
// way: a lease granted by an entry is written in the same SQLite transaction as the entry's
// other writes and the store's consistent index, so after a crash both are at the same entry.
//
// The store does nothing for it. The wrapper attaches a companion to the Database opened while
// a CompanionScope is alive on the thread (KvNode opens its store inside one), and then:
//   attached(db)   right after open, outside any transaction: create its tables, read them;
//   flush(db)      inside every Transaction::commit() of that database, before COMMIT: write
//                  what changed since the last commit (a store that commits with the
//                  provided Transaction, as lab 3's handout says to, carries it along);
//   restored(db)   after restore() replaced the whole database: read its tables again.
// A Database has at most one companion; the scope's companion goes to the first Database
// opened (not a reader) while it lives.

#include <memory>

namespace etcdlab::sqlite {

class Database;

class Companion {
 public:
  virtual ~Companion() = default;
  virtual void attached(Database& db) = 0;
  virtual void flush(Database& db) = 0;
  virtual void restored(Database& db) = 0;
};

class CompanionScope {
 public:
  explicit CompanionScope(std::shared_ptr<Companion> companion);
  ~CompanionScope();
  CompanionScope(const CompanionScope&) = delete;
  CompanionScope& operator=(const CompanionScope&) = delete;

  // The companion of the innermost scope alive on this thread, taken by the next open().
  static std::shared_ptr<Companion> take();

 private:
  std::shared_ptr<Companion> companion_;
  std::shared_ptr<Companion> outer_;
};

}  // namespace etcdlab::sqlite
