#pragma once
// A process that dies between any two writes of SQLite, for tests of what a crash can leave.
//
// install_kill_vfs(n) registers, as the default SQLite VFS of the calling process, a VFS that
// passes every call to the real one and sends the process SIGKILL right after its n-th write to
// a WAL file. A store opened after it (in a forked child) runs until that write and dies there:
// what it wrote is in the files (the kernel keeps it), nothing after it happened. A test forks
// once per n = 1, 2, ... (run_killed_after, below) and reopens the store in the parent each time.

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>

namespace etcdlab::lab3::kill_vfs {

inline sqlite3_vfs* real = nullptr;
inline sqlite3_vfs vfs;
inline int writes_left = 0;

struct File {
  sqlite3_file base;  // first: SQLite sees a File as a sqlite3_file
  sqlite3_file* inner;
  bool wal;
};

inline sqlite3_file* in(sqlite3_file* f) {
  return reinterpret_cast<File*>(f)->inner;
}

inline int close(sqlite3_file* f) {
  return in(f)->pMethods->xClose(in(f));
}
inline int read(sqlite3_file* f, void* buf, int n, sqlite3_int64 at) {
  return in(f)->pMethods->xRead(in(f), buf, n, at);
}
inline int write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 at) {
  int rc = in(f)->pMethods->xWrite(in(f), buf, n, at);
  if (reinterpret_cast<File*>(f)->wal && --writes_left == 0) ::raise(SIGKILL);
  return rc;
}
inline int truncate(sqlite3_file* f, sqlite3_int64 size) {
  return in(f)->pMethods->xTruncate(in(f), size);
}
inline int sync(sqlite3_file* f, int flags) {
  return in(f)->pMethods->xSync(in(f), flags);
}
inline int file_size(sqlite3_file* f, sqlite3_int64* size) {
  return in(f)->pMethods->xFileSize(in(f), size);
}
inline int lock(sqlite3_file* f, int level) {
  return in(f)->pMethods->xLock(in(f), level);
}
inline int unlock(sqlite3_file* f, int level) {
  return in(f)->pMethods->xUnlock(in(f), level);
}
inline int reserved(sqlite3_file* f, int* out) {
  return in(f)->pMethods->xCheckReservedLock(in(f), out);
}
inline int control(sqlite3_file* f, int op, void* arg) {
  return in(f)->pMethods->xFileControl(in(f), op, arg);
}
inline int sector_size(sqlite3_file* f) {
  return in(f)->pMethods->xSectorSize(in(f));
}
inline int device(sqlite3_file* f) {
  return in(f)->pMethods->xDeviceCharacteristics(in(f));
}
inline int shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return in(f)->pMethods->xShmMap(in(f), region, size, extend, out);
}
inline int shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return in(f)->pMethods->xShmLock(in(f), offset, n, flags);
}
inline void shm_barrier(sqlite3_file* f) {
  in(f)->pMethods->xShmBarrier(in(f));
}
inline int shm_unmap(sqlite3_file* f, int remove) {
  return in(f)->pMethods->xShmUnmap(in(f), remove);
}
inline int fetch(sqlite3_file* f, sqlite3_int64 at, int n, void** out) {
  return in(f)->pMethods->xFetch(in(f), at, n, out);
}
inline int unfetch(sqlite3_file* f, sqlite3_int64 at, void* p) {
  return in(f)->pMethods->xUnfetch(in(f), at, p);
}

inline const sqlite3_io_methods methods = {3,           close,       read,   write,   truncate,
                                           sync,        file_size,   lock,   unlock,  reserved,
                                           control,     sector_size, device, shm_map, shm_lock,
                                           shm_barrier, shm_unmap,   fetch,  unfetch};

inline int open(sqlite3_vfs*, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  auto* file = reinterpret_cast<File*>(f);
  file->inner = reinterpret_cast<sqlite3_file*>(file + 1);
  file->wal = (flags & SQLITE_OPEN_WAL) != 0;
  int rc = real->xOpen(real, name, file->inner, flags, out_flags);
  file->base.pMethods = rc == SQLITE_OK && file->inner->pMethods != nullptr ? &methods : nullptr;
  return rc;
}

// Dies right after the n-th write to a WAL file (n >= 1). Call it in a child process, before
// the store is opened.
inline void install(int n) {
  real = sqlite3_vfs_find(nullptr);
  vfs = *real;
  vfs.zName = "etcdlab-kill";
  vfs.szOsFile = static_cast<int>(sizeof(File)) + real->szOsFile;
  vfs.xOpen = open;
  vfs.pNext = nullptr;
  writes_left = n;
  sqlite3_vfs_register(&vfs, 1);
}

// How a child of run_killed_after ended.
enum class Outcome {
  kFinished,  // `work` got through: it made fewer than n writes to a WAL
  kKilled,    // killed right after its n-th
  kFailed,    // anything else (`work` threw, or the fork failed): `status` says what
};

// Runs `work` (which opens the store) in a forked child that dies right after its n-th write
// to a WAL, and waits for it. `status` gets waitpid's status (-1 if the fork failed).
inline Outcome run_killed_after(int n, const std::function<void()>& work, int& status) {
  status = -1;
  pid_t child = ::fork();
  if (child < 0) return Outcome::kFailed;
  if (child == 0) {
    install(n);
    try {
      work();
    } catch (...) {
      ::_exit(2);
    }
    ::_exit(0);
  }
  if (::waitpid(child, &status, 0) != child) return Outcome::kFailed;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Outcome::kFinished;
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) return Outcome::kKilled;
  return Outcome::kFailed;
}

}  // namespace etcdlab::lab3::kill_vfs
