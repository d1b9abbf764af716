#include "etcdlab/broken.h"

#include <cstdlib>
#include <string>

namespace etcdlab::broken {

bool active(std::string_view name) {
  static const std::string chosen = [] {
    const char* v = std::getenv("ETCDLAB_BROKEN");
    return std::string(v ? v : "");
  }();
  return !chosen.empty() && chosen == name;
}

}  // namespace etcdlab::broken
