// gocxx::metrics — Prometheus metrics, as Go's client_golang offers them: counters, gauges and
// histograms (each also as a "Vec" with labels), collectors computed at scrape time, a registry,
// and the text exposition format 0.0.4 that Prometheus scrapes from /metrics.
//
//   auto& requests = metrics::default_registry().make_counter_vec(
//       "myapp_requests_total", "Requests handled.", {"method", "code"});
//   auto& ok = requests.with_label_values({"GET", "200"});   // a stable reference: keep it
//   ok.inc();                                                // one atomic add, no allocation
//   auto& latency = metrics::default_registry().make_histogram(
//       "myapp_request_duration_seconds", "Request latency.");   // Prometheus's default buckets
//   latency.observe(0.042);
//   metrics::write_text(std::cout);                          // what /metrics serves
//
// The default registry also holds the runtime's own metrics (client_golang's go_goroutines,
// go_threads, process_* and gocxx's gocxx_*; see docs/diagnostics.md, "Metrics"), as
// client_golang's default registry holds its Go and process collectors.
//
// Names and labels follow the Prometheus data model: metric names match
// [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and do not start with "__";
// a histogram may not have a label "le". A bad name, a second registration of a name, or a
// wrong number of label values throws std::invalid_argument naming the metric.
//
// Counter::inc/add, Gauge::* and Histogram::observe are lock-free and allocate nothing: safe
// from goroutines and plain threads alike. Vec lookups (with, with_label_values) take a shared
// lock, and the first use of a label combination allocates; keep the reference they return.
// Metrics live as long as their registry (they are never unregistered: references stay valid).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gocxx::metrics {

enum class MetricType { counter, gauge, histogram, untyped };

// What a registry hands to the exposition (and what a Collector produces): client_model's
// MetricFamily, flattened.
struct Bucket {
  double upper_bound = 0;           // "le"; the last bucket's is +Inf
  std::uint64_t cumulative_count = 0;
};
struct Sample {
  std::vector<std::pair<std::string, std::string>> labels;  // (name, value)
  double value = 0;                 // counter, gauge, untyped
  std::vector<Bucket> buckets;      // histogram: cumulative, increasing bounds, last +Inf
  double sum = 0;                   // histogram
  std::uint64_t count = 0;          // histogram (the +Inf bucket's count)
};
struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::untyped;
  std::vector<Sample> samples;
};

namespace detail {
struct Desc;  // a registered metric's name, help, type, label names and buckets
}

// The metrics are made by a Registry (make_counter, a CounterVec's with...), which owns them;
// their constructors are for the registry's use.

// A value that only goes up (resets when the process restarts). client_golang's Counter.
class Counter {
 public:
  explicit Counter(const detail::Desc* desc) : desc_(desc) {}
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void inc() { ints_.fetch_add(1, std::memory_order_relaxed); }
  // v >= 0. A negative v (or NaN) is a panic (gocxx::panic): "counter cannot decrease in value".
  void add(double v) {
    if (v >= 0 && v < 0x1p53 && v == static_cast<double>(static_cast<std::uint64_t>(v))) {
      ints_.fetch_add(static_cast<std::uint64_t>(v), std::memory_order_relaxed);
    } else {
      add_slow(v);
    }
  }
  double value() const;

 private:
  void add_slow(double v);
  std::atomic<std::uint64_t> ints_{0};  // whole increments (the common case: one atomic add)
  std::atomic<double> floats_{0};       // fractional ones
  const detail::Desc* desc_;
};

// A value that goes up and down. client_golang's Gauge.
class Gauge {
 public:
  explicit Gauge(const detail::Desc* = nullptr) {}
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void set(double v) { v_.store(v, std::memory_order_relaxed); }
  void add(double v) { v_.fetch_add(v, std::memory_order_relaxed); }
  void sub(double v) { add(-v); }
  void inc() { add(1); }
  void dec() { add(-1); }
  void set_to_current_time();  // seconds since the Unix epoch
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

// Observations counted in buckets (cumulative in the exposition: name_bucket{le="..."},
// name_sum, name_count). client_golang's Histogram.
class Histogram {
 public:
  explicit Histogram(const detail::Desc* desc);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Lock-free: a binary search over the bounds, two atomic adds.
  void observe(double v);
  // Cumulative buckets (the last is +Inf), sum and count, as the exposition shows them.
  Sample snapshot() const;

 private:
  const std::vector<double>& bounds_;                    // finite upper bounds, increasing
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket; the last is +Inf
  std::atomic<double> sum_{0};
};

// Prometheus's default buckets (client_golang's DefBuckets): .005 .01 .025 .05 .1 .25 .5 1
// 2.5 5 10, for latencies in seconds.
std::vector<double> default_buckets();
// count buckets: start, start + width, ... (client_golang's LinearBuckets).
std::vector<double> linear_buckets(double start, double width, int count);
// count buckets: start, start * factor, ... (client_golang's ExponentialBuckets).
std::vector<double> exponential_buckets(double start, double factor, int count);

// A label, by name, for Vec::with.
struct Label {
  std::string_view name;
  std::string_view value;
};

// Metrics of one name told apart by labels (client_golang's CounterVec, GaugeVec,
// HistogramVec). Each label combination's metric is made on first use and lives as long as
// the registry, so the reference returned is stable: look it up once, then use it.
template <class M>
class MetricVec {
 public:
  explicit MetricVec(const detail::Desc* desc);
  ~MetricVec();
  MetricVec(const MetricVec&) = delete;
  MetricVec& operator=(const MetricVec&) = delete;

  // By name: .with({{"method", "GET"}, {"code", "200"}}), or .with({"code", "200"}) for one
  // label. Every label name of the vec exactly once, in any order.
  M& with(std::initializer_list<Label> labels);
  M& with(const Label& label) { return with({label}); }
  // By position, in the order of the vec's label names: .with_label_values({"GET", "200"}).
  M& with_label_values(std::initializer_list<std::string_view> values);
  M& with_label_values(const std::vector<std::string>& values);

  const std::vector<std::string>& label_names() const;
  // The metrics made so far, with their label values (in label_names() order).
  void for_each(const std::function<void(const std::vector<std::string>&, const M&)>& f) const;

 private:
  M& find_or_make(const std::string_view* values, std::size_t n);
  struct Children;
  const detail::Desc* desc_;
  std::unique_ptr<Children> children_;
};
using CounterVec = MetricVec<Counter>;
using GaugeVec = MetricVec<Gauge>;
using HistogramVec = MetricVec<Histogram>;

// Families computed at scrape time (client_golang's Collector).
class Collector {
 public:
  virtual ~Collector() = default;
  // The names of the families collect() may produce: validated and checked against the
  // registry's other names when the collector is registered.
  virtual std::vector<std::string> describe() const = 0;
  // Appends the current families; called on every gather (scrape), possibly concurrently.
  virtual void collect(std::vector<MetricFamily>& out) const = 0;
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Each returns the metric, owned by the registry. Throws std::invalid_argument on a bad name
  // or label name, an empty or non-UTF-8 help, or a name already registered (a histogram's
  // name_bucket/_sum/_count count as its names).
  Counter& make_counter(std::string_view name, std::string_view help);
  Gauge& make_gauge(std::string_view name, std::string_view help);
  // buckets: finite upper bounds in increasing order (a trailing +Inf is dropped: it is
  // always there); Prometheus's default buckets if none are given.
  Histogram& make_histogram(std::string_view name, std::string_view help,
                            std::vector<double> buckets = default_buckets());
  CounterVec& make_counter_vec(std::string_view name, std::string_view help,
                               std::vector<std::string> label_names);
  GaugeVec& make_gauge_vec(std::string_view name, std::string_view help,
                           std::vector<std::string> label_names);
  HistogramVec& make_histogram_vec(std::string_view name, std::string_view help,
                                   std::vector<std::string> label_names,
                                   std::vector<double> buckets = default_buckets());
  // A value read at each scrape (client_golang's GaugeFunc, CounterFunc). f runs on the
  // scraping thread or goroutine; it must be thread-safe and quick.
  void make_gauge_func(std::string_view name, std::string_view help, std::function<double()> f);
  void make_counter_func(std::string_view name, std::string_view help, std::function<double()> f);

  void register_collector(std::shared_ptr<const Collector> collector);
  // Removes a collector registered here (its names become free); false if it was not.
  bool unregister_collector(const Collector& collector);

  // Every family, sorted by name, each family's samples sorted by label values. Throws
  // std::runtime_error if a collector produced a family it did not describe, a bad label name
  // or a type that differs from another part of the same family (promhttp answers 500 then).
  std::vector<MetricFamily> gather() const;

  struct Impl;

 private:
  friend void register_runtime_metrics(Registry& registry);
  std::unique_ptr<Impl> impl_;
};

// Registers the runtime's metrics (go_goroutines, process_*, gocxx_*: docs/diagnostics.md,
// "Metrics") in `registry`; does nothing if it already holds them.
void register_runtime_metrics(Registry& registry);

// The process-wide registry: the runtime's metrics are registered in it when it is first used.
Registry& default_registry();

// The same for the default registry (which has them from its first use anyway).
inline void register_runtime_metrics() { register_runtime_metrics(default_registry()); }

// Prometheus's text exposition format 0.0.4: "# HELP", "# TYPE", then one line per sample;
// families sorted by name, samples by label values; floats as Go's strconv 'g' (shortest),
// "+Inf", "-Inf", "NaN". Deterministic for given values. Throws what gather() throws (nothing
// is written then).
void write_text(std::ostream& out, const Registry& registry = default_registry());
void write_text(std::ostream& out, const std::vector<MetricFamily>& families);
// The Content-Type of that format, for the HTTP response.
inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

// A float as the exposition writes it (Go's strconv.FormatFloat(v, 'g', -1, 64)).
std::string format_value(double v);

}  // namespace gocxx::metrics
