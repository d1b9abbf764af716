// Snapshots, restore, defragmentation and sizes: the whole database at once.
#include <stdexcept>

#include "store_impl.h"

namespace etcdlab::mvcc {

void KvStore::snapshot(const std::function<void(std::string_view chunk)>& out) const {
  impl_->check_no_write("snapshot");
  if (impl_->batch) throw std::logic_error("mvcc: snapshot inside a batch");
  impl_->db.snapshot(out);
}

void KvStore::restore(const std::function<std::string()>& in) {
  impl_->check_no_write("restore");
  if (impl_->batch) throw std::logic_error("mvcc: restore inside a batch");
  impl_->db.restore(in);  // checked before anything is replaced: on error nothing changed
  impl_->load();
}

void KvStore::defragment() {
  impl_->check_no_write("defragment");
  if (impl_->batch) throw std::logic_error("mvcc: defragment inside a batch");
  impl_->db.vacuum();
}

uint64_t KvStore::db_size() const {
  return impl_->db.size_bytes();
}

}  // namespace etcdlab::mvcc
