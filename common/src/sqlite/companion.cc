#include "etcdlab/sqlite/companion.h"

namespace etcdlab::sqlite {
namespace {

thread_local std::shared_ptr<Companion> current;

}  // namespace

CompanionScope::CompanionScope(std::shared_ptr<Companion> companion)
    : companion_(std::move(companion)), outer_(std::move(current)) {
  current = companion_;
}

CompanionScope::~CompanionScope() { current = std::move(outer_); }

std::shared_ptr<Companion> CompanionScope::take() {
  std::shared_ptr<Companion> out = std::move(current);
  current = nullptr;
  return out;
}

}  // namespace etcdlab::sqlite
