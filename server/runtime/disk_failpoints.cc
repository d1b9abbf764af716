#include "disk_failpoints.h"

#include <thread>

namespace etcdlab::runtime {
namespace {

// The real file, whose syncs wait for the failpoint first.
class FailpointFile final : public File {
 public:
  FailpointFile(std::unique_ptr<File> real, const FailpointFileSystem& fs)
      : real_(std::move(real)), fs_(fs) {}
  const std::string& path() const override { return real_->path(); }
  uint64_t size() const override { return real_->size(); }
  std::string read_at(uint64_t offset, uint64_t length) const override {
    return real_->read_at(offset, length);
  }
  void write_at(uint64_t offset, std::string_view data) override { real_->write_at(offset, data); }
  void append(std::string_view data) override { real_->append(data); }
  void truncate(uint64_t size) override { real_->truncate(size); }
  void preallocate(uint64_t size) override { real_->preallocate(size); }
  void sync() override {
    fs_.wait_before_sync();
    real_->sync();
  }

 private:
  std::unique_ptr<File> real_;
  const FailpointFileSystem& fs_;
};

}  // namespace

void FailpointFileSystem::wait_before_sync() const {
  int64_t ms = delay_ms_.load();
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

std::unique_ptr<File> FailpointFileSystem::create(const std::string& path) {
  return std::make_unique<FailpointFile>(real_.create(path), *this);
}

std::unique_ptr<File> FailpointFileSystem::open(const std::string& path) {
  return std::make_unique<FailpointFile>(real_.open(path), *this);
}

void FailpointFileSystem::sync_dir(const std::string& dir) {
  wait_before_sync();
  real_.sync_dir(dir);
}

}  // namespace etcdlab::runtime
