// Lab 5, part A: compares. etcdlab/txn/txn.h is the specification; the handout
// (labs/05-txn/README.md, part A) walks through it. Split the work into files as it grows:
// anything matching src/*.cc is built.
#include "etcdlab/txn/txn.h"
#include "todo.h"

namespace etcdlab::txn {

bool compare_kv(const Compare& /*compare*/, const mvcc::KeyValue* /*kv*/) {
  todo('A', "compare_kv (one key against a compare)");
}

bool compare_holds(const Compare& /*compare*/, const RangeReader& /*read*/) {
  todo('A', "compare_holds (every key of the compare's range)");
}

}  // namespace etcdlab::txn
