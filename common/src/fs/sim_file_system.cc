#include "etcdlab/fs/sim_file_system.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "etcdlab/errors.h"

namespace etcdlab {
namespace {

constexpr uint64_t kSectorBytes = 512;

struct PendingWrite {
  enum class Kind { kWrite, kTruncate, kPreallocate };
  Kind kind;
  uint64_t offset = 0;  // kWrite: where; kTruncate/kPreallocate: the new size
  std::string data;
};

void write_into(std::string& content, uint64_t offset, std::string_view data) {
  if (content.size() < offset + data.size()) content.resize(offset + data.size(), '\0');
  std::copy(data.begin(), data.end(), content.begin() + static_cast<std::ptrdiff_t>(offset));
}

void apply_write(std::string& content, const PendingWrite& w) {
  switch (w.kind) {
    case PendingWrite::Kind::kWrite:
      write_into(content, w.offset, w.data);
      break;
    case PendingWrite::Kind::kTruncate:
      content.resize(w.offset, '\0');
      break;
    case PendingWrite::Kind::kPreallocate:
      if (content.size() < w.offset) content.resize(w.offset, '\0');
      break;
  }
}

// Applies only a random subset of the write's 512-byte sectors (aligned by file offset).
void apply_torn(std::string& content, const PendingWrite& w, Rng& rng) {
  if (w.kind != PendingWrite::Kind::kWrite) {
    if (rng.chance(0.5)) apply_write(content, w);
    return;
  }
  uint64_t pos = w.offset;
  uint64_t end = w.offset + w.data.size();
  while (pos < end) {
    uint64_t sector_end = std::min(end, (pos / kSectorBytes + 1) * kSectorBytes);
    if (rng.chance(0.5)) {
      write_into(content, pos, std::string_view(w.data).substr(pos - w.offset, sector_end - pos));
    }
    pos = sector_end;
  }
}

CrashMode pick_mode(CrashMode mode, Rng& rng) {
  if (mode != CrashMode::kAny) return mode;
  return static_cast<CrashMode>(rng.uniform(0, 2));
}

// How many of `n` pending changes survive a crash in `mode`.
size_t kept_count(CrashMode mode, size_t n, Rng& rng) {
  if (n == 0 || mode == CrashMode::kDropUnsynced) return 0;
  if (mode == CrashMode::kTornWrite) return rng.uniform(1, n);
  return rng.uniform(0, n);
}

}  // namespace

std::string to_string(CrashMode mode) {
  switch (mode) {
    case CrashMode::kDropUnsynced:
      return "drop-unsynced";
    case CrashMode::kRandomPrefix:
      return "random-prefix";
    case CrashMode::kTornWrite:
      return "torn-write";
    case CrashMode::kAny:
      return "any";
  }
  return "?";
}

struct SimFileSystem::Inode {
  std::string durable;  // survives a crash
  std::string current;  // what reads see
  std::vector<PendingWrite> pending;
};

struct SimFileSystem::DirOp {
  enum class Kind { kLink, kUnlink, kRename };
  Kind kind;
  std::string name;  // kLink/kUnlink: the path; kRename: the source
  std::string to;    // kRename: the target
  std::shared_ptr<Inode> inode;
};

// A handle onto an inode; stale (every call throws) once the file system has crashed.
class SimFile final : public File {
 public:
  SimFile(SimFileSystem& fs, std::shared_ptr<SimFileSystem::Inode> inode, std::string path)
      : fs_(fs), inode_(std::move(inode)), path_(std::move(path)), generation_(fs.generation_) {}

  const std::string& path() const override { return path_; }
  uint64_t size() const override { return live("size").current.size(); }

  std::string read_at(uint64_t offset, uint64_t length) const override {
    const auto& content = live("read").current;
    if (offset >= content.size()) return {};
    return content.substr(offset, length);
  }

  void write_at(uint64_t offset, std::string_view data) override {
    uint64_t now = live("write").current.size();
    uint64_t end = offset + data.size();
    uint64_t growth = end > now ? end - now : 0;  // (a gap past the end is zero-filled: counted)
    uint64_t room = fs_.room_for(growth);
    bool full = room < growth;
    if (full) {
      // A short write, as pwrite gives when the disk fills: the bytes that fit, then ENOSPC.
      uint64_t limit = now + room;
      data = data.substr(0, limit > offset ? limit - offset : 0);
    }
    if (!data.empty()) {
      record({PendingWrite::Kind::kWrite, offset, std::string(data)}, "write");
      fs_.bytes_written_ += data.size();
    }
    if (full) throw IoError("pwrite", path_, "No space left on device");
  }

  void append(std::string_view data) override { write_at(size(), data); }

  void truncate(uint64_t size) override {
    uint64_t now = live("ftruncate").current.size();
    if (size > now && fs_.room_for(size - now) < size - now) {
      throw IoError("ftruncate", path_, "No space left on device");
    }
    record({PendingWrite::Kind::kTruncate, size, {}}, "truncate");
  }

  void preallocate(uint64_t size) override {
    uint64_t now = live("posix_fallocate").current.size();
    if (size <= now) return;
    if (fs_.room_for(size - now) < size - now) {  // all or nothing, as posix_fallocate
      throw IoError("posix_fallocate", path_, "No space left on device");
    }
    record({PendingWrite::Kind::kPreallocate, size, {}}, "preallocate");
  }

  void sync() override {
    auto& inode = live("fdatasync");
    fs_.syncs_++;
    if (fs_.sync_should_fail(path_)) {
      // As Linux after a writeback error: the pages are marked clean, the data is not durable,
      // and nothing will ever write it again.
      inode.pending.clear();
      throw IoError("fdatasync", path_, "Input/output error (injected)");
    }
    for (const auto& w : inode.pending) apply_write(inode.durable, w);
    inode.pending.clear();
  }

 private:
  SimFileSystem::Inode& live(const char* op) const {
    if (generation_ != fs_.generation_) throw IoError(op, path_, "stale handle after a crash");
    return *inode_;
  }
  void record(PendingWrite w, const char* op) {
    auto& inode = live(op);
    apply_write(inode.current, w);
    inode.pending.push_back(std::move(w));
  }

  SimFileSystem& fs_;
  std::shared_ptr<SimFileSystem::Inode> inode_;
  std::string path_;
  uint64_t generation_;
};

SimFileSystem::SimFileSystem() {
  dirs_.insert(".");
  dirs_.insert("/");
}
SimFileSystem::~SimFileSystem() = default;

void SimFileSystem::check_dir(const std::string& dir, const char* op,
                              const std::string& path) const {
  if (dirs_.count(dir) == 0) throw IoError(op, path, "No such file or directory (parent)");
}

std::shared_ptr<SimFileSystem::Inode> SimFileSystem::lookup(const std::string& path,
                                                            const char* op) const {
  auto it = files_.find(path);
  if (it == files_.end()) throw IoError(op, path, "No such file or directory");
  return it->second;
}

std::unique_ptr<File> SimFileSystem::create(const std::string& path) {
  std::string dir = parent_dir(path);
  check_dir(dir, "create", path);
  if (files_.count(path) != 0) throw IoError("create", path, "File exists");
  auto inode = std::make_shared<Inode>();
  files_[path] = inode;
  pending_dir_ops_[dir].push_back(
      std::make_shared<DirOp>(DirOp{DirOp::Kind::kLink, path, {}, inode}));
  return std::make_unique<SimFile>(*this, inode, path);
}

std::unique_ptr<File> SimFileSystem::open(const std::string& path) {
  return std::make_unique<SimFile>(*this, lookup(path, "open"), path);
}

bool SimFileSystem::exists(const std::string& path) const {
  return files_.count(path) != 0 || dirs_.count(path) != 0;
}

std::vector<std::string> SimFileSystem::list(const std::string& dir) const {
  check_dir(dir, "list", dir);
  std::vector<std::string> names;
  for (const auto& [path, inode] : files_) {
    if (parent_dir(path) == dir) names.push_back(path.substr(path.rfind('/') + 1));
  }
  std::sort(names.begin(), names.end());
  return names;
}

void SimFileSystem::remove(const std::string& path) {
  auto inode = lookup(path, "unlink");
  files_.erase(path);
  pending_dir_ops_[parent_dir(path)].push_back(
      std::make_shared<DirOp>(DirOp{DirOp::Kind::kUnlink, path, {}, inode}));
}

void SimFileSystem::rename(const std::string& from, const std::string& to) {
  auto inode = lookup(from, "rename");
  std::string dir = parent_dir(from);
  if (parent_dir(to) != dir) throw IoError("rename", from + " -> " + to, "across directories");
  files_.erase(from);
  files_[to] = inode;
  pending_dir_ops_[dir].push_back(
      std::make_shared<DirOp>(DirOp{DirOp::Kind::kRename, from, to, inode}));
}

void SimFileSystem::create_dirs(const std::string& dir) {
  std::string path = dir;
  while (!path.empty() && path != "." && path != "/") {
    dirs_.insert(path);
    path = parent_dir(path);
  }
}

void SimFileSystem::apply_dir_op(std::map<std::string, std::shared_ptr<Inode>>& names,
                                 const DirOp& op) {
  switch (op.kind) {
    case DirOp::Kind::kLink:
      names[op.name] = op.inode;
      break;
    case DirOp::Kind::kUnlink:
      names.erase(op.name);
      break;
    case DirOp::Kind::kRename:
      names.erase(op.name);
      names[op.to] = op.inode;
      break;
  }
}

void SimFileSystem::sync_dir(const std::string& dir) {
  check_dir(dir, "fsync directory", dir);
  syncs_++;
  if (sync_should_fail(dir)) {
    pending_dir_ops_.erase(dir);
    throw IoError("fsync directory", dir, "Input/output error (injected)");
  }
  for (const auto& op : pending_dir_ops_[dir]) {
    apply_dir_op(durable_files_, *op);
  }
  pending_dir_ops_.erase(dir);
}

void SimFileSystem::crash(uint64_t seed, CrashMode mode) {
  if (mode != CrashMode::kDropUnsynced && mode != CrashMode::kRandomPrefix &&
      mode != CrashMode::kTornWrite && mode != CrashMode::kAny) {
    throw std::invalid_argument("SimFileSystem::crash: unknown crash mode " +
                                std::to_string(static_cast<int>(mode)));
  }
  Rng rng(seed);
  for (auto& [dir, ops] : pending_dir_ops_) {
    size_t keep = kept_count(pick_mode(mode, rng), ops.size(), rng);
    for (size_t i = 0; i < keep; ++i) {
      const auto& op = ops[i];
      apply_dir_op(durable_files_, *op);
    }
  }
  pending_dir_ops_.clear();
  for (auto& [path, inode] : durable_files_) {
    CrashMode file_mode = pick_mode(mode, rng);
    size_t keep = kept_count(file_mode, inode->pending.size(), rng);
    for (size_t i = 0; i < keep; ++i) {
      if (file_mode == CrashMode::kTornWrite && i + 1 == keep) {
        apply_torn(inode->durable, inode->pending[i], rng);
      } else {
        apply_write(inode->durable, inode->pending[i]);
      }
    }
    inode->pending.clear();
    inode->current = inode->durable;
  }
  files_ = durable_files_;
  generation_++;
}

void SimFileSystem::fail_syncs(std::string path_part, int count) {
  fail_part_ = std::move(path_part);
  fail_count_ = count;
}

bool SimFileSystem::sync_should_fail(const std::string& path) {
  if (fail_count_ == 0 || path.find(fail_part_) == std::string::npos) return false;
  if (fail_count_ > 0) fail_count_--;
  return true;
}

uint64_t SimFileSystem::used_bytes() const {
  uint64_t used = 0;
  for (const auto& [path, inode] : files_) used += inode->current.size();
  return used;
}

uint64_t SimFileSystem::room_for(uint64_t wanted) const {
  if (!capacity_) return wanted;
  uint64_t used = used_bytes();
  uint64_t room = *capacity_ > used ? *capacity_ - used : 0;
  return std::min(wanted, room);
}

std::string SimFileSystem::contents(const std::string& path) const {
  return lookup(path, "read")->current;
}

void SimFileSystem::corrupt(const std::string& path, uint64_t offset, std::string_view bytes) {
  auto inode = lookup(path, "corrupt");
  write_into(inode->current, offset, bytes);
  write_into(inode->durable, offset, bytes);
}

}  // namespace etcdlab
