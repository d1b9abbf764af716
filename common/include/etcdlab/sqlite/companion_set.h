#pragma once
// Several companions in one database (companion.h allows one per Database): a CompanionSet is
// itself the companion, and hands every call to its members in the order they were given.
// The node keeps both the lease table and the auth table in the MVCC store's database this
// way; callers with one companion keep using CompanionScope with it directly.

#include <memory>
#include <vector>

#include "etcdlab/sqlite/companion.h"

namespace etcdlab::sqlite {

class CompanionSet final : public Companion {
 public:
  explicit CompanionSet(std::vector<std::shared_ptr<Companion>> members);

  void attached(Database& db) override;
  void flush(Database& db) override;
  void restored(Database& db) override;

 private:
  std::vector<std::shared_ptr<Companion>> members_;
};

}  // namespace etcdlab::sqlite
