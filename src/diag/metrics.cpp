// gocxx::metrics: the metric types, the registry and the text exposition format 0.0.4
// (gocxx/metrics.hpp). The runtime's own metrics are in metrics_runtime.cpp.
//
// The model follows client_golang: a registry owns descriptions (name, help, type, label
// names); gathering produces MetricFamily values, normalized as client_golang normalizes them
// (label pairs sorted by name, samples by label values, families by name), which the writer
// turns into text exactly as expfmt.MetricFamilyToText does.
#include "diag/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <ostream>
#include <set>
#include <shared_mutex>
#include <span>
#include <stdexcept>

#include "gocxx/defer.hpp"

namespace gocxx::metrics {

using detail::Desc;

// ---- names -----------------------------------------------------------------------------------

namespace impl {

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int extra;
    unsigned min;
    if ((c & 0xe0) == 0xc0) {
      extra = 1, min = 0x80, c &= 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2, min = 0x800, c &= 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3, min = 0x10000, c &= 0x07;
    } else {
      return false;
    }
    if (end - p <= extra) return false;
    for (int i = 1; i <= extra; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      c = (c << 6) | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return false;
    p += extra + 1;
  }
  return true;
}

}  // namespace impl

namespace {

[[noreturn]] void invalid(const std::string& what) {
  throw std::invalid_argument("gocxx::metrics: " + what);
}

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

const char* type_name(MetricType t) {
  switch (t) {
    case MetricType::counter: return "counter";
    case MetricType::gauge: return "gauge";
    case MetricType::histogram: return "histogram";
    case MetricType::untyped: return "untyped";
  }
  return "untyped";
}

// Checks everything about a new metric but its uniqueness.
std::unique_ptr<Desc> make_desc(std::string_view name, std::string_view help, MetricType type,
                                std::vector<std::string> label_names = {},
                                std::vector<double> buckets = {}) {
  if (!impl::valid_metric_name(name)) {
    invalid("invalid metric name " + quote(name) + ": want [a-zA-Z_:][a-zA-Z0-9_:]*");
  }
  if (help.empty()) invalid("metric " + quote(name) + ": help must not be empty");
  if (!impl::valid_utf8(help)) invalid("metric " + quote(name) + ": help is not valid UTF-8");
  std::set<std::string_view> seen;
  for (const std::string& l : label_names) {
    if (!impl::valid_label_name(l)) {
      invalid("metric " + quote(name) + ": invalid label name " + quote(l) +
              ": want [a-zA-Z_][a-zA-Z0-9_]*");
    }
    if (l.starts_with("__")) {
      invalid("metric " + quote(name) + ": label name " + quote(l) +
              " is reserved (names starting with \"__\" are Prometheus's own)");
    }
    if (type == MetricType::histogram && l == "le") {
      invalid("metric " + quote(name) + ": a histogram cannot have a label \"le\" (its buckets')");
    }
    if (!seen.insert(l).second) invalid("metric " + quote(name) + ": duplicate label name " + quote(l));
  }
  if (type == MetricType::histogram) {
    if (!buckets.empty() && std::isinf(buckets.back()) && buckets.back() > 0) buckets.pop_back();
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      if (!std::isfinite(buckets[i])) {
        invalid("histogram " + quote(name) + ": bucket bounds must be finite numbers (+Inf is implicit)");
      }
      if (i > 0 && !(buckets[i - 1] < buckets[i])) {
        invalid("histogram " + quote(name) + ": bucket bounds must be in increasing order");
      }
    }
  }
  auto d = std::make_unique<Desc>();
  d->name = name;
  d->help = help;
  d->type = type;
  d->label_names = std::move(label_names);
  d->buckets = std::move(buckets);
  return d;
}

// The names a family occupies in the exposition.
std::vector<std::string> exposed_names(const std::string& name, MetricType type) {
  if (type == MetricType::histogram) {
    return {name, name + "_bucket", name + "_sum", name + "_count"};
  }
  return {name};
}

}  // namespace

// ---- Counter, Gauge, Histogram ---------------------------------------------------------------

void Counter::add_slow(double v) {
  if (!(v >= 0)) {
    std::string what = "counter cannot decrease in value";
    if (std::isnan(v)) what = "counter cannot be added NaN";
    gocxx::panic("gocxx::metrics: " + what + " (" + (desc_ ? desc_->name : "counter") +
                 ".add(" + format_value(v) + "))");
  }
  floats_.fetch_add(v, std::memory_order_relaxed);
}

double Counter::value() const {
  return static_cast<double>(ints_.load(std::memory_order_relaxed)) +
         floats_.load(std::memory_order_relaxed);
}

void Gauge::set_to_current_time() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  set(std::chrono::duration<double>(now).count());
}

Histogram::Histogram(const Desc* desc)
    : bounds_(desc->buckets),
      counts_(new std::atomic<std::uint64_t>[desc->buckets.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double v) {
  // The first bucket whose bound is >= v (client_golang's SearchFloat64s); NaN goes to +Inf.
  std::size_t i = std::isnan(v) ? bounds_.size()
                                : static_cast<std::size_t>(
                                      std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                      bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Sample Histogram::snapshot() const {
  Sample s;
  s.buckets.reserve(bounds_.size() + 1);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    s.buckets.push_back({i < bounds_.size() ? bounds_[i] : std::numeric_limits<double>::infinity(),
                         cumulative});
  }
  s.count = cumulative;  // so that _count always equals the +Inf bucket
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> default_buckets() { return {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}; }

std::vector<double> linear_buckets(double start, double width, int count) {
  if (count < 1) invalid("linear_buckets needs a positive count");
  std::vector<double> b;
  for (int i = 0; i < count; ++i) b.push_back(start + width * i);
  return b;
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  if (count < 1) invalid("exponential_buckets needs a positive count");
  if (!(start > 0)) invalid("exponential_buckets needs a positive start");
  if (!(factor > 1)) invalid("exponential_buckets needs a factor greater than 1");
  std::vector<double> b;
  double v = start;
  for (int i = 0; i < count; ++i, v *= factor) b.push_back(v);
  return b;
}

// ---- MetricVec -------------------------------------------------------------------------------

namespace {
// Orders label-value tuples: std::vector<std::string> keys, looked up by views without copies.
struct ValuesLess {
  using is_transparent = void;
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(),
                                        [](std::string_view x, std::string_view y) { return x < y; });
  }
};
}  // namespace

template <class M>
struct MetricVec<M>::Children {
  mutable std::shared_mutex mu;
  std::map<std::vector<std::string>, std::unique_ptr<M>, ValuesLess> map;
};

template <class M>
MetricVec<M>::MetricVec(const Desc* desc) : desc_(desc), children_(std::make_unique<Children>()) {}

template <class M>
MetricVec<M>::~MetricVec() = default;

template <class M>
const std::vector<std::string>& MetricVec<M>::label_names() const {
  return desc_->label_names;
}

template <class M>
M& MetricVec<M>::find_or_make(const std::string_view* values, std::size_t n) {
  const auto& names = desc_->label_names;
  if (n != names.size()) {
    std::string want;
    for (const auto& l : names) want += (want.empty() ? "" : ", ") + l;
    invalid("metric " + quote(desc_->name) + ": " + std::to_string(n) + " label value(s) given, want " +
            std::to_string(names.size()) + " (" + want + ")");
  }
  std::span<const std::string_view> key(values, n);
  {
    std::shared_lock lk(children_->mu);
    auto it = children_->map.find(key);
    if (it != children_->map.end()) return *it->second;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!impl::valid_utf8(values[i])) {
      invalid("metric " + quote(desc_->name) + ": the value of label " + quote(names[i]) +
              " is not valid UTF-8");
    }
  }
  std::unique_lock lk(children_->mu);
  auto it = children_->map.find(key);
  if (it == children_->map.end()) {
    it = children_->map.emplace(std::vector<std::string>(key.begin(), key.end()),
                                std::make_unique<M>(desc_)).first;
  }
  return *it->second;
}

template <class M>
M& MetricVec<M>::with(std::initializer_list<Label> labels) {
  const auto& names = desc_->label_names;
  if (labels.size() != names.size()) {
    std::string want;
    for (const auto& l : names) want += (want.empty() ? "" : ", ") + l;
    invalid("metric " + quote(desc_->name) + ": " + std::to_string(labels.size()) +
            " label(s) given, want " + std::to_string(names.size()) + " (" + want + ")");
  }
  constexpr std::size_t kInline = 8;
  std::string_view inline_values[kInline];
  std::vector<std::string_view> heap_values;
  std::string_view* values = inline_values;
  if (names.size() > kInline) {
    heap_values.resize(names.size());
    values = heap_values.data();
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    const Label* found = nullptr;
    for (const Label& l : labels) {
      if (l.name == names[i]) {
        if (found) invalid("metric " + quote(desc_->name) + ": label " + quote(names[i]) + " given twice");
        found = &l;
      }
    }
    if (!found) invalid("metric " + quote(desc_->name) + ": label " + quote(names[i]) + " missing");
    values[i] = found->value;
  }
  return find_or_make(values, names.size());
}

template <class M>
M& MetricVec<M>::with_label_values(std::initializer_list<std::string_view> values) {
  return find_or_make(values.begin(), values.size());
}

template <class M>
M& MetricVec<M>::with_label_values(const std::vector<std::string>& values) {
  constexpr std::size_t kInline = 8;
  std::string_view inline_values[kInline];
  std::vector<std::string_view> heap_values;
  std::string_view* views = inline_values;
  if (values.size() > kInline) {
    heap_values.resize(values.size());
    views = heap_values.data();
  }
  for (std::size_t i = 0; i < values.size(); ++i) views[i] = values[i];
  return find_or_make(views, values.size());
}

template <class M>
void MetricVec<M>::for_each(
    const std::function<void(const std::vector<std::string>&, const M&)>& f) const {
  std::shared_lock lk(children_->mu);
  for (const auto& [values, m] : children_->map) f(values, *m);
}

template class MetricVec<Counter>;
template class MetricVec<Gauge>;
template class MetricVec<Histogram>;

// ---- Registry --------------------------------------------------------------------------------

namespace {

// One registration: a metric, a vec, a func or a collector.
struct Entry {
  virtual ~Entry() = default;
  std::vector<std::string> names;  // the exposition names it occupies
  virtual void collect(std::vector<MetricFamily>& out) const = 0;
  virtual const Collector* collector() const { return nullptr; }
};

MetricFamily family_of(const Desc& d) {
  MetricFamily f;
  f.name = d.name;
  f.help = d.help;
  f.type = d.type;
  return f;
}

std::vector<std::pair<std::string, std::string>> label_pairs(const Desc& d,
                                                             const std::vector<std::string>& values) {
  std::vector<std::pair<std::string, std::string>> labels;
  labels.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) labels.emplace_back(d.label_names[i], values[i]);
  return labels;
}

Sample sample_of(const Counter& c) { return impl::value_sample(c.value()); }
Sample sample_of(const Gauge& g) { return impl::value_sample(g.value()); }
Sample sample_of(const Histogram& h) { return h.snapshot(); }

template <class M>
struct MetricEntry : Entry {
  std::unique_ptr<Desc> desc;
  M metric;
  explicit MetricEntry(std::unique_ptr<Desc> d) : desc(std::move(d)), metric(desc.get()) {}
  void collect(std::vector<MetricFamily>& out) const override {
    MetricFamily f = family_of(*desc);
    f.samples.push_back(sample_of(metric));
    out.push_back(std::move(f));
  }
};

template <class M>
struct VecEntry : Entry {
  std::unique_ptr<Desc> desc;
  MetricVec<M> vec;
  explicit VecEntry(std::unique_ptr<Desc> d) : desc(std::move(d)), vec(desc.get()) {}
  void collect(std::vector<MetricFamily>& out) const override {
    MetricFamily f = family_of(*desc);
    vec.for_each([&](const std::vector<std::string>& values, const M& m) {
      Sample s = sample_of(m);
      s.labels = label_pairs(*desc, values);
      f.samples.push_back(std::move(s));
    });
    out.push_back(std::move(f));
  }
};

struct FuncEntry : Entry {
  std::unique_ptr<Desc> desc;
  std::function<double()> f;
  void collect(std::vector<MetricFamily>& out) const override {
    MetricFamily fam = family_of(*desc);
    fam.samples.push_back(impl::value_sample(f()));
    out.push_back(std::move(fam));
  }
};

struct CollectorEntry : Entry {
  std::shared_ptr<const Collector> c;
  void collect(std::vector<MetricFamily>& out) const override { c->collect(out); }
  const Collector* collector() const override { return c.get(); }
};

}  // namespace

struct Registry::Impl {
  mutable std::mutex mu;
  std::vector<std::shared_ptr<const Entry>> entries;  // in registration order
  std::set<std::string, std::less<>> names;           // every exposition name taken
  bool runtime_registered = false;

  // Claims entry->names (all or none) and adds the entry.
  void add(std::shared_ptr<Entry> entry, const std::string& what) {
    std::lock_guard lk(mu);
    for (const std::string& n : entry->names) {
      if (names.contains(n)) {
        invalid(what + " " + quote(entry->names.front()) + " collides with a metric already registered" +
                (n == entry->names.front() ? "" : " (as " + quote(n) + ")") + ": names must be unique");
      }
    }
    for (const std::string& n : entry->names) names.insert(n);
    entries.push_back(std::move(entry));
  }

  template <class E>
  E& add_desc(std::unique_ptr<Desc> desc) {
    auto e = std::make_shared<E>(std::move(desc));
    e->names = exposed_names(e->desc->name, e->desc->type);
    E& ref = *e;
    add(std::move(e), "metric");
    return ref;
  }
};

Registry::Registry() : impl_(std::make_unique<Impl>()) {}
Registry::~Registry() = default;

Counter& Registry::make_counter(std::string_view name, std::string_view help) {
  return impl_->add_desc<MetricEntry<Counter>>(make_desc(name, help, MetricType::counter)).metric;
}

Gauge& Registry::make_gauge(std::string_view name, std::string_view help) {
  return impl_->add_desc<MetricEntry<Gauge>>(make_desc(name, help, MetricType::gauge)).metric;
}

Histogram& Registry::make_histogram(std::string_view name, std::string_view help,
                                    std::vector<double> buckets) {
  return impl_
      ->add_desc<MetricEntry<Histogram>>(
          make_desc(name, help, MetricType::histogram, {}, std::move(buckets)))
      .metric;
}

CounterVec& Registry::make_counter_vec(std::string_view name, std::string_view help,
                                       std::vector<std::string> label_names) {
  return impl_
      ->add_desc<VecEntry<Counter>>(make_desc(name, help, MetricType::counter, std::move(label_names)))
      .vec;
}

GaugeVec& Registry::make_gauge_vec(std::string_view name, std::string_view help,
                                   std::vector<std::string> label_names) {
  return impl_
      ->add_desc<VecEntry<Gauge>>(make_desc(name, help, MetricType::gauge, std::move(label_names)))
      .vec;
}

HistogramVec& Registry::make_histogram_vec(std::string_view name, std::string_view help,
                                           std::vector<std::string> label_names,
                                           std::vector<double> buckets) {
  return impl_
      ->add_desc<VecEntry<Histogram>>(make_desc(name, help, MetricType::histogram,
                                                std::move(label_names), std::move(buckets)))
      .vec;
}

namespace {
std::shared_ptr<FuncEntry> func_entry(std::string_view name, std::string_view help, MetricType type,
                                      std::function<double()> f) {
  auto e = std::make_shared<FuncEntry>();
  e->desc = make_desc(name, help, type);
  if (!f) invalid("metric " + quote(name) + ": the function is empty");
  e->f = std::move(f);
  e->names = {e->desc->name};
  return e;
}
}  // namespace

void Registry::make_gauge_func(std::string_view name, std::string_view help, std::function<double()> f) {
  impl_->add(func_entry(name, help, MetricType::gauge, std::move(f)), "metric");
}

void Registry::make_counter_func(std::string_view name, std::string_view help,
                                 std::function<double()> f) {
  impl_->add(func_entry(name, help, MetricType::counter, std::move(f)), "metric");
}

void Registry::register_collector(std::shared_ptr<const Collector> collector) {
  if (!collector) invalid("register_collector: null collector");
  auto e = std::make_shared<CollectorEntry>();
  std::set<std::string> described;
  for (std::string& n : collector->describe()) {
    if (!impl::valid_metric_name(n)) {
      invalid("collector describes an invalid metric name " + quote(n) + ": want [a-zA-Z_:][a-zA-Z0-9_:]*");
    }
    if (!described.insert(n).second) invalid("collector describes metric " + quote(n) + " twice");
  }
  if (described.empty()) invalid("register_collector: the collector describes no metric");
  e->names.assign(described.begin(), described.end());
  e->c = std::move(collector);
  impl_->add(std::move(e), "collector metric");
}

bool Registry::unregister_collector(const Collector& collector) {
  std::lock_guard lk(impl_->mu);
  auto& entries = impl_->entries;
  for (auto it = entries.begin(); it != entries.end(); ++it) {
    if ((*it)->collector() == &collector) {
      for (const std::string& n : (*it)->names) impl_->names.erase(n);
      entries.erase(it);
      return true;
    }
  }
  return false;
}

std::vector<MetricFamily> Registry::gather() const {
  std::vector<std::shared_ptr<const Entry>> entries;
  {
    std::lock_guard lk(impl_->mu);
    entries = impl_->entries;
  }
  // Collected outside the lock: a collector may take its time, or even register metrics.
  std::map<std::string, MetricFamily> families;
  std::vector<MetricFamily> part;
  for (const auto& e : entries) {
    part.clear();
    e->collect(part);
    for (MetricFamily& f : part) {
      bool is_collector = e->collector() != nullptr;
      if (is_collector) {
        if (!std::binary_search(e->names.begin(), e->names.end(), f.name)) {
          throw std::runtime_error("gocxx::metrics: a collector produced metric " + quote(f.name) +
                                   ", which it did not describe");
        }
        for (const Sample& s : f.samples) {
          for (const auto& [name, value] : s.labels) {
            if (!impl::valid_label_name(name) || name.starts_with("__") ||
                (f.type == MetricType::histogram && name == "le")) {
              throw std::runtime_error("gocxx::metrics: metric " + quote(f.name) +
                                       " has an invalid label name " + quote(name));
            }
          }
        }
      }
      auto [it, fresh] = families.try_emplace(f.name);
      if (fresh) {
        it->second = std::move(f);
      } else {
        if (it->second.type != f.type) {
          throw std::runtime_error("gocxx::metrics: metric " + quote(f.name) +
                                   " was collected with two types (" + type_name(it->second.type) +
                                   ", " + type_name(f.type) + ")");
        }
        for (Sample& s : f.samples) it->second.samples.push_back(std::move(s));
      }
    }
  }
  std::vector<MetricFamily> out;
  out.reserve(families.size());
  for (auto& [name, f] : families) {
    // client_golang's normalization: label pairs by name, samples by label values.
    for (Sample& s : f.samples) std::sort(s.labels.begin(), s.labels.end());
    std::stable_sort(f.samples.begin(), f.samples.end(), [](const Sample& a, const Sample& b) {
      return std::lexicographical_compare(
          a.labels.begin(), a.labels.end(), b.labels.begin(), b.labels.end(),
          [](const auto& x, const auto& y) { return x.second < y.second; });
    });
    if (!f.samples.empty()) out.push_back(std::move(f));
  }
  return out;
}

Registry& default_registry() {
  // Never destroyed: a scrape may run while the program exits.
  static Registry* r = [] {
    auto* reg = new Registry;
    register_runtime_metrics(*reg);
    return reg;
  }();
  return *r;
}

void register_runtime_metrics(Registry& registry) {
  static std::mutex once_lock;  // two first calls at once: one registers, the other waits
  std::lock_guard once(once_lock);
  {
    std::lock_guard lk(registry.impl_->mu);
    if (registry.impl_->runtime_registered) return;
  }
  registry.register_collector(impl::make_runtime_collector());
  std::lock_guard lk(registry.impl_->mu);
  registry.impl_->runtime_registered = true;
}

// ---- the text format -------------------------------------------------------------------------

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Go's strconv.FormatFloat(v, 'g', -1, 64): the shortest digits that read back as v, in %e
  // form when the exponent is < -4 or >= 6 (precision 6 decides for the shortest form), else
  // in %f form.
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const char* e = std::find(buf, sci.ptr, 'e');
  int exp = 0;
  std::from_chars(e + 1 + (e[1] == '+'), sci.ptr, exp);
  if (exp < -4 || exp >= 6) return std::string(buf, sci.ptr);  // "1.5e+06", "1e-05"
  auto fixed = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, fixed.ptr);
}

namespace {

void append_help(std::string& out, std::string_view help) {
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void append_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// name{labels[,extra_name="extra_value"]} value
void append_line(std::string& out, std::string_view name, std::string_view suffix,
                 const std::vector<std::pair<std::string, std::string>>& labels,
                 std::string_view extra_name, std::string_view extra_value, double value) {
  out += name;
  out += suffix;
  if (!labels.empty() || !extra_name.empty()) {
    out += '{';
    bool first = true;
    for (const auto& [n, v] : labels) {
      if (!first) out += ',';
      first = false;
      out += n;
      out += "=\"";
      append_label_value(out, v);
      out += '"';
    }
    if (!extra_name.empty()) {
      if (!first) out += ',';
      out += extra_name;
      out += "=\"";
      out += extra_value;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
  out += format_value(value);
  out += '\n';
}

}  // namespace

void write_text(std::ostream& out, const std::vector<MetricFamily>& families) {
  std::string text;
  for (const MetricFamily& f : families) {
    if (f.samples.empty()) continue;
    if (!f.help.empty()) {
      text += "# HELP ";
      text += f.name;
      text += ' ';
      append_help(text, f.help);
      text += '\n';
    }
    text += "# TYPE ";
    text += f.name;
    text += ' ';
    text += type_name(f.type);
    text += '\n';
    for (const Sample& s : f.samples) {
      if (f.type != MetricType::histogram) {
        append_line(text, f.name, "", s.labels, "", "", s.value);
        continue;
      }
      bool has_inf = false;
      for (const Bucket& b : s.buckets) {
        has_inf = std::isinf(b.upper_bound) && b.upper_bound > 0;
        append_line(text, f.name, "_bucket", s.labels, "le", format_value(b.upper_bound),
                    static_cast<double>(b.cumulative_count));
      }
      if (!has_inf) {
        append_line(text, f.name, "_bucket", s.labels, "le", "+Inf", static_cast<double>(s.count));
      }
      append_line(text, f.name, "_sum", s.labels, "", "", s.sum);
      append_line(text, f.name, "_count", s.labels, "", "", static_cast<double>(s.count));
    }
  }
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

void write_text(std::ostream& out, const Registry& registry) { write_text(out, registry.gather()); }

}  // namespace gocxx::metrics
