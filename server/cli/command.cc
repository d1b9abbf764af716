#include "command.h"

#include <algorithm>
#include <cctype>
#include <iostream>

#include "go_format.h"

namespace etcdlab::cli {
namespace {

// ---- text/tabwriter, as etcdctl's help writes through it: NewWriter(out, 0, 8, 1, '\t', 0).
// Cells end at a tab; a column block is a run of lines that have a cell in that column; each
// cell is padded with tabs to the block's widest cell plus one, rounded up to a tab stop.

constexpr size_t kTabWidth = 8;

struct TabCell {
  std::string text;
  size_t width;  // in runes
};
using TabLine = std::vector<TabCell>;  // the last cell is the line's unterminated rest

size_t rune_count(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<uint8_t>(c) & 0xC0) != 0x80; }));
}

class TabWriter {
 public:
  explicit TabWriter(std::string_view text) {
    size_t start = 0;
    while (true) {
      size_t nl = text.find('\n', start);
      std::string_view line = text.substr(start, nl == std::string_view::npos ? nl : nl - start);
      TabLine cells;
      size_t from = 0;
      while (true) {
        size_t tab = line.find('\t', from);
        std::string_view cell = line.substr(from, tab == std::string_view::npos ? tab : tab - from);
        cells.push_back({std::string(cell), rune_count(cell)});
        if (tab == std::string_view::npos) break;
        from = tab + 1;
      }
      lines_.push_back(std::move(cells));
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
  }

  std::string str() {
    format(0, lines_.size());
    return out_;
  }

 private:
  // text/tabwriter's format: find the blocks of lines that have a cell in the next column, fix
  // that column's width for each block, and recurse into the columns to its right.
  void format(size_t line0, size_t line1) {
    size_t column = widths_.size();
    size_t i = line0;
    while (i < line1) {
      if (column + 1 >= lines_[i].size()) {
        ++i;
        continue;
      }
      write_lines(line0, i);
      size_t begin = i, width = 0;
      for (; i < line1 && column + 1 < lines_[i].size(); ++i) {
        width = std::max(width, lines_[i][column].width + 1);
      }
      widths_.push_back(width);
      format(begin, i);
      widths_.pop_back();
      line0 = i;
    }
    write_lines(line0, line1);
  }

  void write_lines(size_t line0, size_t line1) {
    for (size_t i = line0; i < line1; ++i) {
      const TabLine& line = lines_[i];
      for (size_t j = 0; j < line.size(); ++j) {
        out_ += line[j].text;
        if (j < widths_.size()) {
          size_t cellw = (widths_[j] + kTabWidth - 1) / kTabWidth * kTabWidth;
          size_t n = cellw - line[j].width;
          out_.append((n + kTabWidth - 1) / kTabWidth, '\t');
        }
      }
      if (i + 1 < lines_.size()) out_ += '\n';
    }
  }

  std::vector<TabLine> lines_;
  std::vector<size_t> widths_;
  std::string out_;
};

// etcdctl's flag lines: "  -w, --write-out=\"simple\"\tset the output format ...".
std::string flag_lines(const std::vector<Flag*>& flags) {
  std::string out;
  for (const Flag* f : flags) {
    out += f->shorthand() ? std::string("  -") + f->shorthand() + ", --" + f->name()
                          : "      --" + f->name();
    if (f->is_bool()) {
      out += "[=" + f->default_text() + "]";
    } else if (f->is_string()) {
      out += "=" + go_quote(f->default_text());
    } else {
      out += "=" + f->default_text();
    }
    out += "\t" + f->usage() + "\n";
  }
  return out;
}

// pflag's FlagUsages (cobra's default usage prints it): "  -h, --help", or "      --name",
// then the value's type name, the usage aligned one column past the longest such start, and
// the default when it is not the type's zero value. Without a trailing newline (cobra trims).
std::string pflag_usages(const std::vector<Flag*>& flags) {
  std::vector<std::pair<std::string, std::string>> lines;
  size_t longest = 0;
  for (const Flag* f : flags) {
    std::string start = f->shorthand() ? std::string("  -") + f->shorthand() + ", --" + f->name()
                                       : "      --" + f->name();
    std::string type = f->type_name();
    const std::string& def = f->default_text();
    bool zero =
        type == "string" ? def.empty() : def == "false" || def == "0" || def == "0s" || def == "[]";
    if (type == "bool") {
      type.clear();
    } else if (type == "int64") {
      type = "int";
    } else if (type == "stringSlice") {
      type = "strings";
    }
    if (!type.empty()) start += " " + type;
    longest = std::max(longest, start.size() + 1);
    std::string usage = f->usage();
    if (!zero) usage += " (default " + (f->is_string() ? go_quote(def) : def) + ")";
    lines.emplace_back(std::move(start), std::move(usage));
  }
  std::string out;
  for (const auto& [start, usage] : lines) {
    if (!out.empty()) out += "\n";
    out += start + " " + std::string(longest - start.size(), ' ') + " " + usage;
  }
  return out;
}

std::vector<Flag*> sorted(std::vector<Flag*> flags) {
  std::sort(flags.begin(), flags.end(), [](Flag* a, Flag* b) { return a->name() < b->name(); });
  return flags;
}

// The Levenshtein distance, ignoring case, as cobra's suggestions measure it.
size_t distance(std::string a, std::string b) {
  for (char& c : a) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : b) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

Command::Command(std::string use, std::string summary, std::string description, Run run)
    : use_(std::move(use)),
      summary_(std::move(summary)),
      description_(std::move(description)),
      run_(std::move(run)) {
  flags_.add_bool("help", &help_, "help for " + name(), 'h');
}

Command& Command::add(std::string use, std::string summary, std::string description, Run run) {
  children_.push_back(std::make_unique<Command>(std::move(use), std::move(summary),
                                                std::move(description), std::move(run)));
  children_.back()->parent_ = this;
  return *children_.back();
}

std::string Command::name() const {
  return use_.substr(0, use_.find(' '));
}

std::string Command::path() const {
  return parent_ ? parent_->path() + " " + name() : name();
}

Command& Command::root() {
  return parent_ ? parent_->root() : *this;
}

std::vector<Flag*> Command::inherited_flags() const {
  std::vector<Flag*> out;
  for (const Command* c = parent_; c; c = c->parent_) {
    for (Flag* f : c->persistent_.sorted()) out.push_back(f);
  }
  return sorted(out);
}

std::vector<FlagSet*> Command::flag_sets() {
  std::vector<FlagSet*> sets{&flags_, &persistent_};
  for (Command* c = parent_; c; c = c->parent_) sets.push_back(&c->persistent_);
  return sets;
}

std::string Command::use_line() const {
  std::string line = parent_ ? parent_->path() + " " + use_ : use_;
  if (line.find("[flags]") == std::string::npos) line += " [flags]";
  return line;
}

std::string Command::usage() const {
  std::string display = parent_ ? path().substr(path().find(' ') + 1) : name();
  std::string text =
      "NAME:\n\t" + display + " - " + summary_ + "\n\nUSAGE:\n\t" + use_line() + "\n\n";
  if (!parent_) text += "VERSION:\n\t0.1.0\n\n";
  if (!children_.empty()) {
    text += "API VERSION:\n\t3.4\n\n\nCOMMANDS:\n";
    append_commands(text, "");
    text += "\n";
  }
  if (!description_.empty()) {
    text += "DESCRIPTION:\n";
    std::string_view d = description_;
    while (!d.empty() && d.front() == '\n') d.remove_prefix(1);
    while (!d.empty() && d.back() == '\n') d.remove_suffix(1);
    size_t start = 0;
    while (true) {
      size_t nl = d.find('\n', start);
      text += "\t" + std::string(d.substr(start, nl == std::string_view::npos ? nl : nl - start)) +
              "\n";
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
    text += "\n";
  }
  std::vector<Flag*> local = flags_.sorted();
  for (Flag* f : persistent_.sorted()) local.push_back(f);
  text += "OPTIONS:\n" + flag_lines(sorted(local)) + "\n";
  if (parent_) text += "GLOBAL OPTIONS:\n" + flag_lines(inherited_flags()) + "\n";
  return TabWriter(text).str();
}

void Command::append_commands(std::string& text, const std::string& prefix) const {
  std::vector<const Command*> kids;
  for (const auto& k : children_) kids.push_back(k.get());
  std::sort(kids.begin(), kids.end(),
            [](const Command* a, const Command* b) { return a->name() < b->name(); });
  for (const Command* k : kids) {
    std::string name = prefix.empty() ? k->name() : prefix + " " + k->name();
    if (k->runnable()) text += "\t" + name + "\t" + k->summary_ + "\n";
    k->append_commands(text, name);
  }
}

std::vector<std::string> Command::suggestions_for(const std::string& typed) const {
  std::vector<std::string> out;
  std::string lower_typed = typed;
  for (char& c : lower_typed) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& c : children_) {
    std::string lower_name = c->name();
    for (char& ch : lower_name)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (distance(typed, c->name()) <= 2 || lower_name.rfind(lower_typed, 0) == 0) {
      out.push_back(c->name());
    }
  }
  return out;
}

std::vector<std::string> Command::words(const std::vector<std::string>& args) {
  std::vector<FlagSet*> sets = flag_sets();
  auto takes_value = [&](std::string_view name, bool shorthand) {
    for (FlagSet* s : sets) {
      if (Flag* f = shorthand ? s->find_shorthand(name[0]) : s->find(name)) return !f->is_bool();
    }
    return true;  // unknown: cobra assumes a value follows
  };
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& s = args[i];
    if (s == "--") break;
    bool has_eq = s.find('=') != std::string::npos;
    bool long_with_value = s.rfind("--", 0) == 0 && !has_eq && takes_value(s.substr(2), false);
    bool short_with_value =
        s.size() == 2 && s[0] == '-' && !has_eq && takes_value(s.substr(1), true);
    if (long_with_value || short_with_value) {
      if (args.size() - i - 1 <= 1) break;  // as cobra: a flag near the end ends the scan
      ++i;
      continue;
    }
    if (!s.empty() && s[0] != '-') out.push_back(s);
  }
  return out;
}

Command* Command::find(std::vector<std::string>& args) {
  Command* cmd = this;
  while (true) {
    std::vector<std::string> w = cmd->words(args);
    if (w.empty()) return cmd;
    Command* next = nullptr;
    for (const auto& c : cmd->children_) {
      if (c->name() == w[0]) next = c.get();
    }
    if (!next) return cmd;
    args.erase(std::find(args.begin(), args.end(), w[0]));
    cmd = next;
  }
}

Command::Resolved Command::resolve(const std::vector<std::string>& argv) {
  Resolved r;
  r.args = argv;
  r.command = find(r.args);
  if (r.command == this && !children_.empty()) {
    if (std::vector<std::string> w = words(r.args); !w.empty()) {
      r.unknown_command = "unknown command " + go_quote(w[0]) + " for " + go_quote(path());
      std::vector<std::string> s = suggestions_for(w[0]);
      if (!s.empty()) {
        r.unknown_command += "\n\nDid you mean this?\n";
        for (const auto& n : s) r.unknown_command += "\t" + n + "\n";
      }
      return r;
    }
  }
  ParsedArgs parsed = parse_flags(r.args, r.command->flag_sets());
  r.args = std::move(parsed.args);
  r.flag_error = std::move(parsed.error);
  r.help = !r.flag_error && (r.command->help_ || !r.command->runnable());
  return r;
}

int Command::execute(const std::vector<std::string>& argv) {
  Resolved r = resolve(argv);
  if (!r.unknown_command.empty()) {
    // cobra's report, then etcdctl's main's.
    std::cerr << "Error: " << r.unknown_command << "\nRun '" << path() << " --help' for usage.\n";
    std::cerr << "Error: " << r.unknown_command << "\n";
    return 1;
  }
  if (r.flag_error) {
    // cobra prints the error and the usage (etcdctl's usage goes to stdout, leaving cobra an
    // empty line), then etcdctl's main prints the error again.
    std::cerr << "Error: " << *r.flag_error << "\n";
    std::cout << r.command->usage() << std::flush;
    std::cerr << "\nError: " << *r.flag_error << "\n";
    return 1;
  }
  if (r.help) {
    std::cout << r.command->usage();
    return 0;
  }
  r.command->run(r.args);
  return 0;
}

std::string Command::cobra_usage() const {
  std::vector<Flag*> local = flags_.sorted();
  for (Flag* f : persistent_.sorted()) local.push_back(f);
  return "Usage:\n  " + use_line() + "\n\nFlags:\n" + pflag_usages(sorted(local)) + "\n";
}

std::string Command::cobra_help() const {
  std::string_view text = description_.empty() ? summary_ : description_;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return std::string(text) + "\n\n" + cobra_usage();
}

}  // namespace etcdlab::cli
