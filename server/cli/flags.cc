#include "flags.h"

#include <algorithm>

#include "go_format.h"

namespace etcdlab::cli {
namespace {

// encoding/csv's Reader.Read of one record, as pflag's StringSlice reads a value.
std::optional<std::string> read_csv(std::string_view s, std::vector<std::string>& out) {
  out.clear();
  if (s.empty()) return std::nullopt;
  size_t i = 0;
  while (true) {
    std::string field;
    if (i < s.size() && s[i] == '"') {
      size_t start = i;
      ++i;
      while (true) {
        if (i >= s.size()) {
          return "parse error on line 1, column " + std::to_string(start + 1) +
                 ": extraneous or missing \" in quoted-field";
        }
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += s[i++];
      }
      if (i < s.size() && s[i] != ',' && s[i] != '\n') {
        return "parse error on line 1, column " + std::to_string(i + 1) +
               ": extraneous or missing \" in quoted-field";
      }
    } else {
      while (i < s.size() && s[i] != ',' && s[i] != '\n') {
        if (s[i] == '"') {
          return "parse error on line 1, column " + std::to_string(i + 1) +
                 ": bare \" in non-quoted-field";
        }
        field += s[i++];
      }
      if (!field.empty() && field.back() == '\r') field.pop_back();
    }
    out.push_back(std::move(field));
    if (i >= s.size() || s[i] == '\n') return std::nullopt;  // one record only
    ++i;                                                     // ','
  }
}

std::string join_default(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + v[i];
  return out + "]";
}

}  // namespace

Flag::Flag(std::string name, char shorthand, std::string usage, Target target)
    : name_(std::move(name)), shorthand_(shorthand), usage_(std::move(usage)), target_(target) {
  std::visit(
      [&](auto* p) {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, bool>) {
          default_text_ = *p ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string>) {
          default_text_ = *p;
        } else if constexpr (std::is_same_v<T, int64_t>) {
          default_text_ = std::to_string(*p);
        } else if constexpr (std::is_same_v<T, std::chrono::nanoseconds>) {
          default_text_ = go_duration(*p);
        } else {
          default_text_ = join_default(*p);
        }
      },
      target_);
}

const char* Flag::type_name() const {
  static constexpr const char* kNames[] = {"bool", "string", "int64", "duration", "stringSlice"};
  return kNames[target_.index()];
}

std::optional<std::string> Flag::set(std::string_view value) {
  std::optional<std::string> error = std::visit(
      [&](auto* p) -> std::optional<std::string> {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, bool>) {
          auto b = go_parse_bool(value);
          if (!b.value) return b.error;
          *p = *b.value;
        } else if constexpr (std::is_same_v<T, std::string>) {
          *p = std::string(value);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          auto n = go_parse_int(value, 0);
          if (!n.value) return n.error;
          *p = *n.value;
        } else if constexpr (std::is_same_v<T, std::chrono::nanoseconds>) {
          auto d = go_parse_duration(value);
          if (!d.value) return d.error;
          *p = *d.value;
        } else {
          // The first value replaces the default; later ones append (--endpoints a --endpoints b).
          std::vector<std::string> items;
          if (auto e = read_csv(value, items)) return e;
          if (!changed_) p->clear();
          p->insert(p->end(), items.begin(), items.end());
        }
        return std::nullopt;
      },
      target_);
  if (!error) changed_ = true;
  return error;
}

void FlagSet::add_bool(std::string name, bool* target, std::string usage, char shorthand) {
  flags_.push_back(std::make_unique<Flag>(std::move(name), shorthand, std::move(usage), target));
}
void FlagSet::add_string(std::string name, std::string* target, std::string usage, char shorthand) {
  flags_.push_back(std::make_unique<Flag>(std::move(name), shorthand, std::move(usage), target));
}
void FlagSet::add_int64(std::string name, int64_t* target, std::string usage) {
  flags_.push_back(std::make_unique<Flag>(std::move(name), 0, std::move(usage), target));
}
void FlagSet::add_duration(std::string name, std::chrono::nanoseconds* target, std::string usage) {
  flags_.push_back(std::make_unique<Flag>(std::move(name), 0, std::move(usage), target));
}
void FlagSet::add_string_slice(std::string name, std::vector<std::string>* target,
                               std::string usage) {
  flags_.push_back(std::make_unique<Flag>(std::move(name), 0, std::move(usage), target));
}

Flag* FlagSet::find(std::string_view name) const {
  for (const auto& f : flags_) {
    if (f->name() == name) return f.get();
  }
  return nullptr;
}

Flag* FlagSet::find_shorthand(char c) const {
  for (const auto& f : flags_) {
    if (f->shorthand() != 0 && f->shorthand() == c) return f.get();
  }
  return nullptr;
}

std::vector<Flag*> FlagSet::sorted() const {
  std::vector<Flag*> out;
  for (const auto& f : flags_) out.push_back(f.get());
  std::sort(out.begin(), out.end(), [](Flag* a, Flag* b) { return a->name() < b->name(); });
  return out;
}

namespace {

// pflag's parseArgs over one command line: each method takes the flag at argv_[i] (and its value,
// moving i past it) and returns false after recording the error.
class Parser {
 public:
  Parser(const std::vector<std::string>& argv, const std::vector<FlagSet*>& sets)
      : argv_(argv), sets_(sets) {}

  ParsedArgs run() {
    for (size_t i = 0; i < argv_.size(); ++i) {
      const std::string& s = argv_[i];
      if (s.size() < 2 || s[0] != '-') {
        out_.args.push_back(s);
      } else if (s == "--") {  // the rest are arguments
        out_.args.insert(out_.args.end(), argv_.begin() + static_cast<long>(i) + 1, argv_.end());
        break;
      } else if (!(s[1] == '-' ? long_flag(i) : short_flags(i))) {
        break;
      }
    }
    return std::move(out_);
  }

 private:
  // "--name", "--name=value", "--name value".
  bool long_flag(size_t& i) {
    const std::string& s = argv_[i];
    std::string_view name = std::string_view(s).substr(2);
    if (name[0] == '-' || name[0] == '=') return fail("bad flag syntax: " + s);
    size_t eq = name.find('=');
    std::string_view flag_name = name.substr(0, eq);
    Flag* f = find([&](FlagSet* set) { return set->find(flag_name); });
    if (!f) return fail("unknown flag: --" + std::string(flag_name));
    std::string value;
    if (eq != std::string_view::npos) {
      value = name.substr(eq + 1);
    } else if (f->is_bool()) {
      value = "true";
    } else if (i + 1 < argv_.size()) {
      value = argv_[++i];
    } else {
      return fail("flag needs an argument: " + s);
    }
    return set(f, value);
  }

  // "-w json", "-wjson", "-w=json", and several bools in one ("-hx").
  bool short_flags(size_t& i) {
    std::string_view shorts = std::string_view(argv_[i]).substr(1);
    while (!shorts.empty()) {
      char c = shorts[0];
      std::string where = go_quote_rune(static_cast<uint8_t>(c)) + " in -" + std::string(shorts);
      Flag* f = find([&](FlagSet* set) { return set->find_shorthand(c); });
      if (!f) return fail("unknown shorthand flag: " + where);
      std::string value;
      std::string_view rest = shorts.substr(1);
      if (shorts.size() > 2 && shorts[1] == '=') {
        value = shorts.substr(2);
        rest = {};
      } else if (f->is_bool()) {
        value = "true";
      } else if (shorts.size() > 1) {
        value = shorts.substr(1);
        rest = {};
      } else if (i + 1 < argv_.size()) {
        value = argv_[++i];
      } else {
        return fail("flag needs an argument: " + where);
      }
      if (!set(f, value)) return false;
      shorts = rest;
    }
    return true;
  }

  template <typename Lookup>
  Flag* find(Lookup lookup) const {
    for (FlagSet* s : sets_) {
      if (Flag* f = lookup(s)) return f;
    }
    return nullptr;
  }

  // pflag's FlagSet.set: the value's error in its frame.
  bool set(Flag* f, std::string_view value) {
    std::optional<std::string> e = f->set(value);
    if (!e) return true;
    std::string name =
        f->shorthand() ? std::string("-") + f->shorthand() + ", --" + f->name() : "--" + f->name();
    return fail("invalid argument " + go_quote(value) + " for " + go_quote(name) + " flag: " + *e);
  }

  bool fail(std::string error) {
    out_.error = std::move(error);
    return false;
  }

  const std::vector<std::string>& argv_;
  const std::vector<FlagSet*>& sets_;
  ParsedArgs out_;
};

}  // namespace

ParsedArgs parse_flags(const std::vector<std::string>& argv, const std::vector<FlagSet*>& sets) {
  return Parser(argv, sets).run();
}

}  // namespace etcdlab::cli
