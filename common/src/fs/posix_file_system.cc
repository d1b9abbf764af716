#include "etcdlab/fs/posix_file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "etcdlab/errors.h"

namespace etcdlab {
namespace {

[[noreturn]] void fail(const char* op, const std::string& path, int err = errno) {
  throw IoError(op, path, std::strerror(err));
}

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail("fstat", path_);
    size_ = static_cast<uint64_t>(st.st_size);
  }
  ~PosixFile() override { ::close(fd_); }
  PosixFile(const PosixFile&) = delete;
  PosixFile& operator=(const PosixFile&) = delete;

  const std::string& path() const override { return path_; }
  uint64_t size() const override { return size_; }

  std::string read_at(uint64_t offset, uint64_t length) const override {
    std::string out;
    if (offset >= size_) return out;
    length = std::min(length, size_ - offset);
    out.resize(length);
    uint64_t done = 0;
    while (done < length) {
      ssize_t n = ::pread(fd_, out.data() + done, length - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("pread", path_);
      if (n == 0) break;
      done += static_cast<uint64_t>(n);
    }
    out.resize(done);
    return out;
  }

  void write_at(uint64_t offset, std::string_view data) override {
    uint64_t done = 0;
    while (done < data.size()) {
      ssize_t n =
          ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("pwrite", path_);
      done += static_cast<uint64_t>(n);
    }
    size_ = std::max(size_, offset + data.size());
  }

  void append(std::string_view data) override { write_at(size_, data); }

  void truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) fail("ftruncate", path_);
    size_ = size;
  }

  void preallocate(uint64_t size) override {
    if (size <= size_) return;
    int err = ::posix_fallocate(fd_, 0, static_cast<off_t>(size));
    if (err == EOPNOTSUPP || err == EINVAL) {
      // File systems without fallocate: extend by truncation (sparse, but zero and correct).
      truncate(size);
      return;
    }
    if (err != 0) fail("posix_fallocate", path_, err);
    size_ = size;
  }

  void sync() override {
    if (::fdatasync(fd_) != 0) fail("fdatasync", path_);
  }

 private:
  int fd_;
  std::string path_;
  uint64_t size_ = 0;
};

int open_fd(const std::string& path, int flags, const char* op) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) fail(op, path);
  return fd;
}

}  // namespace

std::unique_ptr<File> PosixFileSystem::create(const std::string& path) {
  int fd = open_fd(path, O_RDWR | O_CREAT | O_EXCL, "create");
  return std::make_unique<PosixFile>(fd, path);
}

std::unique_ptr<File> PosixFileSystem::open(const std::string& path) {
  int fd = open_fd(path, O_RDWR, "open");
  return std::make_unique<PosixFile>(fd, path);
}

bool PosixFileSystem::exists(const std::string& path) const {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::vector<std::string> PosixFileSystem::list(const std::string& dir) const {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) fail("opendir", dir);
  while (dirent* ent = ::readdir(d)) {
    std::string name = ent->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::stat(join_path(dir, name).c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      names.push_back(std::move(name));
    }
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

void PosixFileSystem::remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0) fail("unlink", path);
}

void PosixFileSystem::rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) fail("rename", from + " -> " + to);
}

void PosixFileSystem::create_dirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError("mkdir", dir, ec.message());
}

void PosixFileSystem::sync_dir(const std::string& dir) {
  int fd = open_fd(dir, O_RDONLY | O_DIRECTORY, "open directory");
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) fail("fsync directory", dir, err);
}

DirectoryLock::DirectoryLock(const std::string& path) {
  fd_ = open_fd(path, O_RDWR | O_CREAT, "open lock file");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK) {
      throw IoError("lock", path,
                    "held by another process (is another member using this data dir?)");
    }
    fail("flock", path, err);
  }
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace etcdlab
