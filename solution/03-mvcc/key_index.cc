// The in-memory key index (key_index.h): generations of revisions per key, reads at a
// revision, and compaction.
#include "key_index.h"

#include <algorithm>

#include "etcdlab/broken.h"

namespace etcdlab::mvcc {
namespace {

// The position of the last revision with main <= at in `revs`, or -1 if there is none.
template <typename Revs>
ptrdiff_t last_at_or_before(const Revs& revs, int64_t at) {
  auto it = std::upper_bound(revs.begin(), revs.end(), at,
                             [](int64_t a, const Revision& r) { return a < r.main; });
  return (it - revs.begin()) - 1;
}

}  // namespace

bool KeyIndex::put(Revision rev, int64_t created, int64_t version) {
  bool starts = !alive();
  if (starts) generations_.push_back(Generation{created, version, false, {}});
  Generation& g = generations_.back();
  g.revs.push_back(rev);
  g.version = version;
  return starts;
}

void KeyIndex::tombstone(Revision rev) {
  if (!alive()) {
    generations_.push_back(Generation{0, 0, true, {rev}});
    return;
  }
  Generation& g = generations_.back();
  g.revs.push_back(rev);
  g.closed = true;
}

std::optional<IndexHit> KeyIndex::get(int64_t at) const {
  // The generation to look in: the last one that had started by `at`.
  for (size_t i = generations_.size(); i-- > 0;) {
    const Generation& g = generations_[i];
    if (g.revs.front().main > at) continue;
    auto pos = static_cast<size_t>(last_at_or_before(g.revs, at));
    size_t last = g.revs.size() - 1;
    if (g.closed && pos == last) return std::nullopt;  // deleted by then
    // The versions after pos are the puts after it (the tombstone, if any, is not one).
    auto later_puts = static_cast<int64_t>(last - pos) - (g.closed ? 1 : 0);
    return IndexHit{g.revs[pos], g.created, g.version - later_puts};
  }
  return std::nullopt;
}

std::optional<IndexHit> KeyIndex::latest() const {
  if (!alive()) return std::nullopt;
  const Generation& g = generations_.back();
  return IndexHit{g.revs.back(), g.created, g.version};
}

bool KeyIndex::survives(Revision rev, int64_t at) const {
  if (rev.main > at) return true;
  if (ETCDLAB_BROKEN("compact-removes-latest-version")) return false;  // the bug: all <= at go
  for (const Generation& g : generations_) {
    if (rev < g.revs.front() || g.revs.back() < rev) continue;
    if (ETCDLAB_BROKEN("compact-keeps-lone-tombstone") && g.closed && rev == g.revs.back()) {
      return true;  // the bug: the tombstone row stays, with nothing before it
    }
    if (g.closed && g.revs.back().main <= at) return false;  // a life that ended by `at`
    return g.revs[static_cast<size_t>(last_at_or_before(g.revs, at))] == rev;
  }
  return false;  // compacted away already
}

bool KeyIndex::compact(int64_t at) {
  size_t ended = 0;
  while (ended < generations_.size() && generations_[ended].closed &&
         generations_[ended].revs.back().main <= at) {
    ++ended;
  }
  if (ETCDLAB_BROKEN("compact-keeps-lone-tombstone") && ended > 0) {
    // The bug: the tombstone of the last life that ended stays, with nothing before it.
    auto& revs = generations_[ended - 1].revs;
    revs.erase(revs.begin(), revs.end() - 1);
    --ended;
  }
  generations_.erase(generations_.begin(), generations_.begin() + static_cast<ptrdiff_t>(ended));
  if (generations_.empty()) return true;
  Generation& g = generations_.front();
  ptrdiff_t keep = last_at_or_before(g.revs, at);
  if (ETCDLAB_BROKEN("compact-removes-latest-version")) {
    g.revs.erase(g.revs.begin(), g.revs.begin() + keep + 1);  // the bug: the latest goes too
    if (g.revs.empty()) generations_.erase(generations_.begin());
    return generations_.empty();
  }
  if (keep > 0) g.revs.erase(g.revs.begin(), g.revs.begin() + keep);
  return false;
}

KeyIndex* TreeIndex::find(std::string_view key) {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : it->second;
}

const KeyIndex* TreeIndex::find(std::string_view key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : it->second;
}

KeyIndex& TreeIndex::get_or_create(std::string_view key) {
  if (KeyIndex* found = find(key)) return *found;
  auto it = keys_.emplace(key, KeyIndex{}).first;
  by_key_.emplace(std::string_view(it->first), &it->second);
  return it->second;
}

bool TreeIndex::compact_some(int64_t at, std::optional<std::string>& cursor, int64_t budget) {
  auto it = cursor ? keys_.lower_bound(*cursor) : keys_.begin();
  for (int64_t n = 0; it != keys_.end() && n < budget; ++n) {
    if (it->second.compact(at)) {
      by_key_.erase(std::string_view(it->first));
      it = keys_.erase(it);
    } else {
      ++it;
    }
  }
  if (it == keys_.end()) {
    cursor.reset();
    return true;
  }
  cursor = it->first;
  return false;
}

}  // namespace etcdlab::mvcc
