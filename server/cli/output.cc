#include "output.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

namespace etcdlab::cli {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

const std::set<std::string, std::less<>>& int_fields() {
  static const std::set<std::string, std::less<>> f = {
      "cluster_id", "member_id", "revision", "raft_term", "create_revision", "mod_revision",
      "version", "lease", "count", "deleted", "ID", "leader", "raftIndex", "raftTerm",
      "raftAppliedIndex", "dbSize", "dbSizeInUse", "compact_revision", "TTL", "grantedTTL"};
  return f;
}

}  // namespace

boost::json::value numbers_for_ints(const boost::json::value& v) {
  if (v.is_object()) {
    boost::json::object out;
    for (const auto& [k, val] : v.as_object()) {
      if (val.is_string() && int_fields().count(std::string_view(k)) &&
          all_digits(val.as_string())) {
        std::string_view s = val.as_string();
        if (s[0] == '-') {
          out[k] = std::stoll(std::string(s));
        } else {
          out[k] = std::stoull(std::string(s));
        }
      } else {
        out[k] = numbers_for_ints(val);
      }
    }
    return out;
  }
  if (v.is_array()) {
    boost::json::array out;
    for (const auto& item : v.as_array()) out.push_back(numbers_for_ints(item));
    return out;
  }
  return v;
}

std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& r : rows) width[c] = std::max(width[c], r[c].size());
  }
  std::string border = "+";
  for (size_t w : width) border += std::string(w + 2, '-') + "+";
  std::string out = border + "\n|";
  for (size_t c = 0; c < header.size(); ++c) {
    size_t pad = width[c] - header[c].size();
    out += " " + std::string(pad / 2, ' ') + header[c] + std::string(pad - pad / 2, ' ') + " |";
  }
  out += "\n" + border + "\n";
  for (const auto& r : rows) {
    out += "|";
    for (size_t c = 0; c < header.size(); ++c) {
      out += " " + std::string(width[c] - r[c].size(), ' ') + r[c] + " |";
    }
    out += "\n";
  }
  out += border + "\n";
  return out;
}

std::string human_bytes(uint64_t bytes) {
  static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  if (bytes < 10) return fmt::format("{} B", bytes);
  double e = std::floor(std::log(static_cast<double>(bytes)) / std::log(1000.0));
  double val = std::floor(static_cast<double>(bytes) / std::pow(1000.0, e) * 10 + 0.5) / 10;
  const char* unit = units[static_cast<int>(e)];
  return val < 10 ? fmt::format("{:.1f} {}", val, unit) : fmt::format("{:.0f} {}", val, unit);
}

std::string hex(uint64_t id) { return fmt::format("{:x}", id); }

}  // namespace etcdlab::cli
