#pragma once
// Helpers shared by the lab 1 tests: building entries, describing logs in failure messages.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "etcdlab/log/log_storage.h"
#include "etcdlab/random.h"
#include "etcdlab/testing/step_trail.h"
#include "etcdlab/types.h"

namespace etcdlab::lab1 {

using testing::StepTrail;

// Entries [lo, hi) of one term; data "e<index>t<term>" unless `data` says otherwise.
inline std::vector<Entry> make_entries(uint64_t lo, uint64_t hi, uint64_t term,
                                       const std::string& data = "") {
  std::vector<Entry> out;
  for (uint64_t i = lo; i < hi; ++i) {
    out.push_back({i, term, EntryType::kNormal,
                   data.empty() ? "e" + std::to_string(i) + "t" + std::to_string(term) : data});
  }
  return out;
}

inline std::string describe(const std::vector<Entry>& entries) {
  if (entries.empty()) return "(no entries)";
  std::string out;
  for (const auto& e : entries) {
    out += "[" + std::to_string(e.index) + "/" + std::to_string(e.term) + "] ";
  }
  return out;
}

// All entries a storage holds.
inline std::vector<Entry> all_entries(const LogStorage& s) {
  if (s.last_index() < s.first_index()) return {};
  return s.entries(s.first_index(), s.last_index() + 1, ~0ULL);
}

inline std::string random_data(Rng& rng, size_t max_len) {
  size_t n = rng.uniform(0, max_len);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>('a' + rng.uniform(0, 25));
  return s;
}

}  // namespace etcdlab::lab1
