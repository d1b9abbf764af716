// The key-range rules (types.h).
#include "etcdlab/mvcc/types.h"

namespace etcdlab::mvcc {

bool KeyRange::contains(std::string_view k) const {
  if (single()) return k == key;
  if (k < std::string_view(key)) return false;
  if (range_end == std::string_view("\0", 1)) return true;  // every key >= key
  return k < std::string_view(range_end);
}

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();  // "a\xff" -> "b": drop trailing 0xff bytes, then increment
  }
  return std::string(1, '\0');  // no upper bound: every key from the prefix on
}

}  // namespace etcdlab::mvcc
