// A read-only SQLite VFS over a window of bytes (sqlite_window.h). SQLite asks for pages; each
// read is the caller's function, shifted by the window's start. Every write-side call fails
// and locks are no-ops: the connection is read-only and the bytes do not change under it.
#include "sqlite_window.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <mutex>

namespace etcdlab::server {

struct SqliteWindow::Source {
  ReadAt read;
  uint64_t begin = 0;
  uint64_t end = 0;
  std::string error;  // what the last failed read threw
};

namespace {

constexpr const char* kVfsName = "etcdlab-window";
constexpr const char* kNamePrefix = "etcdlab-window-";  // then the Source's address, in hex

struct WindowFile {
  sqlite3_file base;  // first: SQLite sees a sqlite3_file
  SqliteWindow::Source* source;
};

SqliteWindow::Source& source_of(sqlite3_file* f) {
  return *reinterpret_cast<WindowFile*>(f)->source;
}

int window_close(sqlite3_file*) { return SQLITE_OK; }

int window_read(sqlite3_file* f, void* buffer, int amount, sqlite3_int64 offset) {
  SqliteWindow::Source& s = source_of(f);
  auto* out = static_cast<char*>(buffer);
  auto want = static_cast<uint64_t>(amount);
  uint64_t size = s.end - s.begin;
  std::string got;
  if (offset >= 0 && static_cast<uint64_t>(offset) < size) {
    uint64_t length = std::min(want, size - static_cast<uint64_t>(offset));
    try {
      got = s.read(s.begin + static_cast<uint64_t>(offset), length);
    } catch (const std::exception& e) {
      s.error = e.what();
      return SQLITE_IOERR_READ;
    }
    if (got.size() > length) got.resize(length);
  }
  std::memcpy(out, got.data(), got.size());
  // Bytes 18 and 19 say 2 in a WAL-mode image: shown as 1 (rollback journal), see the header.
  for (sqlite3_int64 at : {18, 19}) {
    sqlite3_int64 i = at - offset;
    if (i >= 0 && i < static_cast<sqlite3_int64>(got.size()) && out[i] == 2) out[i] = 1;
  }
  if (got.size() < want) {
    std::memset(out + got.size(), 0, want - got.size());  // SQLite requires the zero fill
    return SQLITE_IOERR_SHORT_READ;
  }
  return SQLITE_OK;
}

int window_write(sqlite3_file*, const void*, int, sqlite3_int64) { return SQLITE_READONLY; }
int window_truncate(sqlite3_file*, sqlite3_int64) { return SQLITE_READONLY; }
int window_sync(sqlite3_file*, int) { return SQLITE_OK; }

int window_file_size(sqlite3_file* f, sqlite3_int64* size) {
  const SqliteWindow::Source& s = source_of(f);
  *size = static_cast<sqlite3_int64>(s.end - s.begin);
  return SQLITE_OK;
}

int window_lock(sqlite3_file*, int) { return SQLITE_OK; }
int window_check_reserved_lock(sqlite3_file*, int* out) {
  *out = 0;
  return SQLITE_OK;
}
int window_file_control(sqlite3_file*, int, void*) { return SQLITE_NOTFOUND; }
int window_sector_size(sqlite3_file*) { return 512; }
int window_device_characteristics(sqlite3_file*) { return SQLITE_IOCAP_IMMUTABLE; }

const sqlite3_io_methods* io_methods() {
  static const sqlite3_io_methods methods = [] {
    sqlite3_io_methods m{};
    m.iVersion = 1;  // no shared memory: nothing here is in WAL mode (see the header)
    m.xClose = window_close;
    m.xRead = window_read;
    m.xWrite = window_write;
    m.xTruncate = window_truncate;
    m.xSync = window_sync;
    m.xFileSize = window_file_size;
    m.xLock = window_lock;
    m.xUnlock = window_lock;
    m.xCheckReservedLock = window_check_reserved_lock;
    m.xFileControl = window_file_control;
    m.xSectorSize = window_sector_size;
    m.xDeviceCharacteristics = window_device_characteristics;
    return m;
  }();
  return &methods;
}

sqlite3_vfs* base_vfs(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }

int window_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto* file = reinterpret_cast<WindowFile*>(f);
  file->base.pMethods = nullptr;  // (SQLite calls no method of a file that failed to open)
  // Only the main database: there is no journal, WAL or temporary file to open.
  if (name == nullptr || (flags & SQLITE_OPEN_MAIN_DB) == 0) return SQLITE_CANTOPEN;
  std::string_view n(name);
  if (!n.starts_with(kNamePrefix)) return SQLITE_CANTOPEN;
  file->source = reinterpret_cast<SqliteWindow::Source*>(
      std::stoull(std::string(n.substr(std::strlen(kNamePrefix))), nullptr, 16));
  file->base.pMethods = io_methods();
  if (out_flags) *out_flags = SQLITE_OPEN_READONLY;
  return SQLITE_OK;
}

int window_delete(sqlite3_vfs*, const char*, int) { return SQLITE_IOERR_DELETE; }

int window_access(sqlite3_vfs*, const char*, int, int* out) {
  *out = 0;  // no journal, no WAL: nothing beside the window exists
  return SQLITE_OK;
}

int window_full_pathname(sqlite3_vfs*, const char* name, int size, char* out) {
  sqlite3_snprintf(size, out, "%s", name);
  return SQLITE_OK;
}

// The rest (randomness, time, sleep, dynamic libraries) is the default VFS's.
void* window_dl_open(sqlite3_vfs* v, const char* name) {
  return base_vfs(v)->xDlOpen(base_vfs(v), name);
}
void window_dl_error(sqlite3_vfs* v, int n, char* out) { base_vfs(v)->xDlError(base_vfs(v), n, out); }
void (*window_dl_sym(sqlite3_vfs* v, void* h, const char* sym))(void) {
  return base_vfs(v)->xDlSym(base_vfs(v), h, sym);
}
void window_dl_close(sqlite3_vfs* v, void* h) { base_vfs(v)->xDlClose(base_vfs(v), h); }
int window_randomness(sqlite3_vfs* v, int n, char* out) {
  return base_vfs(v)->xRandomness(base_vfs(v), n, out);
}
int window_sleep(sqlite3_vfs* v, int us) { return base_vfs(v)->xSleep(base_vfs(v), us); }
int window_current_time(sqlite3_vfs* v, double* t) {
  return base_vfs(v)->xCurrentTime(base_vfs(v), t);
}
int window_last_error(sqlite3_vfs*, int, char*) { return 0; }

// Registered once (not as the default), on first use.
void register_window_vfs() {
  static std::once_flag once;
  std::call_once(once, [] {
    static sqlite3_vfs vfs{};
    sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
    vfs.iVersion = 1;
    vfs.szOsFile = sizeof(WindowFile);
    vfs.mxPathname = 512;
    vfs.zName = kVfsName;
    vfs.pAppData = base;
    vfs.xOpen = window_open;
    vfs.xDelete = window_delete;
    vfs.xAccess = window_access;
    vfs.xFullPathname = window_full_pathname;
    vfs.xDlOpen = window_dl_open;
    vfs.xDlError = window_dl_error;
    vfs.xDlSym = window_dl_sym;
    vfs.xDlClose = window_dl_close;
    vfs.xRandomness = window_randomness;
    vfs.xSleep = window_sleep;
    vfs.xCurrentTime = window_current_time;
    vfs.xGetLastError = window_last_error;
    sqlite3_vfs_register(&vfs, /*makeDflt=*/0);
  });
}

}  // namespace

SqliteWindow::SqliteWindow(ReadAt read, uint64_t begin, uint64_t end)
    : source_(std::make_unique<Source>()) {
  source_->read = std::move(read);
  source_->begin = begin;
  source_->end = std::max(begin, end);
  register_window_vfs();
  std::string name = fmt::format("{}{:x}", kNamePrefix, reinterpret_cast<uintptr_t>(source_.get()));
  int rc = sqlite3_open_v2(name.c_str(), &db_, SQLITE_OPEN_READONLY, kVfsName);
  if (rc != SQLITE_OK) {
    open_error_ = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    return;
  }
  sqlite3_extended_result_codes(db_, 1);
  // A sort or a temporary table would open a file through this VFS, which has none to give.
  sqlite3_exec(db_, "PRAGMA temp_store = MEMORY", nullptr, nullptr, nullptr);
}

SqliteWindow::~SqliteWindow() {
  if (db_) sqlite3_close_v2(db_);  // before the source it reads goes
}

const std::string& SqliteWindow::read_error() const { return source_->error; }

}  // namespace etcdlab::server
