// The store: open and the index rebuild, batches and durability, the one-operation writes.
#include <spdlog/spdlog.h>

#include <stdexcept>

#include "etcdlab/broken.h"
#include "etcdlab/errors.h"
#include "schema.h"
#include "store_impl.h"

namespace etcdlab::mvcc {

// ---- open and load

std::unique_ptr<KvStore> KvStore::open(const StoreOptions& options) {
  if (options.compaction_batch <= 0) throw std::invalid_argument("compaction_batch must be > 0");
  sqlite::DatabaseOptions db_options;
  db_options.application_id = schema::kApplicationId;
  db_options.user_version = schema::kSchemaVersion;
  db_options.schema = schema::statements();
  // The Raft log is the source of truth: a commit lost to a power loss is applied again from
  // it (from consistent_index on), and the log is released only after make_durable().
  db_options.synchronous = sqlite::Synchronous::kNormal;
  db_options.cache_kib = options.cache_kib;
  auto impl = std::make_unique<Impl>(options, sqlite::Database::open(options.path, db_options));
  impl->load();
  return std::unique_ptr<KvStore>(new KvStore(std::move(impl)));
}

void KvStore::Impl::load() {
  consistent_index = static_cast<uint64_t>(schema::read_meta(db, schema::kConsistentIndex, 0));
  compact_revision = schema::read_meta(db, schema::kCompactRevision, 0);
  int64_t finished = schema::read_meta(db, schema::kFinishedCompactRevision, 0);
  index.clear();
  revision = 1;
  int64_t rows = 0;
  schema::scan_rows(db, [&](const schema::RowHead& row) {
    KeyIndex& k = index.get_or_create(row.key);
    if (row.version == 0) {
      k.tombstone(row.rev);
    } else {
      k.put(row.rev, row.create_revision, row.version);
    }
    revision = std::max(revision, row.rev.main);
    ++rows;
  });
  if (ETCDLAB_BROKEN("revision-from-row-count")) revision = 1 + rows;  // the bug
  if (!ETCDLAB_BROKEN("revision-forgets-compaction"))
    revision = std::max(revision, compact_revision);
  compaction = CompactionWork{};
  if (compact_revision > 0) {
    // Rows an interrupted compaction did not remove yet are in the index now: compact it again
    // (all of it: this is a restart, not the apply loop) and let compaction_step finish the rows.
    std::optional<std::string> cursor;
    while (!index.compact_some(compact_revision, cursor, INT64_MAX)) {
    }
    if (finished < compact_revision) compaction = {compact_revision, true, std::nullopt, {0, -1}};
  }
  key_count = 0;
  index.visit(KeyRange{std::string(1, '\0'), std::string(1, '\0')},
              [&](std::string_view, const KeyIndex& k) { key_count += k.alive() ? 1 : 0; });
  spdlog::info(
      "mvcc: opened {}: revision {}, {} rows, {} keys, consistent index {}, compacted at "
      "{}{}",
      options.path, revision, rows, key_count, consistent_index, compact_revision,
      compaction.target != 0 ? " (compaction unfinished)" : "");
}

KvStore::KvStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KvStore::~KvStore() {
  if (impl_->batch) spdlog::warn("mvcc: closing with an open batch: it is rolled back");
}

void KvStore::Impl::check_usable() const {
  if (broken) {
    throw StorageError("mvcc: " + options.path +
                       ": a write failed inside a batch; reopen the store");
  }
}

void KvStore::Impl::check_no_write(const char* what) const {
  check_usable();
  if (write_open) throw std::logic_error(std::string("mvcc: ") + what + " while a write is open");
}

int64_t KvStore::revision() const {
  return impl_->revision;
}

int64_t KvStore::compact_revision() const {
  return impl_->compact_revision;
}

uint64_t KvStore::consistent_index() const {
  return impl_->consistent_index;
}

int64_t KvStore::key_count() const {
  return impl_->key_count;
}

// ---- writes

Write KvStore::write() {
  impl_->check_no_write("write()");
  std::unique_ptr<Write::Impl> w = std::move(impl_->spare_write);
  if (!w) w = std::make_unique<Write::Impl>();
  w->store = impl_.get();
  w->main = impl_->revision + 1;
  w->active = true;
  impl_->write_open = true;
  return Write(std::move(w));
}

PutResult KvStore::put(std::string_view key, std::string_view value, int64_t lease,
                       const PutOptions& options) {
  Write w = write();
  PutResult result = w.put(key, value, lease, options);
  w.impl_->end(Write::Impl::Returning::kNothing);
  return result;
}

DeleteResult KvStore::delete_range(const KeyRange& range, bool prev_kv) {
  Write w = write();
  DeleteResult result = w.delete_range(range, prev_kv);
  w.impl_->end(Write::Impl::Returning::kNothing);
  return result;
}

// ---- batches and durability

void KvStore::begin_batch() {
  impl_->check_no_write("begin_batch");
  if (impl_->batch) throw std::logic_error("mvcc: begin_batch inside a batch");
  impl_->batch.emplace(impl_->db);
}

void KvStore::commit_batch(uint64_t consistent_index) {
  impl_->check_no_write("commit_batch");
  if (!impl_->batch) throw std::logic_error("mvcc: commit_batch without begin_batch");
  if (consistent_index < impl_->consistent_index) {
    throw std::invalid_argument("mvcc: consistent index " + std::to_string(consistent_index) +
                                " is below " + std::to_string(impl_->consistent_index));
  }
  try {
    if (ETCDLAB_BROKEN("consistent-index-own-transaction")) {
      impl_->batch->commit();  // the bug: a crash between these two commits applies it twice
      impl_->batch.reset();
      sqlite::Transaction tx(impl_->db);
      schema::write_meta(impl_->db, schema::kConsistentIndex,
                         static_cast<int64_t>(consistent_index));
      tx.commit();
      impl_->consistent_index = consistent_index;
      return;
    }
    schema::write_meta(impl_->db, schema::kConsistentIndex, static_cast<int64_t>(consistent_index));
    impl_->batch->commit();
  } catch (...) {
    impl_->broken = true;  // the index holds writes the database lost
    throw;
  }
  impl_->batch.reset();
  impl_->consistent_index = consistent_index;
}

void KvStore::make_durable() {
  impl_->check_no_write("make_durable");
  if (impl_->batch) throw std::logic_error("mvcc: make_durable inside a batch");
  impl_->db.checkpoint(sqlite::Checkpoint::kFull);
}

}  // namespace etcdlab::mvcc
