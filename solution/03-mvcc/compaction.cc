// Compaction. compact(C) makes reads below C fail at once (and persists C); the superseded
// versions go later, a bounded batch per compaction_step():
//
//   1. the index, compaction_batch keys per step (KeyIndex::compact);
//   2. the rows with main <= C, compaction_batch per step, in revision order: a row goes if
//      its revision does not survive compaction at C (KeyIndex::survives), which is exactly
//      what no read at C or later can reach.
//
// A restart in the middle recompacts the index on open and examines the rows again from the
// start (meta: compact_revision is set, finished_compact_revision is not yet C). A second
// compact() during the work starts it over at the new revision.
#include <spdlog/spdlog.h>

#include "etcdlab/broken.h"
#include "schema.h"
#include "store_impl.h"

namespace etcdlab::mvcc {

void KvStore::compact(int64_t revision) {
  Impl& s = *impl_;
  s.check_no_write("compact");
  if (revision <= s.compact_revision) fail(MvccError::Code::kCompacted);
  if (revision > s.revision) fail(MvccError::Code::kFutureRevision);
  s.in_transaction([&] { schema::write_meta(s.db, schema::kCompactRevision, revision); });
  s.compact_revision = revision;
  s.compaction = CompactionWork{revision, false, std::nullopt, {0, -1}};
  spdlog::info("mvcc: compacting at revision {} (current {})", revision, s.revision);
}

bool KvStore::compaction_step() {
  Impl& s = *impl_;
  s.check_no_write("compaction_step");
  CompactionWork& work = s.compaction;
  if (work.target == 0) return true;
  // (The bug variant: the whole job in one step, blocking the apply loop.)
  const int64_t budget =
      ETCDLAB_BROKEN("compact-all-at-once") ? INT64_MAX / 2 : s.options.compaction_batch;
  if (!work.index_done) {
    work.index_done = s.index.compact_some(work.target, work.index_cursor, budget);
    return false;
  }
  // Collect first, delete after: the scan must not run over rows it is deleting.
  std::vector<Revision> doomed;
  Revision last = work.row_cursor;
  int64_t examined =
      schema::scan_rows_after(s.db, work.row_cursor, work.target, budget, [&](const auto& row) {
        const KeyIndex* k = s.index.find(row.key);
        if (k == nullptr || !k->survives(row.rev, work.target)) doomed.push_back(row.rev);
        last = row.rev;
      });
  bool done = examined < budget;
  s.in_transaction([&] {
    for (const Revision& rev : doomed) schema::delete_row(s.db, rev);
    if (done) schema::write_meta(s.db, schema::kFinishedCompactRevision, work.target);
  });
  work.row_cursor = last;
  if (done) {
    spdlog::info("mvcc: compaction at revision {} finished", work.target);
    work = CompactionWork{};
  }
  return done;
}

}  // namespace etcdlab::mvcc
