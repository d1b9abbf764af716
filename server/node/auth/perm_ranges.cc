#include "perm_ranges.h"

#include <algorithm>

namespace etcdlab::server::auth {
namespace {

using Interval = KeyIntervals::Interval;

// [key, range_end) with etcd's conventions: one key is [key, key + "\0"); "\0" is open-ended.
Interval interval_of(std::string_view key, std::string_view range_end) {
  if (range_end.empty()) return {std::string(key), std::string(key) + '\0'};
  if (range_end == std::string_view("\0", 1)) return {std::string(key), std::nullopt};
  return {std::string(key), std::string(range_end)};
}

bool is_empty(const Interval& i) { return i.end && *i.end <= i.begin; }

// a's end is at or after b's begin (they touch or overlap), with nullopt as infinity.
bool reaches(const std::optional<std::string>& end, const std::string& begin) {
  return !end || *end >= begin;
}

bool end_less(const std::optional<std::string>& a, const std::optional<std::string>& b) {
  if (!a) return false;
  if (!b) return true;
  return *a < *b;
}

}  // namespace

void KeyIntervals::add(std::string_view key, std::string_view range_end) {
  Interval add = interval_of(key, range_end);
  if (is_empty(add)) return;
  // Insert in begin order, then merge every interval that touches its successor.
  auto at = std::lower_bound(intervals_.begin(), intervals_.end(), add,
                             [](const Interval& a, const Interval& b) { return a.begin < b.begin; });
  intervals_.insert(at, std::move(add));
  std::vector<Interval> merged;
  for (Interval& i : intervals_) {
    if (!merged.empty() && reaches(merged.back().end, i.begin)) {
      if (end_less(merged.back().end, i.end)) merged.back().end = std::move(i.end);
    } else {
      merged.push_back(std::move(i));
    }
  }
  intervals_ = std::move(merged);
}

bool KeyIntervals::contains(std::string_view key, std::string_view range_end) const {
  Interval want = interval_of(key, range_end);
  if (is_empty(want)) return false;  // (etcd refuses such ranges before asking)
  // The last interval that begins at or before the wanted begin must cover it all: the set
  // is merged, so no two intervals touch.
  auto after = std::upper_bound(intervals_.begin(), intervals_.end(), want.begin,
                                [](const std::string& k, const Interval& i) { return k < i.begin; });
  if (after == intervals_.begin()) return false;
  const Interval& i = *std::prev(after);
  if (i.end && *i.end <= want.begin) return false;
  return !end_less(i.end, want.end);
}

}  // namespace etcdlab::server::auth
