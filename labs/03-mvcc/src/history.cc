// Lab 3, part D: history. Reads at a past revision (range's options.revision: its checks
// belong here too), compaction in bounded steps, the events since a revision, and hash_kv.
#include "etcdlab/mvcc/store.h"
#include "todo.h"

namespace etcdlab::mvcc {

int64_t KvStore::compact_revision() const {
  todo('D', "KvStore::compact_revision");
}

void KvStore::compact(int64_t /*revision*/) {
  todo('D', "KvStore::compact");
}

bool KvStore::compaction_step() {
  todo('D', "KvStore::compaction_step");
}

std::vector<Event> KvStore::events_since(int64_t /*from*/, const KeyRange& /*range*/,
                                         bool /*prev_kv*/) const {
  todo('D', "KvStore::events_since");
}

uint32_t KvStore::hash_kv(int64_t /*revision*/) const {
  todo('D', "KvStore::hash_kv");
}

}  // namespace etcdlab::mvcc
