#include "trash_file_system.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "etcdlab/errors.h"

namespace etcdlab::runtime {

TrashFileSystem::~TrashFileSystem() {
  if (unlinker_) unlinker_->join();
}

void TrashFileSystem::use_trash(const std::string& dir) {
  inner_.create_dirs(dir);
  for (const auto& name : inner_.list(dir)) inner_.remove(dir + "/" + name);
  trash_ = dir;
  if (!unlinker_) unlinker_ = std::make_unique<boost::asio::thread_pool>(1);
}

void TrashFileSystem::remove(const std::string& path) {
  if (trash_.empty() || inner_.open(path)->size() < min_bytes_) {
    inner_.remove(path);
    return;
  }
  auto slash = path.find_last_of('/');
  std::string to = fmt::format("{}/{}-{}", trash_, ++serial_,
                               slash == std::string::npos ? path : path.substr(slash + 1));
  try {
    inner_.rename(path, to);
  } catch (const IoError&) {  // (another file system: EXDEV)
    inner_.remove(path);
    return;
  }
  boost::asio::post(*unlinker_, [this, to] {
    try {
      inner_.remove(to);
    } catch (const std::exception& e) {  // removed at the next start
      spdlog::warn("trash: could not remove {}: {}", to, e.what());
    }
  });
}

}  // namespace etcdlab::runtime
