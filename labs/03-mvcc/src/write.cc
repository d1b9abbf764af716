// Lab 3, part A: writes. A Write's operations share one main revision (the store's + 1) and
// get sub revisions 0, 1, 2... in order; nothing reaches the store before end().
#include "etcdlab/mvcc/store.h"
#include "todo.h"

namespace etcdlab::mvcc {

// Your state goes here. A hint: the store, the main revision, the events so far (event i is
// sub revision i), and a way to find this write's latest event on a key (its own earlier
// operations must be visible to its later ones).
struct Write::Impl {};

Write::Write(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Write::~Write() = default;  // discard: the store must be writable again afterwards
Write::Write(Write&&) noexcept = default;
Write& Write::operator=(Write&&) noexcept = default;

Write KvStore::write() {
  todo('A', "KvStore::write");
}

int64_t Write::revision() const {
  todo('A', "Write::revision");
}

PutResult Write::put(std::string_view /*key*/, std::string_view /*value*/, int64_t /*lease*/,
                     const PutOptions& /*options*/) {
  todo('A', "Write::put");
}

DeleteResult Write::delete_range(const KeyRange& /*range*/, bool /*prev_kv*/) {
  todo('A', "Write::delete_range");
}

std::vector<Event> Write::end() {
  todo('A', "Write::end");
}

std::vector<Event> Write::end_without_prev_kvs() {
  todo('A', "Write::end_without_prev_kvs");
}

PutResult KvStore::put(std::string_view /*key*/, std::string_view /*value*/, int64_t /*lease*/,
                       const PutOptions& /*options*/) {
  todo('A', "KvStore::put");
}

DeleteResult KvStore::delete_range(const KeyRange& /*range*/, bool /*prev_kv*/) {
  todo('A', "KvStore::delete_range");
}

}  // namespace etcdlab::mvcc
