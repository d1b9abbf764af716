#include "metrics.h"

#include "etcd_metrics.h"


#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

namespace etcdlab::runtime {

// ---- Go's float formatting --------------------------------------------------------------------

std::string format_go_float(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return "0";  // -0 too, as Go's writeFloat
  // Shortest round-trip digits, as "d.ddde+XX" (C++ and Go both pick the closest of the shortest).
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view sci(buf, end - buf);
  const size_t e = sci.find('e');
  const int exp = std::stoi(std::string(sci.substr(e + 1)));
  // Go's 'g' with the shortest precision: %e when exp < -4 || exp >= 6; the exponent has at
  // least two digits, exactly as to_chars writes it.
  if (exp < -4 || exp >= 6) return std::string(sci);
  std::string out;
  std::string digits;  // the mantissa's digits without the sign and the point
  for (char c : sci.substr(0, e)) {
    if (c == '-')
      out += '-';
    else if (c != '.')
      digits += c;
  }
  const int nd = static_cast<int>(digits.size());
  const int dp = exp + 1;  // digits before the decimal point
  if (dp <= 0) return out + "0." + std::string(-dp, '0') + digits;
  if (dp >= nd) return out + digits + std::string(dp - nd, '0');
  return out + digits.substr(0, dp) + "." + digits.substr(dp);
}

namespace {

void append_escaped(std::string& out, std::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (quote && c == '"')
      out += "\\\"";
    else
      out += c;
  }
}

bool valid_name(std::string_view s, bool allow_colon) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

[[noreturn]] void refuse(std::string_view name, std::string_view why) {
  throw std::invalid_argument("metric " + std::string(name) + ": " + std::string(why));
}

}  // namespace

// ---- metrics ----------------------------------------------------------------------------------

void Counter::add(double v) {
  if (!(v >= 0))
    throw std::invalid_argument("counter cannot decrease (add " + format_go_float(v) + ")");
  float_value_ += v;
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
  // As Go: sort.SearchFloat64s, the first bound >= v.
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  ++counts_[it - bounds_.begin()];
  ++count_;
  sum_ += v;
}

std::vector<uint64_t> Histogram::cumulative_counts() const {
  std::vector<uint64_t> out(counts_.size());
  std::partial_sum(counts_.begin(), counts_.end(), out.begin());
  return out;
}

// ---- families ---------------------------------------------------------------------------------

// A registered family: its description and how to write its series.
class FamilyBase {
 public:
  FamilyBase(const MetricSpec& spec, MetricType type)
      : name_(spec.name),
        help_(spec.help),
        type_(type),
        buckets_(spec.buckets.begin(), spec.buckets.end()) {
    for (std::string_view l : spec.labels) labels_.emplace_back(l);
    order_.resize(labels_.size());
    std::iota(order_.begin(), order_.end(), size_t{0});
    std::sort(order_.begin(), order_.end(),
              [&](size_t a, size_t b) { return labels_[a] < labels_[b]; });
  }
  virtual ~FamilyBase() = default;

  const std::string& name() const { return name_; }
  MetricType type() const { return type_; }
  const std::vector<double>& buckets() const { return buckets_; }
  virtual bool empty() const = 0;

  std::shared_ptr<void> facade;  // the Family<T> handed out for a labeled family

  // "# HELP", "# TYPE", then each series.
  void write(std::string& out) const {
    out += "# HELP " + name_ + " ";
    append_escaped(out, help_, /*quote=*/false);
    static constexpr std::string_view kTypes[] = {"counter", "gauge", "histogram"};
    out += "\n# TYPE " + name_ + " " + std::string(kTypes[static_cast<int>(type_)]) + "\n";
    write_series(out);
  }

  // The series key: label values reordered to sorted label names (the order Go writes and sorts
  // series by). Throws on a wrong count.
  template <class Range>
  std::vector<std::string> key(const Range& values) const {
    if (std::size(values) != labels_.size()) {
      refuse(name_, "expected " + std::to_string(labels_.size()) + " label values, got " +
                        std::to_string(std::size(values)));
    }
    std::vector<std::string> spec_order(std::begin(values), std::end(values));
    std::vector<std::string> out;
    for (size_t i : order_) out.push_back(std::move(spec_order[i]));
    return out;
  }

 protected:
  virtual void write_series(std::string& out) const = 0;

  // `{a="x",b="y"` (no closing brace) for a key, or "" without labels.
  std::string open_labels(const std::vector<std::string>& key) const {
    std::string out;
    for (size_t i = 0; i < key.size(); ++i) {
      out += i == 0 ? "{" : ",";
      out += labels_[order_[i]] + "=\"";
      append_escaped(out, key[i], /*quote=*/true);
      out += '"';
    }
    return out;
  }

  void write_sample(std::string& out, std::string_view suffix, const std::string& labels,
                    double v) const {
    out += name_;
    out += suffix;
    out += labels;
    if (!labels.empty()) out += '}';
    out += ' ';
    out += format_go_float(v);
    out += '\n';
  }

  void write_histogram(std::string& out, const std::string& labels, const Histogram& h) const {
    const std::vector<uint64_t> cumulative = h.cumulative_counts();
    const std::string le = labels.empty() ? "{le=\"" : labels + ",le=\"";
    for (size_t i = 0; i <= h.bounds().size(); ++i) {
      const std::string bound = i < h.bounds().size() ? format_go_float(h.bounds()[i]) : "+Inf";
      out += name_ + "_bucket" + le + bound + "\"} " +
             format_go_float(static_cast<double>(cumulative[i])) + "\n";
    }
    write_sample(out, "_sum", labels, h.sum());
    write_sample(out, "_count", labels, static_cast<double>(h.count()));
  }

 private:
  std::string name_;
  std::string help_;
  MetricType type_;
  std::vector<double> buckets_;
  std::vector<std::string> labels_;  // in the spec's order
  std::vector<size_t> order_;        // indexes into labels_, sorted by label name
};

namespace {

template <class T>
class TypedFamily final : public FamilyBase {
 public:
  using FamilyBase::FamilyBase;

  T& at(std::vector<std::string> key) {
    auto [it, inserted] = series_.try_emplace(std::move(key));
    if (inserted) {
      if constexpr (std::is_same_v<T, Histogram>) {
        it->second = std::make_unique<Histogram>(buckets());
      } else {
        it->second = std::make_unique<T>();
      }
    }
    return *it->second;
  }
  void erase(const std::vector<std::string>& key) { series_.erase(key); }
  bool empty() const override { return series_.empty(); }

 protected:
  void write_series(std::string& out) const override {
    for (const auto& [key, metric] : series_) {
      const std::string labels = open_labels(key);
      if constexpr (std::is_same_v<T, Histogram>) {
        write_histogram(out, labels, *metric);
      } else {
        write_sample(out, "", labels, metric->value());
      }
    }
  }

 private:
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_;  // sorted as Go sorts series
};

class FuncFamily final : public FamilyBase {
 public:
  FuncFamily(const MetricSpec& spec, MetricType type, std::function<double()> fn)
      : FamilyBase(spec, type), fn_(std::move(fn)) {}
  bool empty() const override { return false; }

 protected:
  void write_series(std::string& out) const override { write_sample(out, "", "", fn_()); }

 private:
  std::function<double()> fn_;
};

template <class T>
TypedFamily<T>& typed(FamilyBase* base) {
  return static_cast<TypedFamily<T>&>(*base);
}

}  // namespace

template <class T>
T& Family<T>::with(std::initializer_list<std::string_view> label_values) {
  return typed<T>(base_).at(base_->key(label_values));
}

template <class T>
T& Family<T>::with(std::span<const std::string> label_values) {
  return typed<T>(base_).at(base_->key(label_values));
}

template <class T>
void Family<T>::remove(std::initializer_list<std::string_view> label_values) {
  typed<T>(base_).erase(base_->key(label_values));
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

// ---- the registry -----------------------------------------------------------------------------

namespace {

// Go's registry keeps these apart from the names a histogram writes.
constexpr std::string_view kHistogramSuffixes[] = {"_bucket", "_sum", "_count"};

void check_spec(const MetricSpec& spec, MetricType type, bool labeled) {
  const std::string_view name = spec.name;
  if (!valid_name(name, /*allow_colon=*/true)) refuse(name, "invalid metric name");
  if (spec.type != type) refuse(name, "the spec's type does not match the registration call");
  if (labeled != !spec.labels.empty()) {
    refuse(name, labeled ? "a family needs label names" : "labeled: register it as a family");
  }
  for (size_t i = 0; i < spec.labels.size(); ++i) {
    const std::string_view l = spec.labels[i];
    if (!valid_name(l, /*allow_colon=*/false) || l.starts_with("__")) {
      refuse(name, "invalid label name \"" + std::string(l) + "\"");
    }
    if (type == MetricType::kHistogram && l == "le") refuse(name, "label \"le\" is reserved");
    if (std::find(spec.labels.begin(), spec.labels.begin() + i, l) != spec.labels.begin() + i) {
      refuse(name, "duplicate label name \"" + std::string(l) + "\"");
    }
  }
  if (type != MetricType::kHistogram && !spec.buckets.empty())
    refuse(name, "buckets on a non-histogram");
  for (size_t i = 0; i < spec.buckets.size(); ++i) {
    const double b = spec.buckets[i];
    if (std::isnan(b) || (i > 0 && !(spec.buckets[i - 1] < b))) {
      refuse(name, "histogram buckets must be strictly increasing");
    }
    if (std::isinf(b) && b > 0 && i + 1 != spec.buckets.size()) {
      refuse(name, "+Inf must be the last bucket");
    }
  }
}

}  // namespace

Registry::Registry() = default;
Registry::~Registry() = default;

FamilyBase& Registry::add(const MetricSpec& spec, MetricType type, bool labeled,
                          std::function<double()> fn) {
  check_spec(spec, type, labeled);
  const std::string name(spec.name);
  if (families_.contains(name)) refuse(name, "already registered");
  for (std::string_view suffix : kHistogramSuffixes) {
    if (type == MetricType::kHistogram && families_.contains(name + std::string(suffix))) {
      refuse(name, "collides with " + name + std::string(suffix));
    }
    if (name.ends_with(suffix)) {
      const auto it = families_.find(name.substr(0, name.size() - suffix.size()));
      if (it != families_.end() && it->second->type() == MetricType::kHistogram) {
        refuse(name, "collides with histogram " + it->first);
      }
    }
  }
  MetricSpec copy = spec;
  if (!copy.buckets.empty() && std::isinf(copy.buckets.back())) {
    copy.buckets = copy.buckets.first(copy.buckets.size() - 1);  // +Inf is implicit, as in Go
  }
  std::unique_ptr<FamilyBase> family;
  if (fn) {
    family = std::make_unique<FuncFamily>(copy, type, std::move(fn));
  } else if (type == MetricType::kCounter) {
    family = std::make_unique<TypedFamily<Counter>>(copy, type);
  } else if (type == MetricType::kGauge) {
    family = std::make_unique<TypedFamily<Gauge>>(copy, type);
  } else {
    family = std::make_unique<TypedFamily<Histogram>>(copy, type);
  }
  return *families_.emplace(name, std::move(family)).first->second;
}

template <class T>
Family<T>& Registry::add_family(const MetricSpec& spec, MetricType type) {
  FamilyBase& base = add(spec, type, /*labeled=*/true, {});
  auto facade = std::shared_ptr<Family<T>>(new Family<T>(&base));
  base.facade = facade;
  return *facade;
}

Counter& Registry::counter(const MetricSpec& spec) {
  return typed<Counter>(&add(spec, MetricType::kCounter, false, {})).at({});
}

Gauge& Registry::gauge(const MetricSpec& spec) {
  return typed<Gauge>(&add(spec, MetricType::kGauge, false, {})).at({});
}

Histogram& Registry::histogram(const MetricSpec& spec) {
  return typed<Histogram>(&add(spec, MetricType::kHistogram, false, {})).at({});
}

Family<Counter>& Registry::counter_family(const MetricSpec& spec) {
  return add_family<Counter>(spec, MetricType::kCounter);
}

Family<Gauge>& Registry::gauge_family(const MetricSpec& spec) {
  return add_family<Gauge>(spec, MetricType::kGauge);
}

Family<Histogram>& Registry::histogram_family(const MetricSpec& spec) {
  return add_family<Histogram>(spec, MetricType::kHistogram);
}

void Registry::gauge_func(const MetricSpec& spec, std::function<double()> fn) {
  if (!fn) refuse(spec.name, "no function");
  add(spec, MetricType::kGauge, false, std::move(fn));
}

void Registry::counter_func(const MetricSpec& spec, std::function<double()> fn) {
  if (!fn) refuse(spec.name, "no function");
  add(spec, MetricType::kCounter, false, std::move(fn));
}

std::string Registry::expose() const {
  std::string out;
  for (const auto& [name, family] : families_) {
    if (!family->empty()) family->write(out);
  }
  return out;
}

}  // namespace etcdlab::runtime
