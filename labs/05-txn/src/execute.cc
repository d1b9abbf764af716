// Lab 5, parts B and C: a txn applied at one revision, and the read-only path.
// etcdlab/txn/txn.h is the specification.
#include "etcdlab/txn/txn.h"
#include "todo.h"

namespace etcdlab::txn {

TxnResult execute(mvcc::KvStore& /*store*/, const TxnRequest& /*request*/,
                  const LeaseExists& /*lease_exists*/, std::vector<mvcc::Event>* /*events*/) {
  todo('B', "execute (decide the branches, check, then one write)");
}

bool is_read_only(const TxnRequest& /*request*/) { todo('C', "is_read_only"); }

bool is_serializable(const TxnRequest& /*request*/) { todo('C', "is_serializable"); }

TxnResult execute_read(const mvcc::KvStore& /*store*/, const TxnRequest& /*request*/) {
  todo('C', "execute_read (a read-only txn, no write)");
}

}  // namespace etcdlab::txn
