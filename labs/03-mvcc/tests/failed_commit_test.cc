// Lab 3, part C: a store whose database failed it. When SQLite fails a write or a commit inside
// a batch, the database has lost (or half holds) writes the index already has. Nothing the store
// answers from then on can be trusted, so it refuses every read and write with StorageError
// until it is reopened, and a reopen finds the last batch that committed.
//
// The failures come from a VFS (the kill_vfs of the restart tests, with another write method)
// that fails every write to the WAL with SQLITE_IOERR_WRITE while `failing` is set.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "etcdlab/errors.h"
#include "kill_vfs.h"
#include "mvcc_test_util.h"

namespace etcdlab::lab3 {
namespace {

bool failing = false;

int failing_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 at) {
  if (failing && reinterpret_cast<kill_vfs::File*>(f)->wal) return SQLITE_IOERR_WRITE;
  return kill_vfs::in(f)->pMethods->xWrite(kill_vfs::in(f), buf, n, at);
}

sqlite3_io_methods failing_methods;
sqlite3_vfs failing_vfs;

int failing_open(sqlite3_vfs* v, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  int rc = kill_vfs::open(v, name, f, flags, out_flags);
  if (f->pMethods != nullptr) f->pMethods = &failing_methods;
  return rc;
}

// Makes the failing VFS the default for the test's lifetime (stores opened in it use it).
class FailingVfs {
 public:
  FailingVfs() {
    kill_vfs::real = sqlite3_vfs_find(nullptr);
    failing_methods = kill_vfs::methods;
    failing_methods.xWrite = failing_write;
    failing_vfs = *kill_vfs::real;
    failing_vfs.zName = "etcdlab-failing";
    failing_vfs.szOsFile = static_cast<int>(sizeof(kill_vfs::File)) + kill_vfs::real->szOsFile;
    failing_vfs.xOpen = failing_open;
    failing_vfs.pNext = nullptr;
    failing = false;
    sqlite3_vfs_register(&failing_vfs, 1);
  }
  ~FailingVfs() {
    failing = false;
    sqlite3_vfs_unregister(&failing_vfs);
    sqlite3_vfs_register(kill_vfs::real, 1);
  }
  FailingVfs(const FailingVfs&) = delete;
  FailingVfs& operator=(const FailingVfs&) = delete;
};

#define EXPECT_STORAGE_ERROR(statement)                                         \
  EXPECT_TRUE(throws<StorageError>("StorageError", [&] { (void)(statement); })) \
      << "call: " #statement

// Every read and write a broken store must refuse.
void expect_refuses_everything(KvStore& s) {
  EXPECT_STORAGE_ERROR(s.range(key("a")));
  EXPECT_STORAGE_ERROR(s.range(everything()));
  EXPECT_STORAGE_ERROR(s.events_since(1, everything(), false));
  EXPECT_STORAGE_ERROR(s.hash_kv(0));
  EXPECT_STORAGE_ERROR(s.write());
  EXPECT_STORAGE_ERROR(s.put("c", "1"));
  EXPECT_STORAGE_ERROR(s.begin_batch());
}

}  // namespace

TEST(BackendRules, AFailedCommitBatchLeavesTheStoreRefusingEverythingUntilReopened) {
  TempDir dir;
  std::string path = dir.file("kv.db");
  {
    FailingVfs vfs;
    auto s = file_store(path);
    s->begin_batch();
    s->put("a", "1");
    s->commit_batch(1);
    s->begin_batch();
    s->put("b", "1");
    failing = true;
    EXPECT_STORAGE_ERROR(s->commit_batch(2));
    failing = false;  // the disk is fine again: the store must still not trust its index
    expect_refuses_everything(*s);
  }
  auto s = file_store(path);
  EXPECT_EQ(s->consistent_index(), 1u) << "the failed batch is not there";
  EXPECT_EQ(read(*s, everything()), std::vector{kv("a", 2, 2, 1, "1")});
}

TEST(BackendRules, AWriteThatFailsInsideABatchLeavesTheStoreRefusingEverything) {
  // A write bigger than the page cache (4 MiB: more than the wrapper's default cache as well)
  // makes SQLite spill pages to the WAL before the commit, so the failure reaches the write.
  TempDir dir;
  std::string path = dir.file("kv.db");
  {
    FailingVfs vfs;
    StoreOptions o;
    o.path = path;
    o.cache_kib = 64;
    auto s = KvStore::open(o);
    s->put("a", "1");
    s->begin_batch();
    failing = true;
    Write w = s->write();
    for (int i = 0; i < 64; ++i) w.put("big" + std::to_string(i), std::string(64 << 10, 'x'), 0);
    EXPECT_STORAGE_ERROR(w.end());
    failing = false;
    expect_refuses_everything(*s);
    EXPECT_STORAGE_ERROR(s->commit_batch(1));
  }
  auto s = file_store(path);
  EXPECT_EQ(s->consistent_index(), 0u);
  EXPECT_EQ(read(*s, everything()), std::vector{kv("a", 2, 2, 1, "1")});
}

}  // namespace etcdlab::lab3
