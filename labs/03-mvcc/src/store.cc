// Lab 3: the MVCC store. store.h, types.h and errors.h are the specification; the handout
// (labs/03-mvcc/README.md) walks through each part. Split the work into files as it grows:
// anything matching src/*.cc is built (the reference has one file per job: the key index, the
// schema and its statements, reads, writes, compaction, snapshots).
#include "etcdlab/mvcc/store.h"

#include "etcdlab/sqlite/database.h"
#include "todo.h"

namespace etcdlab::mvcc {

// Your state goes here. A hint, by part:
//   A  the key index (for each key, its generations of revisions: see the handout's picture),
//      the current revision, the number of live keys, whether a write is open; and somewhere
//      to keep every version: a std::map<Revision, row> is enough until part C.
//   B  nothing new: range reads the index at a revision, then the rows it points at.
//   C  the sqlite::Database (etcdlab/sqlite/database.h) and its schema (a table of rows keyed
//      by revision, a meta table), the consistent index, the open batch's Transaction.
//   D  the compact revision, and where the compaction work has got to (compaction_step does
//      it a bounded batch at a time).
struct KvStore::Impl {};

KvStore::KvStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KvStore::~KvStore() = default;

std::unique_ptr<KvStore> KvStore::open(const StoreOptions& /*options*/) {
  // Part A needs only an empty store (in memory). Part C opens the SQLite database at
  // options.path, checks its schema and rebuilds the key index from its rows.
  todo('A', "KvStore::open (part A: an empty store; part C: the database at options.path)");
}

int64_t KvStore::revision() const {
  todo('A', "KvStore::revision");
}

int64_t KvStore::key_count() const {
  todo('A', "KvStore::key_count");
}

uint64_t KvStore::consistent_index() const {
  todo('C', "KvStore::consistent_index");
}

void KvStore::begin_batch() {
  todo('C', "KvStore::begin_batch");
}

void KvStore::commit_batch(uint64_t /*consistent_index*/) {
  todo('C', "KvStore::commit_batch");
}

void KvStore::make_durable() {
  todo('C', "KvStore::make_durable");
}

uint64_t KvStore::db_size() const {
  todo('C', "KvStore::db_size");
}

void KvStore::defragment() {
  todo('C', "KvStore::defragment");
}

void KvStore::snapshot(const std::function<void(std::string_view chunk)>& /*out*/) const {
  todo('C', "KvStore::snapshot");
}

void KvStore::restore(const std::function<std::string()>& /*in*/) {
  todo('C', "KvStore::restore");
}

}  // namespace etcdlab::mvcc
