// -w table, as etcdctl's printer_table.go: the member and endpoint rows drawn by
// olekukonko/tablewriter (the 2017 version etcd 3.4 vendors) with right-aligned cells. Other
// responses are "table not supported as output format".
//
// tablewriter's rules, kept here: a header is upper-cased and centred; a column is as wide as
// its widest cell, except that a cell wider than 30 with spaces in it is wrapped into lines
// (minimum raggedness) no wider than the column is when the cell is added, or than its longest
// word.
#include <algorithm>
#include <climits>
#include <map>

#include "printer.h"

namespace etcdlab::cli {
namespace {

constexpr size_t kMaxCellWidth = 30;  // tablewriter's MAX_ROW_WIDTH

// go-runewidth's StringWidth, approximately: one column per rune, two for the East Asian wide
// and fullwidth blocks, none for combining marks.
size_t display_width(std::string_view s) {
  size_t width = 0;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<uint8_t>(s[i]);
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    char32_t r = c;
    if (n > 1 && i + n <= s.size()) {
      r = c & (0xFF >> (n + 1));
      for (size_t k = 1; k < n; ++k) r = (r << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
    }
    i += n;
    if (r >= 0x300 && r <= 0x36F) continue;
    bool wide = (r >= 0x1100 && r <= 0x115F) || (r >= 0x2E80 && r <= 0xA4CF) ||
                (r >= 0xAC00 && r <= 0xD7A3) || (r >= 0xF900 && r <= 0xFAFF) ||
                (r >= 0xFE30 && r <= 0xFE4F) || (r >= 0xFF00 && r <= 0xFF60) ||
                (r >= 0xFFE0 && r <= 0xFFE6) || (r >= 0x1F300 && r <= 0x1F64F) ||
                (r >= 0x1F900 && r <= 0x1F9FF) || (r >= 0x20000 && r <= 0x3FFFD);
    width += wide ? 2 : 1;
  }
  return width;
}

// tablewriter's WrapString: the words of `s` (split at spaces, newlines read as spaces) in
// lines of at most `limit` (raised to the longest word), breaking where the squared slack is
// least (WrapWords, penalty 1e5 for an overlong line).
std::vector<std::string> wrap(const std::string& s, size_t limit) {
  std::vector<std::string> words;
  size_t start = 0;
  while (true) {
    size_t sp = s.find_first_of(" \n", start);
    words.push_back(s.substr(start, sp == std::string::npos ? sp : sp - start));
    if (sp == std::string::npos) break;
    start = sp + 1;
  }
  for (const auto& w : words) limit = std::max(limit, display_width(w));
  size_t n = words.size();
  std::vector<std::vector<long>> length(n, std::vector<long>(n));
  for (size_t i = 0; i < n; ++i) {
    length[i][i] = static_cast<long>(display_width(words[i]));
    for (size_t j = i + 1; j < n; ++j) {
      length[i][j] = length[i][j - 1] + 1 + static_cast<long>(display_width(words[j]));
    }
  }
  const long lim = static_cast<long>(limit);
  std::vector<size_t> next(n);
  std::vector<long> cost(n, INT32_MAX);
  for (size_t i = n; i-- > 0;) {
    if (length[i][n - 1] <= lim) {
      cost[i] = 0;
      next[i] = n;
      continue;
    }
    for (size_t j = i + 1; j < n; ++j) {
      long d = lim - length[i][j - 1];
      long c = d * d + cost[j];
      if (length[i][j - 1] > lim) c += 100000;
      if (c < cost[i]) {
        cost[i] = c;
        next[i] = j;
      }
    }
  }
  std::vector<std::string> lines;
  for (size_t i = 0; i < n; i = next[i]) {
    std::string line;
    for (size_t k = i; k < next[i]; ++k) line += (k > i ? " " : "") + words[k];
    lines.push_back(line);
  }
  return lines;
}

std::string title(std::string h) {
  for (char& c : h) {
    if (c == '_' || c == '.') c = ' ';
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return h;
}

// A tablewriter.Table with SetHeader, Append per row, SetAlignment(ALIGN_RIGHT), Render.
std::string render(const Rows& t) {
  std::map<size_t, size_t> width;  // column -> width, as tablewriter's cs
  auto measure = [&](const std::string& cell, size_t col) {
    size_t w = std::min(display_width(cell), kMaxCellWidth);
    if (!width.count(col) || width[col] < w || width[col] == 0) width[col] = w;
  };
  for (size_t c = 0; c < t.header.size(); ++c) measure(t.header[c], c);
  std::vector<std::vector<std::vector<std::string>>> lines;  // row -> column -> lines
  for (const auto& row : t.rows) {
    std::vector<std::vector<std::string>> cells;
    for (size_t c = 0; c < row.size(); ++c) {
      measure(row[c], c);
      std::vector<std::string> wrapped = wrap(row[c], width[c]);
      for (const auto& l : wrapped) width[c] = std::max(width[c], display_width(l));
      cells.push_back(std::move(wrapped));
    }
    lines.push_back(std::move(cells));
  }
  std::string border = "+";
  for (const auto& [col, w] : width) border += std::string(w + 2, '-') + "+";
  border += "\n";
  std::string out = border + "|";
  for (size_t c = 0; c < t.header.size(); ++c) {
    std::string h = title(t.header[c]);
    size_t gap = width[c] > display_width(h) ? width[c] - display_width(h) : 0;
    out += " " + std::string(gap / 2, ' ') + h + std::string(gap - gap / 2, ' ') + " |";
  }
  out += "\n" + border;
  for (auto& cells : lines) {
    size_t height = 0;
    for (const auto& c : cells) height = std::max(height, c.size());
    for (size_t x = 0; x < height; ++x) {
      out += "|";
      for (size_t c = 0; c < cells.size(); ++c) {
        std::string s = x < cells[c].size() ? cells[c][x] : "  ";
        size_t w = display_width(s);
        out += " " + std::string(width[c] > w ? width[c] - w : 0, ' ') + s + " |";
      }
      out += "\n";
    }
  }
  return out + border;
}

class TablePrinter : public Printer {
 public:
  TablePrinter(std::ostream& out, std::ostream& err) : Printer(out, err) {}
  std::string format() const override { return "table"; }

  void member_list(const MemberListResponse& r) override { out_ << render(member_list_rows(r)); }
  void db_status(const SnapshotStatus& s) override { out_ << render(db_status_rows(s)); }
  void endpoint_status(const std::vector<EndpointStatus>& statuses) override {
    out_ << render(endpoint_status_rows(statuses));
  }
  void endpoint_health(const std::vector<EndpointHealth>& results) override {
    out_ << render(endpoint_health_rows(results));
  }
};

}  // namespace

std::unique_ptr<Printer> make_table_printer(std::ostream& out, std::ostream& err) {
  return std::make_unique<TablePrinter>(out, err);
}

}  // namespace etcdlab::cli
