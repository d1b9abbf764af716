// Lab 5, part A: validation, before a txn goes into the log. etcdlab/txn/txn.h is the
// specification (validate: the three checks, in order).
#include "etcdlab/txn/txn.h"
#include "todo.h"

namespace etcdlab::txn {

void validate(const TxnRequest& /*request*/, size_t /*max_ops*/) {
  todo('A', "validate (too many operations, missing keys, duplicate keys)");
}

}  // namespace etcdlab::txn
