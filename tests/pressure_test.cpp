// gocxx-pressure's parts, in process (tools/pressure): the HDR-style histogram's error bound,
// the flags, the episode rules, the probe's parsers, the open-loop load generator against slow
// and stalled servers, and the fault-injecting proxy. The whole command against real services
// is pressure_e2e_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include <gocxx/gocxx.hpp>
#include <gocxx/http.hpp>
#include <gocxx/net.hpp>

#include "cli.hpp"
#include "episodes.hpp"
#include "histogram.hpp"
#include "load.hpp"
#include "probe.hpp"
#include "proxy.hpp"
#include "summary.hpp"
#include "test_util.hpp"

namespace {

namespace http = gocxx::http;
namespace net = gocxx::net;
using namespace std::chrono_literals;
using namespace gocxx::pressure;
using ::testing::HasSubstr;

// ---- histogram ---------------------------------------------------------------------------------

// The exact value of the same rank the histogram reports: ceil(p/100 * n), at least 1.
std::uint64_t exact_percentile(std::vector<std::uint64_t> sorted, double p) {
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

void expect_within_bound(const std::vector<std::uint64_t>& values) {
  Histogram h;
  for (auto v : values) h.record(v);
  std::vector<std::uint64_t> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  for (double p : {0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    double exact = static_cast<double>(exact_percentile(sorted, p));
    double got = static_cast<double>(h.percentile(p));
    EXPECT_LE(std::abs(got - exact), exact * Histogram::kRelativeError)
        << "p" << p << ": histogram " << got << ", exact " << exact;
  }
  EXPECT_EQ(h.count(), values.size());
  EXPECT_EQ(h.min(), sorted.front());
  EXPECT_EQ(h.max(), sorted.back());
}

TEST(PressureHistogram, PercentilesWithinTheRelativeErrorOnUniformValues) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<std::uint64_t> d(1, 1'000'000'000);
  std::vector<std::uint64_t> v(100'000);
  for (auto& x : v) x = d(rng);
  expect_within_bound(v);
}

TEST(PressureHistogram, PercentilesWithinTheRelativeErrorOnALongTail) {
  // Latency-like: log-normal around 1 ms with a tail to seconds, plus small exact values.
  std::mt19937_64 rng(2);
  std::lognormal_distribution<double> d(std::log(1e6), 1.5);
  std::vector<std::uint64_t> v;
  for (int i = 0; i < 100'000; ++i) v.push_back(static_cast<std::uint64_t>(d(rng)) + 1);
  for (std::uint64_t small = 0; small < 300; ++small) v.push_back(small);
  expect_within_bound(v);
}

TEST(PressureHistogram, BucketsAreContiguousAndNarrowEnough) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 200'000; ++i) {
    std::uint64_t v = rng() >> (rng() % 64);
    int b = Histogram::bucket_of(v);
    std::uint64_t lo = Histogram::bucket_lowest(b), w = Histogram::bucket_width(b);
    ASSERT_LE(lo, v);
    ASSERT_LE(v - lo, w - 1) << v;
    if (v >= Histogram::kSubBuckets) ASSERT_LE(w * Histogram::kSubBuckets, lo) << v;
    // The next bucket starts where this one ends.
    if (v < UINT64_MAX / 2) ASSERT_EQ(Histogram::bucket_lowest(b + 1), lo + w) << v;
  }
  EXPECT_EQ(Histogram::bucket_of(UINT64_MAX), Histogram::bucket_of(UINT64_MAX - 1));
  Histogram h;
  h.record(UINT64_MAX);
  EXPECT_EQ(h.percentile(50), UINT64_MAX);
}

TEST(PressureHistogram, EmptyAndMerged) {
  Histogram a, b;
  EXPECT_EQ(a.percentile(99), 0u);
  EXPECT_EQ(a.min(), 0u);
  for (std::uint64_t v = 1; v <= 1000; ++v) (v % 2 ? a : b).record(v * 1000);
  a.merge(b);
  EXPECT_EQ(a.count(), 1000u);
  EXPECT_EQ(a.max(), 1'000'000u);
  EXPECT_NEAR(static_cast<double>(a.percentile(50)), 500'000, 500'000 * Histogram::kRelativeError);
  EXPECT_DOUBLE_EQ(a.mean(), 500'500);
}

// ---- flags -------------------------------------------------------------------------------------

Settings parse(std::vector<std::string> args) {
  bool help = false;
  return parse_args(args, &help);
}

TEST(PressureFlags, ValuesParseAsDocumented) {
  EXPECT_DOUBLE_EQ(parse_rate("500"), 500);
  EXPECT_DOUBLE_EQ(parse_rate("500/s"), 500);
  EXPECT_DOUBLE_EQ(parse_rate("30000/m"), 500);
  EXPECT_DOUBLE_EQ(parse_rate("2/ms"), 2000);
  EXPECT_DOUBLE_EQ(parse_rate("5/100ms"), 50);
  EXPECT_EQ(parse_duration("1m30s"), 90s);
  EXPECT_EQ(parse_duration("1.5s"), 1500ms);
  EXPECT_EQ(parse_duration("250ms"), 250ms);
  EXPECT_EQ(parse_duration("0"), 0s);
  EXPECT_DOUBLE_EQ(parse_percent("10%"), 10);
  EXPECT_DOUBLE_EQ(parse_percent("0.5%"), 0.5);
  EXPECT_EQ(format_duration(90s), "1m30s");
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(2h), "2h0m0s");
  EXPECT_EQ(with_port("a {port} b {port}", 81), "a 81 b 81");
  EXPECT_EQ(due_count(100, 3s), 300u);
  EXPECT_EQ(due_count(3, 500ms), 2u);  // due at 0 and 1/3 s
}

TEST(PressureFlags, ASettingsLineUp) {
  Settings s = parse({"--target", "http://127.0.0.1:8080/work", "--rate=500/s", "-duration", "60s",
                      "--jitter", "10%", "--threshold", "5000", "--report", "out"});
  EXPECT_EQ(s.target, "http://127.0.0.1:8080/work");
  EXPECT_DOUBLE_EQ(s.rate, 500);
  EXPECT_EQ(s.duration, 60s);
  EXPECT_EQ(s.report_dir, "out");
  EXPECT_EQ(s.faults_spec(), "latency=10ms,jitter=10%");  // jitter alone varies 10ms
  EXPECT_NO_THROW(net::Faults::parse(s.faults_spec()));
  Settings t = parse(
      {"--target", "http://h:1/", "--latency", "20ms", "--jitter", "5%", "--faults", "reset=0.1%"});
  EXPECT_EQ(t.faults_spec(), "latency=20ms,jitter=5%,reset=0.1%");
  Settings u = parse({"--exec", "./svc --port {port}"});
  EXPECT_EQ(u.target, "http://127.0.0.1:{port}/");
  Settings v = parse({"--target", "http://127.0.0.1:{port}/w", "--", "./svc", "{port}"});
  EXPECT_THAT(v.argv, ::testing::ElementsAre("./svc", "{port}"));
}

TEST(PressureFlags, BadInputNamesTheFlag) {
  auto error_of = [](std::vector<std::string> args) -> std::string {
    try {
      parse(std::move(args));
    } catch (const UsageError& e) {
      return e.what();
    }
    return "(no error)";
  };
  std::string t = "http://127.0.0.1:1/";
  EXPECT_THAT(error_of({"--target", t, "--bogus", "1"}),
              HasSubstr("flag provided but not defined: -bogus"));
  EXPECT_THAT(error_of({"--target", t, "--rate", "fast"}), HasSubstr("--rate"));
  EXPECT_THAT(error_of({"--target", t, "--rate", "0/s"}), HasSubstr("must be > 0"));
  EXPECT_THAT(error_of({"--target", t, "--rate", "10/fortnight"}), HasSubstr("unknown period"));
  EXPECT_THAT(error_of({"--target", t, "--duration", "60"}), HasSubstr("missing unit"));
  EXPECT_THAT(error_of({"--target", t, "--duration", "0s"}), HasSubstr("want a duration > 0"));
  EXPECT_THAT(error_of({"--target", t, "--jitter", "150%"}), HasSubstr("out of range"));
  EXPECT_THAT(error_of({"--target", t, "--jitter", "10"}), HasSubstr("like 10%"));
  EXPECT_THAT(error_of({"--target", t, "--threshold", "-1"}), HasSubstr("--threshold"));
  EXPECT_THAT(error_of({"--target", t, "--threshold", "0"}), HasSubstr("enable a leak trigger"));
  EXPECT_THAT(error_of({"--target", t, "--trace-seconds", "61"}), HasSubstr("from 0 to 60"));
  EXPECT_THAT(error_of({"--target", t, "--count-from", "ps"}), HasSubstr("auto, pprof or metrics"));
  EXPECT_THAT(error_of({"--target", "ftp://x/"}), HasSubstr("http://"));
  EXPECT_THAT(error_of({"--rate", "5"}), HasSubstr("--target is required"));
  EXPECT_THAT(error_of({"--target", "http://127.0.0.1:{port}/"}),
              HasSubstr("needs a target program"));
  EXPECT_THAT(error_of({"--exec", "x", "--", "y"}), HasSubstr("not both"));
  EXPECT_THAT(error_of({"--target", t, "--rate"}), HasSubstr("flag needs an argument"));
  EXPECT_THAT(error_of({"--target", t, "stray"}), HasSubstr("unexpected argument"));
}

// ---- episodes ----------------------------------------------------------------------------------

TEST(PressureEpisodes, ThresholdOncePerEpisodeWithHysteresis) {
  EpisodeDetector d({.threshold = 100, .hysteresis = 0.9});
  EXPECT_FALSE(d.observe(50, 0));
  auto first = d.observe(101, 1);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, "threshold: 101 goroutines > 100");
  EXPECT_FALSE(d.observe(150, 2));  // the same episode
  EXPECT_FALSE(d.observe(95, 3));   // above 90: still on
  EXPECT_TRUE(d.in_episode());
  EXPECT_FALSE(d.observe(90, 4));  // at 90: over
  EXPECT_FALSE(d.in_episode());
  EXPECT_TRUE(d.observe(120, 5));  // a new episode
}

TEST(PressureEpisodes, GrowthSustainedOverKIntervals) {
  EpisodeDetector d({.threshold = 0, .growth_per_second = 10, .growth_samples = 3});
  EXPECT_FALSE(d.observe(0, 0));
  EXPECT_FALSE(d.observe(20, 1));
  EXPECT_FALSE(d.observe(40, 2));
  auto r = d.observe(60, 3);  // three intervals of +20/s
  ASSERT_TRUE(r);
  EXPECT_THAT(*r, HasSubstr("growth: 0 -> 60 goroutines in 3 intervals"));
  EXPECT_FALSE(d.observe(61, 4));  // slower: the episode lasts 3 quiet intervals
  EXPECT_FALSE(d.observe(61, 5));
  EXPECT_TRUE(d.in_episode());
  EXPECT_FALSE(d.observe(61, 6));
  EXPECT_FALSE(d.in_episode());
  EpisodeDetector bursty({.threshold = 0, .growth_per_second = 10, .growth_samples = 3});
  for (int i = 0; i < 20; ++i)
    EXPECT_FALSE(bursty.observe(i % 2 ? 100 : 0, i)) << i;  // up and down
}

// An HTTP server on loopback for the duration of a test, with a handler of the test's.
class LocalServer {
 public:
  explicit LocalServer(http::HandlerFunc handler, bool debug_handlers = false) {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    EXPECT_FALSE(err);
    addr_ = ln.addr().string();
    mux_.handle_func("/", std::move(handler));
    if (debug_handlers) gocxx::debug::register_handlers(mux_);
    srv_.handler = mux_;
    gocxx::go([this, ln]() mutable {
      (void)srv_.serve(ln);
      done_.close();
    });
  }
  ~LocalServer() {
    (void)srv_.close();
    done_.recv();
  }
  std::string addr() const { return addr_; }
  std::string url() const { return "http://" + addr_ + "/"; }

 private:
  std::string addr_;
  http::ServeMux mux_;
  http::Server srv_;
  gocxx::Chan<int> done_;
};

// ---- probe parsers -----------------------------------------------------------------------------

TEST(PressureProbe, ParsesGoAndGocxxCounts) {
  EXPECT_EQ(parse_pprof_total("goroutine profile: total 5003\n5000 @ 0x1 0x2\n"), 5003);
  EXPECT_EQ(parse_pprof_total("goroutine profile: total 7"), 7);
  EXPECT_FALSE(parse_pprof_total("goroutine 1 [running]:\n"));
  EXPECT_FALSE(parse_pprof_total("goroutine profile: total x\n"));
  std::string metrics =
      "# HELP go_goroutines Number of goroutines that currently exist.\n"
      "# TYPE go_goroutines gauge\ngo_goroutines_total 1\ngo_goroutines 42\n";
  EXPECT_EQ(parse_metric(metrics, "go_goroutines"), 42);
  EXPECT_EQ(parse_metric("go_goroutines 1e3 1700000000000\n", "go_goroutines"), 1000);
  EXPECT_FALSE(parse_metric("go_threads 3\n", "go_goroutines"));
}

TEST(PressureProbe, ReadsTheCountFromAGocxxServiceAndFallsBackToMetrics) {
  gocxx::test::run_with(2, [] {
    LocalServer full([](http::ResponseWriter& w, http::Request& r) { http::not_found(w, r); },
                     true);
    LocalServer metrics_only([](http::ResponseWriter& w, http::Request& r) {
      if (r.url.path != "/metrics") return http::not_found(w, r);
      (void)w.write("go_goroutines 17\n");
    });
    Probe p("http://" + full.addr() + "/anything", CountSource::automatic, 5s);
    auto [n, err] = p.goroutines();
    ASSERT_FALSE(err) << err;
    EXPECT_GE(n, 3);  // main and the two servers' accept loops
    EXPECT_EQ(p.source_name(), "pprof");
    Probe q("http://" + metrics_only.addr(), CountSource::automatic, 5s);
    auto [m, merr] = q.goroutines();
    ASSERT_FALSE(merr) << merr;
    EXPECT_EQ(m, 17);
    EXPECT_EQ(q.source_name(), "metrics");
    Probe pprof_only("http://" + metrics_only.addr(), CountSource::pprof, 5s);
    EXPECT_THAT(pprof_only.goroutines().err.message(), HasSubstr("404 Not Found"));
  });
}

// ---- load generator ----------------------------------------------------------------------------

LoadStats run_load(LoadOptions o) {
  LoadGenerator load(std::move(o));
  load.run(gocxx::context::background());
  return load.stats();
}

TEST(PressureLoad, OpenLoopSendsRateTimesDurationAgainstASlowHandler) {
  gocxx::test::run_with(4, [] {
    LocalServer srv([](http::ResponseWriter& w, http::Request&) {
      gocxx::time::sleep(20ms);
      (void)w.write("slow");
    });
    LoadStats s = run_load({.url = srv.url(), .rate = 100, .duration = 1s, .timeout = 30s});
    EXPECT_EQ(s.scheduled, 100u);
    EXPECT_EQ(s.completed, 100u);
    EXPECT_EQ(s.ok, 100u) << "errors: " << (s.errors.empty() ? "" : s.errors.begin()->first);
    EXPECT_EQ(s.latency.count(), 100u);
    EXPECT_GE(s.latency.min(), 20'000'000u * (1 - Histogram::kRelativeError));
    EXPECT_EQ(s.in_flight, 0);
  });
}

TEST(PressureLoad, LatencyIncludesTheTimeRequestsQueuedBehindAStall) {
  // The server holds every request until `stall` after the first one arrived. An open-loop
  // generator keeps sending during the stall (a closed-loop one would wait), and the first
  // request's latency, from its due time, is at least the stall.
  static constexpr auto stall = 400ms;
  gocxx::test::run_with(4, [] {
    gocxx::Chan<int> gate;
    std::atomic<bool> first{true};
    LocalServer srv([&](http::ResponseWriter& w, http::Request&) {
      if (first.exchange(false)) gocxx::time::after_func(stall, [gate]() mutable { gate.close(); });
      gate.recv();
      (void)w.write("late");
    });
    LoadStats s = run_load({.url = srv.url(), .rate = 50, .duration = 1s, .timeout = 30s});
    EXPECT_EQ(s.scheduled, 50u);
    EXPECT_EQ(s.ok, 50u);
    EXPECT_GE(s.latency.max(), std::chrono::nanoseconds(stall).count());
    EXPECT_GE(s.latency.percentile(100),
              std::chrono::nanoseconds(stall).count() * (1 - Histogram::kRelativeError));
    EXPECT_GT(s.max_in_flight, 1) << "requests due during the stall were sent without waiting";
  });
}

TEST(PressureLoad, CountsErrorsByKindAndTheInFlightLimit) {
  gocxx::test::run_with(2, [] {
    gocxx::Chan<int> gate;  // holds the requests to "/" until all 20 are due
    LocalServer srv([gate](http::ResponseWriter& w, http::Request& r) mutable {
      if (r.url.path == "/fail")
        return http::error_reply(w, "no", http::status_service_unavailable);
      gate.recv();
    });
    EXPECT_EQ(run_load({.url = srv.url() + "fail", .rate = 100, .duration = 200ms})
                  .errors["HTTP 503 Service Unavailable"],
              20u);
    LoadGenerator limited({.url = srv.url(), .rate = 100, .duration = 200ms, .max_in_flight = 5});
    gocxx::go([&limited, gate]() mutable {
      while (limited.stats().scheduled < 20) gocxx::time::sleep(5ms);
      gate.close();
    });
    limited.run(gocxx::context::background());
    LoadStats s = limited.stats();
    EXPECT_EQ(s.scheduled, 20u);
    EXPECT_EQ(s.ok, 5u);
    EXPECT_EQ(s.errors["in-flight limit"], 15u);
    auto [refused, err] = net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(err);
    std::string gone = "http://" + refused.addr().string() + "/";
    (void)refused.close();
    EXPECT_EQ(run_load({.url = gone, .rate = 100, .duration = 100ms}).errors["connection refused"],
              10u);
  });
}

// ---- proxy -------------------------------------------------------------------------------------

// A server that reads a connection to its end (the client's half close), then writes all it
// read back and closes: both directions and the forwarded half close, through the proxy.
class ReplyServer {
 public:
  ReplyServer() {
    auto [ln, err] = net::listen("tcp", "127.0.0.1:0");
    EXPECT_FALSE(err);
    ln_ = ln;
    wg_.add(1);
    gocxx::go([this] {
      for (auto r = ln_.accept(); !r.err; r = ln_.accept()) {
        wg_.add(1);
        gocxx::go([this, c = r.value]() mutable {
          std::string got = read_to_end(c);
          (void)c.write(got);
          (void)c.close();
          wg_.done();
        });
      }
      wg_.done();
    });
  }
  ~ReplyServer() {
    (void)ln_.close();
    wg_.wait();
  }
  std::string addr() const { return ln_.addr().string(); }

  static std::string read_to_end(net::Conn& c) {
    std::string out;
    char buf[8192];
    for (;;) {
      auto [n, err] = c.read(buf);
      out.append(buf, n);
      if (err) return out;
    }
  }

 private:
  net::Listener ln_;
  gocxx::sync::WaitGroup wg_;
};

TEST(PressureProxy, BytesPassIntactBothWays) {
  gocxx::test::run_with(2, [] {
    ReplyServer upstream;
    auto proxy = Proxy::start("127.0.0.1:0", upstream.addr(), net::Faults{});
    auto [c, err] = net::dial("tcp", proxy->addr());
    ASSERT_FALSE(err);
    std::string sent(1 << 20, '\0');
    std::mt19937 rng(4);
    for (auto& ch : sent) ch = static_cast<char>(rng());
    ASSERT_FALSE(c.write(sent).err);
    ASSERT_FALSE(c.close_write());  // forwarded: the server then replies and closes
    std::string got = ReplyServer::read_to_end(c);
    EXPECT_EQ(got.size(), sent.size());
    EXPECT_TRUE(got == sent) << "the bytes changed on the way";
    (void)c.close();
    proxy->close();
    ProxyStats s = proxy->stats();
    EXPECT_EQ(s.accepted, 1u);
    EXPECT_EQ(s.bytes_up, sent.size());
    EXPECT_EQ(s.bytes_down, sent.size());
    EXPECT_EQ(s.broken, 0u);
    EXPECT_EQ(s.open, 0);
  });
}

TEST(PressureProxy, LatencyFaultDelaysEveryRequest) {
  gocxx::test::run_with(2, [] {
    LocalServer srv([](http::ResponseWriter& w, http::Request&) { (void)w.write("ok"); });
    auto proxy = Proxy::start("127.0.0.1:0", srv.addr(), net::Faults::parse("latency=50ms"));
    LoadStats s = run_load({.url = "http://" + proxy->addr() + "/", .rate = 20, .duration = 500ms});
    EXPECT_EQ(s.ok, 10u);
    // The request's bytes are read through the faulted side once at least.
    EXPECT_GE(s.latency.min(), 50'000'000u * (1 - Histogram::kRelativeError));
    proxy->close();
  });
}

TEST(PressureProxy, ResetFaultGivesErrorsCountedInTheReport) {
  char dir[] = "/tmp/gocxx-pressure-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  gocxx::test::run_with(2, [&] {
    LocalServer srv([](http::ResponseWriter& w, http::Request&) { (void)w.write("ok"); });
    auto proxy = Proxy::start("127.0.0.1:0", srv.addr(), net::Faults::parse("reset=100%,seed=1"));
    Outcome o;
    o.settings.report_dir = dir;
    o.settings.target = "http://" + srv.addr() + "/";
    o.load = run_load({.url = "http://" + proxy->addr() + "/", .rate = 50, .duration = 400ms});
    o.proxy = proxy->stats();
    o.faults = "reset=100%";
    proxy->close();
    EXPECT_EQ(o.load.scheduled, 20u);
    EXPECT_EQ(o.load.failed, 20u) << "every connection is reset";
    EXPECT_EQ(o.load.ok, 0u);
    ASSERT_FALSE(o.load.errors.empty());
    EXPECT_GT(o.proxy.broken, 0u);
    Verdict v = write_report(o);
    EXPECT_EQ(v.exit_code, kExitClean);  // faults are no leak
    std::ifstream in(std::string(dir) + "/report.md");
    std::string md((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_THAT(md, HasSubstr("reset=100%"));
    for (const auto& [kind, n] : o.load.errors) EXPECT_THAT(md, HasSubstr(kind));
    EXPECT_THAT(md, HasSubstr("Errors by kind"));
  });
  std::filesystem::remove_all(dir);
}

}  // namespace
