// Lab 3, part B: range, with every option, in the order etcd applies them: count the keys,
// then the min/max filters, the sort (stable), the limit, and keys_only.
#include "etcdlab/mvcc/store.h"
#include "todo.h"

namespace etcdlab::mvcc {

RangeResult KvStore::range(const KeyRange& /*range*/, const RangeOptions& /*options*/) const {
  todo('B', "KvStore::range");
}

// A read inside a write sees the write's own puts and deletes (at revision() when it has any).
RangeResult Write::range(const KeyRange& /*range*/, const RangeOptions& /*options*/) {
  todo('B', "Write::range");
}

}  // namespace etcdlab::mvcc
