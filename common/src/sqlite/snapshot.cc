// Database::snapshot and Database::restore: a consistent copy of the whole database, streamed in
// chunks, and its checked replacement (database.h).
#include <sqlite3.h>

#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "database_impl.h"
#include "etcdlab/fs/file_system.h"
#include "etcdlab/fs/posix_file_system.h"
#include "etcdlab/sqlite/database.h"

namespace etcdlab::sqlite {
namespace {

constexpr char kMagic[] = "SQLite format 3";  // the first 16 bytes of every database, NUL included
constexpr size_t kHeaderBytes = 100;

// Removes a temporary file when it goes out of scope (errors ignored: it is only a leftover).
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) { remove(); }
  ~TempFile() { remove(); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }
  void remove() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
    std::filesystem::remove(path_ + "-wal", ec);
    std::filesystem::remove(path_ + "-journal", ec);
  }

 private:
  std::string path_;
};

void check_header(const std::string& path, const unsigned char* data, size_t size) {
  if (size < kHeaderBytes || std::memcmp(data, kMagic, sizeof(kMagic)) != 0) {
    throw SchemaError(path,
                      "the snapshot is not a SQLite database (" + std::to_string(size) + " bytes)");
  }
}

struct SqliteFree {
  void operator()(unsigned char* p) const { sqlite3_free(p); }
};

}  // namespace

void Database::snapshot(const std::function<void(std::string_view chunk)>& out,
                        size_t chunk_bytes) {
  if (in_transaction()) throw std::logic_error("sqlite: snapshot inside a transaction");
  if (chunk_bytes == 0) chunk_bytes = 1 << 20;
  if (impl_->in_memory()) {
    sqlite3_int64 size = 0;
    std::unique_ptr<unsigned char, SqliteFree> data(
        sqlite3_serialize(impl_->handle(), "main", &size, 0));
    if (data == nullptr) impl_->fail(SQLITE_NOMEM, "sqlite3_serialize");
    auto bytes = static_cast<size_t>(size);
    for (size_t at = 0; at < bytes; at += chunk_bytes) {
      out(std::string_view(reinterpret_cast<const char*>(data.get()) + at,
                           std::min(chunk_bytes, bytes - at)));
    }
    return;
  }
  // VACUUM INTO writes a compact, consistent copy without blocking on the WAL; the file name is
  // a bound parameter like any other value.
  TempFile copy(impl_->path + ".snapshot.tmp");
  {
    auto q = query("VACUUM INTO ?1");
    q.bind_text(1, copy.path());
    q.run();
  }
  PosixFileSystem fs;
  auto file = fs.open(copy.path());
  for (uint64_t at = 0; at < file->size(); at += chunk_bytes) {
    out(file->read_at(at, chunk_bytes));
  }
}

void Database::restore(const std::function<std::string()>& in) {
  if (in_transaction()) throw std::logic_error("sqlite: restore inside a transaction");
  Impl& self = *impl_;
  self.handle();
  if (self.in_memory()) {
    // Gather the image in a buffer SQLite can own, then open it on a fresh connection and check
    // it there; only then does it replace the current database.
    sqlite3_int64 size = 0;
    sqlite3_int64 capacity = 0;
    unsigned char* buffer = nullptr;
    try {
      for (std::string chunk = in(); !chunk.empty(); chunk = in()) {
        auto need = size + static_cast<sqlite3_int64>(chunk.size());
        if (need > capacity) {
          capacity = std::max<sqlite3_int64>(need, 2 * capacity);
          auto* grown = static_cast<unsigned char*>(
              sqlite3_realloc64(buffer, static_cast<sqlite3_uint64>(capacity)));
          if (grown == nullptr) self.fail(SQLITE_NOMEM, "restore");
          buffer = grown;
        }
        std::memcpy(buffer + size, chunk.data(), chunk.size());
        size = need;
      }
      check_header(self.path, buffer, static_cast<size_t>(size));
    } catch (...) {
      sqlite3_free(buffer);
      throw;
    }
    // An image of a WAL-mode file says so in bytes 18-19; in memory it must say "rollback".
    if (buffer[18] == 2) buffer[18] = 1;
    if (buffer[19] == 2) buffer[19] = 1;
    auto fresh = std::make_unique<Impl>(self.path, self.options, open_connection(self.path));
    // From here SQLite owns the buffer (it frees it on close, or now if this fails).
    int rc = sqlite3_deserialize(fresh->db, "main", buffer, size, capacity,
                                 SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE);
    fresh->check(rc, "sqlite3_deserialize");
    fresh->configure(/*allow_new=*/false);
    std::swap(self.db, fresh->db);
    std::swap(self.cache, fresh->cache);
    fresh.reset();  // closes the old connection
    if (self.companion) self.companion->restored(*this);
    return;
  }

  // A file: write the snapshot next to the database, sync it, check it, then rename it over
  // the database once this connection is closed. A crash leaves the old or the new file.
  PosixFileSystem fs;
  TempFile incoming(self.path + ".restore.tmp");
  {
    auto file = fs.create(incoming.path());
    std::string head;
    for (std::string chunk = in(); !chunk.empty(); chunk = in()) {
      if (head.size() < kHeaderBytes) head += chunk.substr(0, kHeaderBytes - head.size());
      file->append(chunk);
    }
    check_header(self.path, reinterpret_cast<const unsigned char*>(head.data()), head.size());
    file->sync();
  }
  {
    Impl check(incoming.path(), self.options, open_connection(incoming.path()));
    check.configure(/*allow_new=*/false);
  }  // closing it checkpoints and removes its WAL
  self.close();
  std::error_code ec;
  std::filesystem::remove(self.path + "-wal", ec);  // a clean close already removed it
  fs.rename(incoming.path(), self.path);
  fs.sync_dir(parent_dir(self.path));
  self.db = open_connection(self.path);
  self.configure(/*allow_new=*/false);
  if (self.companion) self.companion->restored(*this);
}

namespace {

// One backup step copies every page of `source` into a new database at `path`. `synced`: the
// copy keeps a rollback journal and is synced; otherwise neither (a temporary).
void backup_to(Database::Impl& source, const std::string& path, bool synced) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  std::filesystem::remove(path + "-journal", ec);
  Database::Impl copy(path, source.options, open_connection(path));
  if (!synced) {
    // Without them the backup's commit writes a journal and syncs it and the whole file: disk
    // work no one needs for a file that is read once and removed.
    copy.query_text("PRAGMA journal_mode = OFF");
    copy.execute("PRAGMA synchronous = OFF");
  }
  sqlite3_backup* backup = sqlite3_backup_init(copy.handle(), "main", source.handle(), "main");
  if (backup == nullptr) copy.fail(sqlite3_errcode(copy.handle()), "sqlite3_backup_init");
  // One step: the source's pages in one read transaction (the pinned one, if any), so the copy
  // is consistent while the writer goes on.
  int rc = sqlite3_backup_step(backup, -1);
  int finish = sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) copy.fail(rc, "sqlite3_backup_step");
  copy.check(finish, "sqlite3_backup_finish");
  // The copy says "WAL" like its source; a snapshot file is a plain rollback-journal database.
  copy.query_text("PRAGMA journal_mode = DELETE");
  if (!synced) {
    copy.close();
    return;
  }
  copy.execute("PRAGMA synchronous = FULL");
  copy.close();
  PosixFileSystem fs;
  fs.open(path)->sync();
}

}  // namespace

void Database::copy_to(const std::string& path) {
  backup_to(*impl_, path, /*synced=*/true);
}

void Database::copy_to_unsynced(const std::string& path) {
  backup_to(*impl_, path, /*synced=*/false);
}

}  // namespace etcdlab::sqlite
