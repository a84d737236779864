// Tests for gocxx::metrics (gocxx/metrics.hpp): the registry API and its validation, counters
// and histograms hammered from goroutines and plain threads (exact sums), the text exposition
// (golden outputs, escaping, Go's float format), collectors, and the runtime's metrics checked
// against what the program knows: go_goroutines against num_goroutine(), gocxx_goroutines
// against a known set of parked goroutines, the socket counters against a listener opened and
// closed, goroutines created, the watchdog's reports. Also the scrape time of a process with
// 100k parked goroutines (printed; the goal is < 50 ms). promtool's checks of the same output
// and of the alert rules are the ctests metrics.promtool_* (tests/metrics/check.sh).
#include "test_util.hpp"

#include <gocxx/metrics.hpp>
#include <gocxx/watchdog.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace metrics = gocxx::metrics;
using gocxx::test::go_until_parked;
using gocxx::test::join_goroutines;
using gocxx::test::run_joined;
using gocxx::test::run_with;
using gocxx::test::scaled;
using namespace std::chrono_literals;

namespace {

std::string text_of(const metrics::Registry& r) {
  std::ostringstream out;
  metrics::write_text(out, r);
  return out.str();
}

// The samples of an exposition: "name{labels}" (exactly as written) -> value.
std::map<std::string, double> parse(const std::string& text) {
  std::map<std::string, double> samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto space = line.rfind(' ');
    std::string value = line.substr(space + 1);
    double v = value == "+Inf"  ? std::numeric_limits<double>::infinity()
               : value == "-Inf" ? -std::numeric_limits<double>::infinity()
               : value == "NaN"  ? std::numeric_limits<double>::quiet_NaN()
                                 : std::stod(value);
    samples[line.substr(0, space)] = v;
  }
  return samples;
}

// The default registry's samples, gathered on the calling thread or goroutine.
std::map<std::string, double> scrape() { return parse(text_of(metrics::default_registry())); }

double sample(const std::map<std::string, double>& samples, const std::string& series) {
  auto it = samples.find(series);
  if (it == samples.end()) {
    ADD_FAILURE() << "no sample " << series;
    return -1;
  }
  return it->second;
}

std::string goroutines_series(const std::string& state, const std::string& reason) {
  return "gocxx_goroutines{state=\"" + state + "\",wait_reason=\"" + reason + "\"}";
}

// The message of the std::invalid_argument that f throws ("" if none).
template <class F>
std::string invalid_message(F f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// ---- the API ---------------------------------------------------------------------------------

TEST(Metrics, CounterGaugeHistogramValues) {
  metrics::Registry r;
  auto& c = r.make_counter("t_events_total", "Events.");
  c.inc();
  c.add(2);
  c.add(0.5);
  c.add(0);
  EXPECT_EQ(c.value(), 3.5);

  auto& g = r.make_gauge("t_level", "Level.");
  g.set(10);
  g.inc();
  g.dec();
  g.dec();
  g.add(2.5);
  g.sub(0.5);
  EXPECT_EQ(g.value(), 11);
  g.set_to_current_time();
  EXPECT_NEAR(g.value(), static_cast<double>(std::time(nullptr)), 5);

  auto& h = r.make_histogram("t_latency_seconds", "Latency.", {0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.5, 1.0, 5.0, 50.0}) h.observe(v);
  metrics::Sample s = h.snapshot();
  ASSERT_EQ(s.buckets.size(), 4u);
  EXPECT_EQ(s.buckets[0].upper_bound, 0.1);
  EXPECT_EQ(s.buckets[0].cumulative_count, 2u);  // le is inclusive: 0.05, 0.1
  EXPECT_EQ(s.buckets[1].cumulative_count, 4u);
  EXPECT_EQ(s.buckets[2].cumulative_count, 5u);
  EXPECT_TRUE(std::isinf(s.buckets[3].upper_bound));
  EXPECT_EQ(s.buckets[3].cumulative_count, 6u);
  EXPECT_EQ(s.count, 6u);
  EXPECT_DOUBLE_EQ(s.sum, 56.65);
}

TEST(Metrics, DefaultAndGeneratedBuckets) {
  EXPECT_EQ(metrics::default_buckets(),
            (std::vector<double>{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}));
  EXPECT_EQ(metrics::linear_buckets(1, 2, 3), (std::vector<double>{1, 3, 5}));
  EXPECT_EQ(metrics::exponential_buckets(1, 10, 3), (std::vector<double>{1, 10, 100}));
  EXPECT_THROW(metrics::exponential_buckets(0, 2, 3), std::invalid_argument);
  EXPECT_THROW(metrics::linear_buckets(0, 1, 0), std::invalid_argument);

  metrics::Registry r;
  auto& h = r.make_histogram("t_default_seconds", "Default buckets.");
  EXPECT_EQ(h.snapshot().buckets.size(), 12u);  // 11 + +Inf
  // A trailing +Inf is accepted and not doubled.
  auto& h2 = r.make_histogram("t_inf_seconds", "With +Inf.",
                              {1, std::numeric_limits<double>::infinity()});
  EXPECT_EQ(h2.snapshot().buckets.size(), 2u);
}

TEST(Metrics, VecReturnsStableReferencesPerLabelValues) {
  metrics::Registry r;
  auto& v = r.make_counter_vec("t_requests_total", "Requests.", {"method", "code"});
  EXPECT_EQ(v.label_names(), (std::vector<std::string>{"method", "code"}));
  auto& get200 = v.with_label_values({"GET", "200"});
  auto& same = v.with({{"code", "200"}, {"method", "GET"}});  // by name, any order
  EXPECT_EQ(&get200, &same);
  std::vector<std::string> dynamic{"GET", "200"};
  EXPECT_EQ(&v.with_label_values(dynamic), &get200);
  auto& post500 = v.with_label_values({"POST", "500"});
  EXPECT_NE(&post500, &get200);
  get200.inc();
  get200.inc();
  post500.add(5);
  // Many more children: the first references stay valid.
  for (int i = 0; i < 1000; ++i) v.with_label_values({"GET", std::to_string(i)}).inc();
  EXPECT_EQ(get200.value(), 3);  // "200" was among them
  EXPECT_EQ(post500.value(), 5);

  auto& one = r.make_gauge_vec("t_room_celsius", "Temperature.", {"room"});
  one.with({"room", "lab"}).set(21);  // one label: .with({"name", "value"})
  EXPECT_EQ(one.with_label_values({"lab"}).value(), 21);

  int children = 0;
  v.for_each([&](const std::vector<std::string>& values, const metrics::Counter&) {
    EXPECT_EQ(values.size(), 2u);
    ++children;
  });
  EXPECT_EQ(children, 1001);
}

TEST(Metrics, InvalidNamesAndLabelsThrowNamingTheMetric) {
  metrics::Registry r;
  for (const char* bad : {"", "1abc", "a-b", "a b", "é"}) {
    std::string m = invalid_message([&] { r.make_counter(bad, "help"); });
    EXPECT_NE(m.find("invalid metric name \"" + std::string(bad) + "\""), std::string::npos) << m;
  }
  for (const char* good : {"a", "_a", ":a", "a:b_c9", "A"}) {
    EXPECT_NO_THROW(r.make_gauge(good, "help")) << good;
  }
  std::string m = invalid_message([&] { r.make_counter_vec("t_x_total", "help", {"1a"}); });
  EXPECT_NE(m.find("metric \"t_x_total\": invalid label name \"1a\""), std::string::npos) << m;
  m = invalid_message([&] { r.make_counter_vec("t_x_total", "help", {"__name"}); });
  EXPECT_NE(m.find("metric \"t_x_total\": label name \"__name\" is reserved"), std::string::npos) << m;
  m = invalid_message([&] { r.make_counter_vec("t_x_total", "help", {"a", "a"}); });
  EXPECT_NE(m.find("metric \"t_x_total\": duplicate label name \"a\""), std::string::npos) << m;
  m = invalid_message([&] { r.make_histogram_vec("t_h", "help", {"le"}); });
  EXPECT_NE(m.find("metric \"t_h\": a histogram cannot have a label \"le\""), std::string::npos) << m;
  EXPECT_NO_THROW(r.make_gauge_vec("t_le_gauge", "help", {"le"}));  // fine outside histograms
  m = invalid_message([&] { r.make_counter("t_y_total", ""); });
  EXPECT_NE(m.find("metric \"t_y_total\": help must not be empty"), std::string::npos) << m;
  m = invalid_message([&] { r.make_counter("t_y_total", "bad \xff utf-8"); });
  EXPECT_NE(m.find("metric \"t_y_total\": help is not valid UTF-8"), std::string::npos) << m;
  m = invalid_message([&] { r.make_histogram("t_h2", "help", {1, 0.5}); });
  EXPECT_NE(m.find("histogram \"t_h2\": bucket bounds must be in increasing order"), std::string::npos) << m;
  m = invalid_message([&] { r.make_histogram("t_h3", "help", {1, NAN}); });
  EXPECT_NE(m.find("histogram \"t_h3\": bucket bounds must be finite"), std::string::npos) << m;
  m = invalid_message([&] { r.make_gauge_func("t_f", "help", nullptr); });
  EXPECT_NE(m.find("metric \"t_f\": the function is empty"), std::string::npos) << m;
  // None of the failed registrations took its name.
  EXPECT_NO_THROW(r.make_counter("t_y_total", "help"));
  EXPECT_NO_THROW(r.make_histogram("t_h", "help"));
}

TEST(Metrics, DuplicateRegistrationThrowsNamingTheMetric) {
  metrics::Registry r;
  r.make_counter("t_dup_total", "help");
  std::string m = invalid_message([&] { r.make_counter("t_dup_total", "help"); });
  EXPECT_NE(m.find("\"t_dup_total\" collides with a metric already registered"), std::string::npos) << m;
  m = invalid_message([&] { r.make_gauge_vec("t_dup_total", "help", {"a"}); });  // any kind
  EXPECT_NE(m.find("\"t_dup_total\""), std::string::npos) << m;
  m = invalid_message([&] { r.make_counter_func("t_dup_total", "help", [] { return 1.0; }); });
  EXPECT_NE(m.find("\"t_dup_total\""), std::string::npos) << m;
  // A histogram's series names are its names too.
  r.make_gauge("t_lat_seconds_count", "help");
  m = invalid_message([&] { r.make_histogram("t_lat_seconds", "help"); });
  EXPECT_NE(m.find("\"t_lat_seconds\" collides with a metric already registered (as "
                   "\"t_lat_seconds_count\")"),
            std::string::npos)
      << m;
  r.make_histogram("t_rtt_seconds", "help");
  EXPECT_THROW(r.make_counter("t_rtt_seconds_bucket", "help"), std::invalid_argument);
  EXPECT_THROW(r.make_counter("t_rtt_seconds_sum", "help"), std::invalid_argument);
  // Another registry is another namespace.
  metrics::Registry other;
  EXPECT_NO_THROW(other.make_counter("t_dup_total", "help"));
}

TEST(Metrics, LabelCardinalityMismatchThrowsNamingTheMetric) {
  metrics::Registry r;
  auto& v = r.make_counter_vec("t_req_total", "help", {"method", "code"});
  std::string m = invalid_message([&] { v.with_label_values({"GET"}); });
  EXPECT_NE(m.find("metric \"t_req_total\": 1 label value(s) given, want 2 (method, code)"),
            std::string::npos)
      << m;
  m = invalid_message([&] { v.with_label_values({"GET", "200", "x"}); });
  EXPECT_NE(m.find("metric \"t_req_total\": 3 label value(s) given, want 2"), std::string::npos) << m;
  m = invalid_message([&] { v.with({{"method", "GET"}}); });
  EXPECT_NE(m.find("metric \"t_req_total\": 1 label(s) given, want 2"), std::string::npos) << m;
  m = invalid_message([&] { v.with({{"method", "GET"}, {"status", "200"}}); });
  EXPECT_NE(m.find("metric \"t_req_total\": label \"code\" missing"), std::string::npos) << m;
  m = invalid_message([&] { v.with({{"method", "GET"}, {"method", "PUT"}}); });
  EXPECT_NE(m.find("metric \"t_req_total\": label \"method\" given twice"), std::string::npos) << m;
  m = invalid_message([&] { v.with_label_values({"GET", "\xc3\x28"}); });
  EXPECT_NE(m.find("metric \"t_req_total\": the value of label \"code\" is not valid UTF-8"),
            std::string::npos)
      << m;
  int children = 0;
  v.for_each([&](const auto&, const auto&) { ++children; });
  EXPECT_EQ(children, 0);  // nothing was made by the failed lookups
}

TEST(Metrics, NegativeCounterAddIsAPanic) {
  run_with(1, [] {
    metrics::Registry r;
    auto& c = r.make_counter("t_neg_total", "help");
    c.inc();
    std::string m = gocxx::test::panic_message([&] { c.add(-1); });
    EXPECT_EQ(m, "gocxx::metrics: counter cannot decrease in value (t_neg_total.add(-1))");
    m = gocxx::test::panic_message([&] { c.add(std::nan("")); });
    EXPECT_EQ(m, "gocxx::metrics: counter cannot be added NaN (t_neg_total.add(NaN))");
    auto& v = r.make_counter_vec("t_negv_total", "help", {"a"});
    m = gocxx::test::panic_message([&] { v.with_label_values({"x"}).add(-0.5); });
    EXPECT_EQ(m, "gocxx::metrics: counter cannot decrease in value (t_negv_total.add(-0.5))");
    EXPECT_EQ(c.value(), 1);  // unchanged
  });
}

// ---- concurrency -----------------------------------------------------------------------------

TEST(Metrics, CountersAndHistogramsFromGoroutinesAndThreadsSumExactly) {
  metrics::Registry r;
  auto& c = r.make_counter("t_conc_total", "help");
  auto& f = r.make_counter("t_conc_float_total", "help");
  auto& g = r.make_gauge("t_conc_gauge", "help");
  auto& h = r.make_histogram("t_conc_seconds", "help", {1, 2, 3});
  auto& v = r.make_counter_vec("t_conc_vec_total", "help", {"worker"});
  const int kGoroutines = 8, kThreads = 4, kIters = scaled(20000);
  auto work = [&](int id) {
    auto& mine = v.with_label_values({std::to_string(id % 3)});
    for (int i = 0; i < kIters; ++i) {
      c.inc();
      f.add(0.25);  // exact in binary: the float path sums exactly too
      g.inc();
      g.dec();
      h.observe(i % 4);
      mine.inc();
      if (i % 1024 == 0) gocxx::yield();
    }
  };
  run_joined(4, [&] {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kIters; ++i) {
          c.inc();
          f.add(0.25);
          g.inc();
          g.dec();
          h.observe(i % 4);
          v.with_label_values({std::to_string((kGoroutines + t) % 3)}).inc();
        }
      });
    }
    gocxx::sync::WaitGroup wg;
    for (int i = 0; i < kGoroutines; ++i) {
      wg.add(1);
      gocxx::go([&, i] {
        work(i);
        wg.done();
      });
    }
    // Scrapes while the others count: never torn, never decreasing.
    double last = 0;
    for (int i = 0; i < 20; ++i) {
      auto s = parse(text_of(r));
      EXPECT_GE(s["t_conc_total"], last);
      last = s["t_conc_total"];
      EXPECT_EQ(s["t_conc_seconds_bucket{le=\"+Inf\"}"], s["t_conc_seconds_count"]);
      gocxx::yield();
    }
    wg.wait();
    for (auto& t : threads) gocxx::test::join(t);
  });
  const double total = static_cast<double>(kGoroutines + kThreads) * kIters;
  EXPECT_EQ(c.value(), total);
  EXPECT_EQ(f.value(), total / 4);
  EXPECT_EQ(g.value(), 0);
  metrics::Sample s = h.snapshot();
  EXPECT_EQ(s.count, static_cast<std::uint64_t>(total));
  double sum_per_round = 0 + 1 + 2 + 3;
  EXPECT_EQ(s.sum, sum_per_round * (kIters / 4) * (kGoroutines + kThreads));
  double vec_total = 0;
  v.for_each([&](const auto&, const metrics::Counter& m) { vec_total += m.value(); });
  EXPECT_EQ(vec_total, total);
}

// ---- the exposition --------------------------------------------------------------------------

TEST(Metrics, FormatValueIsGosShortestG) {
  EXPECT_EQ(metrics::format_value(0), "0");
  EXPECT_EQ(metrics::format_value(-0.0), "-0");
  EXPECT_EQ(metrics::format_value(1), "1");
  EXPECT_EQ(metrics::format_value(42), "42");
  EXPECT_EQ(metrics::format_value(-3.5), "-3.5");
  EXPECT_EQ(metrics::format_value(0.005), "0.005");
  EXPECT_EQ(metrics::format_value(0.1), "0.1");
  EXPECT_EQ(metrics::format_value(0.0001), "0.0001");
  EXPECT_EQ(metrics::format_value(0.00001), "1e-05");
  EXPECT_EQ(metrics::format_value(123456), "123456");
  EXPECT_EQ(metrics::format_value(999999), "999999");
  EXPECT_EQ(metrics::format_value(1e6), "1e+06");
  EXPECT_EQ(metrics::format_value(1234567), "1.234567e+06");
  EXPECT_EQ(metrics::format_value(1.5e300), "1.5e+300");
  EXPECT_EQ(metrics::format_value(18446744073709551615.0), "1.8446744073709552e+19");
  EXPECT_EQ(metrics::format_value(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(metrics::format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(metrics::format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(metrics::format_value(std::nan("")), "NaN");
}

TEST(Metrics, TextExpositionGolden) {
  metrics::Registry r;
  auto& req = r.make_counter_vec("http_requests_total", "Requests handled.", {"method", "code"});
  req.with_label_values({"POST", "500"}).inc();
  req.with_label_values({"GET", "200"}).add(1027);
  req.with_label_values({"GET", "404"}).add(3);
  r.make_gauge("a_first_gauge", "Sorted first.").set(-1.5);
  auto& esc = r.make_gauge_vec("escape_me", "Help with \\ backslash and\nnewline \"quotes\".",
                               {"path"});
  esc.with_label_values({"C:\\dir \"x\"\ny"}).set(std::numeric_limits<double>::infinity());
  auto& h = r.make_histogram_vec("rpc_duration_seconds", "RPC latency.", {"service"}, {0.05, 0.5, 5});
  for (double v : {0.01, 0.05, 0.3, 1.0, 7.0}) h.with_label_values({"db"}).observe(v);
  r.make_gauge_func("temperature_kelvin", "Computed at scrape time.", [] { return 1e6; });
  r.make_counter_func("odd_total", "Not a number.", [] { return std::nan(""); });
  r.make_counter_vec("unused_total", "A vec with no children yet: not shown.", {"a"});
  auto& z = r.make_histogram("empty_seconds", "No observations.", {1});
  (void)z;

  EXPECT_EQ(text_of(r),
            "# HELP a_first_gauge Sorted first.\n"
            "# TYPE a_first_gauge gauge\n"
            "a_first_gauge -1.5\n"
            "# HELP empty_seconds No observations.\n"
            "# TYPE empty_seconds histogram\n"
            "empty_seconds_bucket{le=\"1\"} 0\n"
            "empty_seconds_bucket{le=\"+Inf\"} 0\n"
            "empty_seconds_sum 0\n"
            "empty_seconds_count 0\n"
            "# HELP escape_me Help with \\\\ backslash and\\nnewline \"quotes\".\n"
            "# TYPE escape_me gauge\n"
            "escape_me{path=\"C:\\\\dir \\\"x\\\"\\ny\"} +Inf\n"
            "# HELP http_requests_total Requests handled.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{code=\"200\",method=\"GET\"} 1027\n"
            "http_requests_total{code=\"404\",method=\"GET\"} 3\n"
            "http_requests_total{code=\"500\",method=\"POST\"} 1\n"
            "# HELP odd_total Not a number.\n"
            "# TYPE odd_total counter\n"
            "odd_total NaN\n"
            "# HELP rpc_duration_seconds RPC latency.\n"
            "# TYPE rpc_duration_seconds histogram\n"
            "rpc_duration_seconds_bucket{service=\"db\",le=\"0.05\"} 2\n"
            "rpc_duration_seconds_bucket{service=\"db\",le=\"0.5\"} 3\n"
            "rpc_duration_seconds_bucket{service=\"db\",le=\"5\"} 4\n"
            "rpc_duration_seconds_bucket{service=\"db\",le=\"+Inf\"} 5\n"
            "rpc_duration_seconds_sum{service=\"db\"} 8.36\n"
            "rpc_duration_seconds_count{service=\"db\"} 5\n"
            "# HELP temperature_kelvin Computed at scrape time.\n"
            "# TYPE temperature_kelvin gauge\n"
            "temperature_kelvin 1e+06\n");
  // Deterministic: the same values give the same bytes.
  EXPECT_EQ(text_of(r), text_of(r));
  EXPECT_STREQ(metrics::kTextContentType, "text/plain; version=0.0.4; charset=utf-8");
}

namespace {

class TwoFamilies : public metrics::Collector {
 public:
  explicit TwoFamilies(std::string extra = "") : extra_(std::move(extra)) {}
  std::vector<std::string> describe() const override { return {"t_queue_length", "t_up"}; }
  void collect(std::vector<metrics::MetricFamily>& out) const override {
    metrics::MetricFamily q{.name = "t_queue_length", .help = "Queue length.",
                            .type = metrics::MetricType::gauge, .samples = {}};
    metrics::Sample a, b;
    a.labels = {{"queue", "b"}};
    a.value = 2;
    b.labels = {{"queue", "a"}};
    b.value = 1;
    q.samples = {a, b};
    out.push_back(q);
    metrics::MetricFamily up{.name = "t_up", .help = "Up.", .type = metrics::MetricType::untyped,
                             .samples = {}};
    up.samples.emplace_back();
    up.samples.back().value = 1;
    out.push_back(up);
    if (!extra_.empty()) {
      metrics::MetricFamily x{.name = extra_, .help = "Not described.",
                              .type = metrics::MetricType::gauge, .samples = {}};
      x.samples.emplace_back();
      out.push_back(x);
    }
  }

 private:
  std::string extra_;
};

}  // namespace

TEST(Metrics, CollectorsAreGatheredSortedAndChecked) {
  metrics::Registry r;
  auto c = std::make_shared<TwoFamilies>();
  r.register_collector(c);
  EXPECT_EQ(text_of(r),
            "# HELP t_queue_length Queue length.\n"
            "# TYPE t_queue_length gauge\n"
            "t_queue_length{queue=\"a\"} 1\n"
            "t_queue_length{queue=\"b\"} 2\n"
            "# HELP t_up Up.\n"
            "# TYPE t_up untyped\n"
            "t_up 1\n");
  // Its names are taken.
  std::string m = invalid_message([&] { r.make_gauge("t_up", "help"); });
  EXPECT_NE(m.find("\"t_up\" collides"), std::string::npos) << m;
  EXPECT_THROW(r.register_collector(std::make_shared<TwoFamilies>()), std::invalid_argument);
  EXPECT_TRUE(r.unregister_collector(*c));
  EXPECT_FALSE(r.unregister_collector(*c));
  EXPECT_EQ(text_of(r), "");
  EXPECT_NO_THROW(r.make_gauge("t_up", "help"));

  // A family it did not describe fails the gather (promhttp answers 500).
  metrics::Registry r2;
  r2.register_collector(std::make_shared<TwoFamilies>("t_sneaky"));
  try {
    r2.gather();
    ADD_FAILURE() << "gather accepted an undescribed family";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("\"t_sneaky\", which it did not describe"), std::string::npos)
        << e.what();
  }
}

// ---- the runtime's metrics -------------------------------------------------------------------

TEST(RuntimeMetrics, AllFamiliesArePresentWithTheirTypes) {
  run_with(2, [] {
    std::string text = text_of(metrics::default_registry());
    for (const char* line :
         {"# TYPE go_goroutines gauge\n", "# TYPE go_threads gauge\n",
          "# TYPE go_sched_gomaxprocs_threads gauge\n",
          "# TYPE process_cpu_seconds_total counter\n", "# TYPE process_open_fds gauge\n",
          "# TYPE process_max_fds gauge\n", "# TYPE process_virtual_memory_bytes gauge\n",
          "# TYPE process_virtual_memory_max_bytes gauge\n",
          "# TYPE process_resident_memory_bytes gauge\n",
          "# TYPE process_start_time_seconds gauge\n", "# TYPE gocxx_goroutines gauge\n",
          "# TYPE gocxx_goroutines_abandoned gauge\n",
          "# TYPE gocxx_goroutines_created_total counter\n",
          "# TYPE gocxx_sched_run_queue_length gauge\n",
          "# TYPE gocxx_sched_parks_total counter\n",
          "# TYPE gocxx_sched_steals_total counter\n",
          "# TYPE gocxx_netpoll_waits_total counter\n",
          "# TYPE gocxx_net_sockets_opened_total counter\n",
          "# TYPE gocxx_net_sockets_closed_total counter\n",
          "# TYPE gocxx_leak_watchdog_reports_total counter\n",
          "# HELP go_goroutines Number of goroutines that currently exist.\n"}) {
      EXPECT_NE(text.find(line), std::string::npos) << line << text;
    }
    auto s = parse(text);
    EXPECT_EQ(sample(s, "go_sched_gomaxprocs_threads"), 2);
    EXPECT_GE(sample(s, "go_threads"), 2);
    EXPECT_GT(sample(s, "process_open_fds"), 2);  // stdin, stdout, stderr at least
    EXPECT_GE(sample(s, "process_max_fds"), sample(s, "process_open_fds"));
    EXPECT_GT(sample(s, "process_resident_memory_bytes"), 1 << 20);
    EXPECT_GT(sample(s, "process_virtual_memory_bytes"), sample(s, "process_resident_memory_bytes"));
    EXPECT_GE(sample(s, "process_cpu_seconds_total"), 0);
    double now = static_cast<double>(std::time(nullptr));
    EXPECT_LE(sample(s, "process_start_time_seconds"), now + 1);
    EXPECT_GT(sample(s, "process_start_time_seconds"), now - 24 * 3600);
    // register_runtime_metrics is idempotent; a fresh registry gets them once.
    EXPECT_NO_THROW(metrics::register_runtime_metrics());
    metrics::Registry r;
    metrics::register_runtime_metrics(r);
    metrics::register_runtime_metrics(r);
    EXPECT_NE(text_of(r).find("# TYPE go_goroutines gauge\n"), std::string::npos);
  });
}

TEST(RuntimeMetrics, GoGoroutinesIsNumGoroutineInAQuietProgram) {
  run_joined(2, [] {
    auto s = scrape();
    EXPECT_EQ(sample(s, "go_goroutines"), 1);
    EXPECT_EQ(sample(s, goroutines_series("running", "")), 1);  // the scraper itself

    gocxx::Chan<int> gate;
    for (int i = 0; i < 10; ++i) {
      go_until_parked(gocxx::detail::WaitReason::kChanReceive, [gate]() mutable { (void)gate.recv(); });
    }
    s = scrape();
    EXPECT_EQ(sample(s, "go_goroutines"), gocxx::num_goroutine());
    EXPECT_EQ(sample(s, "go_goroutines"), 11);
    double by_state = 0;
    for (const auto& [series, v] : s) {
      if (series.starts_with("gocxx_goroutines{")) by_state += v;
    }
    EXPECT_EQ(by_state, 11);  // every goroutine in exactly one state
    gate.close();
  });
}

TEST(RuntimeMetrics, GoroutinesByWaitReasonCountAKnownSetExactly) {
  using gocxx::detail::WaitReason;
  run_joined(4, [] {
    gocxx::Chan<int> recv_gate, send_gate;  // unbuffered
    gocxx::Chan<int> select_gate;
    gocxx::sync::WaitGroup wg;
    wg.add(1);
    gocxx::sync::Mutex mu;
    mu.lock();
    for (int i = 0; i < 3; ++i) go_until_parked(WaitReason::kChanReceive, [recv_gate]() mutable { (void)recv_gate.recv(); });
    for (int i = 0; i < 2; ++i) go_until_parked(WaitReason::kChanSend, [send_gate]() mutable { send_gate.send(1); });
    for (int i = 0; i < 4; ++i) go_until_parked(WaitReason::kSyncWaitGroupWait, [&wg] { wg.wait(); });
    go_until_parked(WaitReason::kSyncMutexLock, [&mu] {
      mu.lock();
      mu.unlock();
    });
    for (int i = 0; i < 2; ++i) {
      go_until_parked(WaitReason::kSelect, [select_gate, recv_gate]() mutable {
        gocxx::select(gocxx::recv_case(select_gate, [](std::optional<int>) {}),
                      gocxx::recv_case(recv_gate, [](std::optional<int>) {}));
      });
    }

    auto check = [](const std::map<std::string, double>& s, bool on_goroutine) {
      EXPECT_EQ(sample(s, goroutines_series("waiting", "chan receive")), 3);
      EXPECT_EQ(sample(s, goroutines_series("waiting", "chan send")), 2);
      EXPECT_EQ(sample(s, goroutines_series("waiting", "sync.WaitGroup.Wait")), 4);
      EXPECT_EQ(sample(s, goroutines_series("waiting", "sync.Mutex.Lock")), 1);
      EXPECT_EQ(sample(s, goroutines_series("waiting", "select")), 2);
      // Every other reason is there with 0: series do not come and go.
      EXPECT_EQ(sample(s, goroutines_series("waiting", "sleep")), 0);
      EXPECT_EQ(sample(s, goroutines_series("waiting", "IO wait")), 0);
      EXPECT_EQ(sample(s, goroutines_series("waiting", "sync.Cond.Wait")), 0);
      EXPECT_EQ(sample(s, goroutines_series("runnable", "")), 0);
      // The main goroutine: running when it scrapes; when a plain thread does, running or
      // already in blocking() (joining the thread).
      EXPECT_EQ(sample(s, goroutines_series("running", "")) + sample(s, goroutines_series("syscall", "")), 1);
      if (on_goroutine) EXPECT_EQ(sample(s, goroutines_series("running", "")), 1);
      EXPECT_EQ(sample(s, "go_goroutines"), 13);
      EXPECT_EQ(s.count("gocxx_sched_run_queue_length{queue=\"global\"}"), on_goroutine ? 1u : 0u);
    };
    check(scrape(), true);
    // The same from a plain thread (an exporter that is not a goroutine). Only the run queues
    // need a goroutine to read them.
    std::map<std::string, double> from_thread;
    std::thread t([&] { from_thread = scrape(); });
    gocxx::test::join(t);
    check(from_thread, false);

    recv_gate.close();  // the receivers and the selects
    (void)send_gate.recv();
    (void)send_gate.recv();
    wg.done();
    mu.unlock();
    select_gate.close();
    join_goroutines();  // before wg and mu go out of scope: their waiters still use them
  });
}

TEST(RuntimeMetrics, RunQueueLengthsSeeQueuedGoroutines) {
  run_joined(1, [] {
    // One P: spawned goroutines wait in its queue until the main goroutine yields.
    auto s = scrape();
    EXPECT_EQ(sample(s, "gocxx_sched_run_queue_length{queue=\"local\"}") +
                  sample(s, "gocxx_sched_run_queue_length{queue=\"global\"}"),
              0);
    std::atomic<int> ran{0};
    for (int i = 0; i < 5; ++i) gocxx::go([&ran] { ran.fetch_add(1); });
    s = scrape();
    // runnext holds the last one spawned; the ring holds the others.
    EXPECT_EQ(sample(s, "gocxx_sched_run_queue_length{queue=\"local\"}") +
                  sample(s, "gocxx_sched_run_queue_length{queue=\"global\"}"),
              4);
    EXPECT_EQ(sample(s, goroutines_series("runnable", "")), 5);
    join_goroutines();
    EXPECT_EQ(ran.load(), 5);
  });
}

TEST(RuntimeMetrics, GoroutinesCreatedTotalCountsSpawns) {
  run_joined(2, [] {
    auto before = scrape();
    double created = sample(before, "gocxx_goroutines_created_total");
    EXPECT_GE(created, 1);  // main at least
    for (int i = 0; i < 25; ++i) gocxx::go([] {});
    join_goroutines();
    auto after = scrape();
    EXPECT_EQ(sample(after, "gocxx_goroutines_created_total"), created + 25);
    // A plain thread reads it from the goroutine records instead: the same number.
    std::map<std::string, double> from_thread;
    std::thread t([&] { from_thread = scrape(); });
    gocxx::test::join(t);
    EXPECT_EQ(sample(from_thread, "gocxx_goroutines_created_total"), created + 25);
  });
}

TEST(RuntimeMetrics, ParkStealAndPollerWaitCountersCountEvents) {
  run_joined(2, [] {
    auto before = scrape();
    // Parks: 20 receivers block on a channel, then a sender wakes them.
    gocxx::Chan<int> c;
    for (int i = 0; i < 20; ++i) gocxx::go([c]() mutable { (void)c.recv(); });
    while (sample(scrape(), goroutines_series("waiting", "chan receive")) < 20) {
      gocxx::yield();
    }
    for (int i = 0; i < 20; ++i) c.send(i);
    join_goroutines();
    auto parked = scrape();
    EXPECT_GE(sample(parked, "gocxx_sched_parks_total"), sample(before, "gocxx_sched_parks_total") + 20);

    // Steals: the main goroutine queues goroutines on its own P and spins without yielding,
    // so only the other P can run them, by stealing (two Ps, no preemption).
    std::atomic<int> ran{0};
    for (int i = 0; i < 8; ++i) gocxx::go([&ran] { ran.fetch_add(1); });
    while (ran.load() < 8) {
    }
    join_goroutines();
    EXPECT_GE(sample(scrape(), "gocxx_sched_steals_total"), sample(parked, "gocxx_sched_steals_total") + 1);

    // Poller waits: a read with nothing to read parks in "IO wait" until the peer writes.
    auto [ln, err] = gocxx::net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(err) << err;
    auto polled_before = sample(scrape(), "gocxx_netpoll_waits_total");
    gocxx::go([ln]() mutable {
      auto [conn, aerr] = ln.accept();
      if (aerr) return;
      while (sample(scrape(), goroutines_series("waiting", "IO wait")) < 1) gocxx::yield();
      (void)conn.write("x");
      (void)conn.close();
    });
    auto [client, derr] = gocxx::net::dial("tcp", ln.addr().string());
    ASSERT_FALSE(derr) << derr;
    char b;
    auto [n, rerr] = client.read({&b, 1});
    EXPECT_EQ(n, 1u) << rerr;
    join_goroutines();
    EXPECT_GE(sample(scrape(), "gocxx_netpoll_waits_total"), polled_before + 1);
    (void)client.close();
    (void)ln.close();
  });
}

TEST(RuntimeMetrics, SocketCountersMoveWithAListener) {
  run_joined(2, [] {
    {
      // The poller's own descriptors (epoll, its wake-up fd) come with the first socket.
      auto [warm, err] = gocxx::net::listen("tcp", "127.0.0.1:0");
      ASSERT_FALSE(err) << err;
      (void)warm.close();
    }
    auto before = scrape();
    auto [ln, err] = gocxx::net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(err) << err;
    auto open = scrape();
    EXPECT_EQ(sample(open, "gocxx_net_sockets_opened_total"),
              sample(before, "gocxx_net_sockets_opened_total") + 1);
    EXPECT_EQ(sample(open, "gocxx_net_sockets_closed_total"),
              sample(before, "gocxx_net_sockets_closed_total"));
    EXPECT_EQ(sample(open, "process_open_fds"), sample(before, "process_open_fds") + 1);

    // A connection: two sockets more (dialed, accepted), then all three closed.
    auto [c, derr] = gocxx::net::dial("tcp", ln.addr().string());
    ASSERT_FALSE(derr) << derr;
    auto [a, aerr] = ln.accept();
    ASSERT_FALSE(aerr) << aerr;
    auto mid = scrape();
    EXPECT_EQ(sample(mid, "gocxx_net_sockets_opened_total"),
              sample(before, "gocxx_net_sockets_opened_total") + 3);
    (void)c.close();
    (void)a.close();
    (void)ln.close();
    auto after = scrape();
    EXPECT_EQ(sample(after, "gocxx_net_sockets_closed_total"),
              sample(before, "gocxx_net_sockets_closed_total") + 3);
    EXPECT_EQ(sample(after, "gocxx_net_sockets_opened_total") -
                  sample(after, "gocxx_net_sockets_closed_total"),
              sample(before, "gocxx_net_sockets_opened_total") -
                  sample(before, "gocxx_net_sockets_closed_total"));
    EXPECT_EQ(sample(after, "process_open_fds"), sample(before, "process_open_fds"));
  });
}

TEST(RuntimeMetrics, WatchdogReportsAreCounted) {
  std::string path = ::testing::TempDir() + "gocxx_metrics_watchdog_" + std::to_string(::getpid()) + ".txt";
  run_joined(2, [&] {
    double before = sample(scrape(), "gocxx_leak_watchdog_reports_total");
    gocxx::Chan<int> gate;
    for (int i = 0; i < 5; ++i) {
      go_until_parked(gocxx::detail::WaitReason::kChanReceive, [gate]() mutable { (void)gate.recv(); });
    }
    {
      gocxx::debug::LeakWatchdog dog(gocxx::debug::WatchdogOptions{
          .threshold = 3, .interval = 2ms, .report_path = path});
      ASSERT_TRUE(gocxx::test::eventually([&] { return dog.stats().reports == 1; }));
    }
    EXPECT_EQ(sample(scrape(), "gocxx_leak_watchdog_reports_total"), before + 1);
    gate.close();
  });
  std::remove(path.c_str());
}

TEST(RuntimeMetrics, AbandonedGoroutinesAreCountedApart) {
  // A run that returns with a goroutine still parked abandons it (as Go does at exit).
  double before = sample(parse(text_of(metrics::default_registry())), "gocxx_goroutines_abandoned");
  gocxx::Chan<int> never;
  run_with(2, [never] {
    go_until_parked(gocxx::detail::WaitReason::kChanReceive, [never]() mutable { (void)never.recv(); });
  });
  auto s = parse(text_of(metrics::default_registry()));  // no run active: from this thread
  EXPECT_EQ(sample(s, "gocxx_goroutines_abandoned"), before + 1);
  EXPECT_EQ(sample(s, "go_goroutines"), 0);
  run_with(2, [] {
    auto s = scrape();
    EXPECT_EQ(sample(s, goroutines_series("waiting", "chan receive")), 0);  // not this run's
    EXPECT_EQ(sample(s, "go_goroutines"), 1);
  });
}

// The scrape of a process with 100k parked goroutines: the goal is < 50 ms (issue 12). Printed
// as a figure; asserted only against a bound far above it, as a busy machine may be slow.
TEST(RuntimeMetrics, ScrapeOf100kParkedGoroutines) {
#if defined(__SANITIZE_THREAD__)
  const int n = 4000;  // TSan counts each live goroutine (a fiber) as a thread: 8128 at most
#else
  const int n = scaled(100000);
#endif
  run_joined(2, [n] {
    gocxx::Chan<int> gate;
    gocxx::sync::WaitGroup started;
    started.add(n);
    for (int i = 0; i < n; ++i) {
      gocxx::go([gate, &started]() mutable {
        started.done();
        (void)gate.recv();
      });
    }
    started.wait();
    while (true) {
      auto s = scrape();
      if (sample(s, goroutines_series("waiting", "chan receive")) == n) break;
      gocxx::yield();
    }
    std::vector<double> ms;
    std::string text;
    for (int i = 0; i < 7; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      std::ostringstream out;
      metrics::write_text(out, metrics::default_registry());
      auto t1 = std::chrono::steady_clock::now();
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      text = out.str();
    }
    std::sort(ms.begin(), ms.end());
    std::printf("scrape of %d parked goroutines: min %.2f ms, median %.2f ms, max %.2f ms "
                "(%zu bytes)\n",
                n, ms.front(), ms[ms.size() / 2], ms.back(), text.size());
    ::testing::Test::RecordProperty("scrape_ms_median", std::to_string(ms[ms.size() / 2]));
    auto s = parse(text);
    EXPECT_EQ(sample(s, goroutines_series("waiting", "chan receive")), n);
    EXPECT_EQ(sample(s, "go_goroutines"), n + 1);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && defined(NDEBUG)
    EXPECT_LT(ms.front(), 500) << "the goal is 50 ms";
#endif
    gate.close();
  });
}
