// Lab 5, part D: the lock recipe. etcdlab/txn/lock.h is the specification; the handout
// (labs/05-txn/README.md, part D) walks through it.
#include "etcdlab/txn/lock.h"

#include "todo.h"

namespace etcdlab::txn {

// Your state goes here. A hint: the prefix, your key, your lease, your key's create revision,
// and where you are in the recipe.
struct LockRecipe::Impl {};

LockRecipe::LockRecipe(std::string /*name*/, int64_t /*lease*/) : impl_(std::make_unique<Impl>()) {}
LockRecipe::~LockRecipe() = default;
LockRecipe::LockRecipe(LockRecipe&&) noexcept = default;
LockRecipe& LockRecipe::operator=(LockRecipe&&) noexcept = default;

const std::string& LockRecipe::key() const { todo('D', "LockRecipe::key"); }
int64_t LockRecipe::revision() const { todo('D', "LockRecipe::revision (the fencing token)"); }

LockStep LockRecipe::start() { todo('D', "LockRecipe::start (the first txn)"); }

LockStep LockRecipe::on_txn(const TxnResult& /*result*/) {
  todo('D', "LockRecipe::on_txn (held, or find the key before yours)");
}

LockStep LockRecipe::on_range(const mvcc::RangeResult& /*result*/) {
  todo('D', "LockRecipe::on_range (wait for a predecessor, or check your session)");
}

LockStep LockRecipe::on_deleted() { todo('D', "LockRecipe::on_deleted"); }

}  // namespace etcdlab::txn
