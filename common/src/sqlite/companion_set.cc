#include "etcdlab/sqlite/companion_set.h"

#include <stdexcept>

namespace etcdlab::sqlite {

CompanionSet::CompanionSet(std::vector<std::shared_ptr<Companion>> members)
    : members_(std::move(members)) {
  for (const auto& m : members_) {
    if (!m) throw std::invalid_argument("sqlite::CompanionSet: a member is null");
  }
}

void CompanionSet::attached(Database& db) {
  for (const auto& m : members_) m->attached(db);
}

void CompanionSet::flush(Database& db) {
  for (const auto& m : members_) m->flush(db);
}

void CompanionSet::restored(Database& db) {
  for (const auto& m : members_) m->restored(db);
}

}  // namespace etcdlab::sqlite
