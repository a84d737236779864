// The leak watchdog: one report per episode (threshold crossing, sustained growth) naming the
// top creation site with its count and wait reason; counters; stop(); the environment.
#include <gocxx/debug.hpp>
#include <gocxx/watchdog.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <unistd.h>

#include "diag/watchdog.hpp"
#include "test_util.hpp"

using namespace std::chrono_literals;
using gocxx::Chan;
using gocxx::debug::LeakWatchdog;
using gocxx::debug::WatchdogOptions;
using gocxx::debug::WatchdogStats;
using gocxx::debug::WatchdogTrigger;
using gocxx::test::eventually;
using gocxx::test::join_goroutines;
using gocxx::test::run_with;

namespace wdtest {

[[gnu::noinline]] void wait_at_gate(Chan<int> gate, std::atomic<int>& passed) {
  gate.recv();
  passed.fetch_add(1);
}

// The creation site the reports must name. go() is not its last act (no tail call).
[[gnu::noinline]] void spawn_waiters(Chan<int> gate, std::atomic<int>& passed, int n) {
  for (int i = 0; i < n; ++i) gocxx::go(wait_at_gate, gate, std::ref(passed));
  passed.fetch_add(0);
}

}  // namespace wdtest

namespace {

// Goroutines of this run parked at the gate.
int parked_at_gate() {
  int n = 0;
  for (const auto& g : gocxx::debug::goroutines()) {
    if (!g.abandoned && g.wait_reason == "chan receive" &&
        g.created_by.function == "wdtest::spawn_waiters") {
      ++n;
    }
  }
  return n;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int count_of(const std::string& text, const std::string& part) {
  int n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

// A fresh report file per test.
class Watchdog : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "gocxx_watchdog_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".txt";
    std::remove(path_.c_str());
  }
  void TearDown() override { std::remove(path_.c_str()); }

  WatchdogOptions threshold_options(int threshold) const {
    WatchdogOptions o;
    o.threshold = threshold;
    o.interval = 2ms;
    o.report_path = path_;
    return o;
  }

  std::string path_;
};

}  // namespace

TEST_F(Watchdog, ThresholdCrossingWritesOneReportPerEpisode) {
  run_with(2, [&] {
    Chan<int> gate;
    std::atomic<int> passed{0};
    wdtest::spawn_waiters(gate, passed, 100);
    ASSERT_TRUE(eventually([] { return parked_at_gate() == 100; }));

    LeakWatchdog dog(threshold_options(50));
    ASSERT_TRUE(eventually([&] { return dog.stats().reports == 1; }));
    // The episode goes on: more samples, no second report.
    std::uint64_t samples = dog.stats().samples;
    ASSERT_TRUE(eventually([&] { return dog.stats().samples >= samples + 10; }));
    WatchdogStats s = dog.stats();
    EXPECT_EQ(s.reports, 1u);
    EXPECT_TRUE(s.in_episode);
    EXPECT_TRUE(s.running);
    EXPECT_EQ(s.last_trigger, WatchdogTrigger::threshold);
    EXPECT_EQ(s.last_trigger_reason, "threshold: 101 goroutines > 50");
    EXPECT_EQ(s.current, 101);
    EXPECT_EQ(s.peak, 101);

    // The goroutines go away: the episode ends, with no further report.
    gate.close();
    join_goroutines();
    ASSERT_TRUE(eventually([&] { return !dog.stats().in_episode; }));
    EXPECT_EQ(dog.stats().reports, 1u);
    EXPECT_EQ(passed.load(), 100);

    // They come back: a second episode, a second report.
    Chan<int> gate2;
    wdtest::spawn_waiters(gate2, passed, 100);
    ASSERT_TRUE(eventually([&] { return dog.stats().reports == 2; }));
    gate2.close();
    join_goroutines();
    dog.stop();
    EXPECT_EQ(dog.stats().reports, 2u);
  });

  std::string text = read_file(path_);
  EXPECT_EQ(count_of(text, "==== gocxx leak watchdog report "), 2) << text;
  EXPECT_EQ(count_of(text, "==== end of gocxx leak watchdog report "), 2) << text;
  std::string first = text.substr(0, text.find("==== gocxx leak watchdog report 2 "));
  EXPECT_TRUE(std::regex_search(
      first, std::regex(R"(^==== gocxx leak watchdog report 1 at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(pid \d+\) ====\n)")))
      << first;
  EXPECT_NE(first.find("trigger: threshold: 101 goroutines > 50\n"), std::string::npos) << first;
  EXPECT_NE(first.find("goroutines: 101 (peak 101); threshold 50; growth limit off"),
            std::string::npos)
      << first;
  // The top creation site by count: its count, then its goroutines' wait reason.
  std::regex top_site(
      R"(top creation sites by count:\n +count +growth +created by\n +100 +[+-]\d+ +wdtest::spawn_waiters at [^\n]*watchdog_test\.cpp:\d+\n +100 chan receive; oldest wait \d+\.\ds\n)");
  EXPECT_TRUE(std::regex_search(first, top_site)) << first;
  EXPECT_NE(first.find("goroutine profile: total 101\n100 @"), std::string::npos) << first;
  EXPECT_NE(first.find("wdtest::wait_at_gate"), std::string::npos) << first;
}

TEST_F(Watchdog, NoReportBelowThreshold) {
  run_with(2, [&] {
    Chan<int> gate;
    std::atomic<int> passed{0};
    wdtest::spawn_waiters(gate, passed, 10);
    LeakWatchdog dog(threshold_options(1000));
    ASSERT_TRUE(eventually([&] { return parked_at_gate() == 10 && dog.stats().samples >= 20; }));
    WatchdogStats s = dog.stats();
    EXPECT_EQ(s.reports, 0u);
    EXPECT_FALSE(s.in_episode);
    EXPECT_EQ(s.last_trigger, WatchdogTrigger::none);
    EXPECT_EQ(s.peak, 11);
    gate.close();
    join_goroutines();
  });
  EXPECT_EQ(read_file(path_), "");
}

TEST_F(Watchdog, SustainedGrowthTriggersAReport) {
  run_with(2, [&] {
    WatchdogOptions o;
    o.growth_per_second = 1;  // any steady growth
    o.growth_samples = 3;
    o.interval = 5ms;
    o.report_path = path_;
    LeakWatchdog dog(o);
    Chan<int> gate;
    std::atomic<int> passed{0};
    int spawned = 0;
    while (dog.stats().reports == 0 && spawned < 100000) {
      wdtest::spawn_waiters(gate, passed, 1);  // a leak that keeps growing
      ++spawned;
      gocxx::time::sleep(1ms);
    }
    WatchdogStats s = dog.stats();
    EXPECT_EQ(s.reports, 1u);
    EXPECT_EQ(s.last_trigger, WatchdogTrigger::growth);
    EXPECT_EQ(s.last_trigger_reason.rfind("growth: ", 0), 0u) << s.last_trigger_reason;
    gate.close();
    join_goroutines();
    ASSERT_TRUE(eventually([&] { return !dog.stats().in_episode; }));  // 3 quiet intervals
    EXPECT_EQ(dog.stats().reports, 1u);
    EXPECT_EQ(passed.load(), spawned);
  });
  std::string text = read_file(path_);
  EXPECT_EQ(count_of(text, "==== gocxx leak watchdog report "), 1) << text;
  EXPECT_NE(text.find("trigger: growth: "), std::string::npos) << text;
  EXPECT_NE(text.find("growth limit 1/s over 3 samples"), std::string::npos) << text;
  // The growing site leads the growth table, counted from the watchdog's start.
  std::regex grown(
      R"(top creation sites by growth since the watchdog started:\n +count +growth +created by\n +(\d+) +\+(\d+) +wdtest::spawn_waiters at )");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(text, m, grown)) << text;
  EXPECT_EQ(m[1], m[2]);  // none existed at the start
}

TEST_F(Watchdog, StatsTrackCurrentAndPeak) {
  run_with(2, [&] {
    LeakWatchdog dog(threshold_options(1000));
    Chan<int> gate;
    std::atomic<int> passed{0};
    wdtest::spawn_waiters(gate, passed, 30);
    ASSERT_TRUE(eventually([&] { return dog.stats().current == 31; }));
    gate.close();
    join_goroutines();
    ASSERT_TRUE(eventually([&] { return dog.stats().current == 1; }));
    WatchdogStats s = dog.stats();
    EXPECT_EQ(s.peak, 31);
    EXPECT_GE(s.samples, 2u);
    EXPECT_EQ(s.reports, 0u);
  });
}

TEST_F(Watchdog, StopJoinsAndIsIdempotent) {
  LeakWatchdog dog(threshold_options(1000));
  ASSERT_TRUE(eventually([&] { return dog.stats().samples >= 3; }));
  EXPECT_TRUE(dog.stats().running);
  dog.stop();
  WatchdogStats s = dog.stats();
  EXPECT_FALSE(s.running);
  std::this_thread::yield();
  EXPECT_EQ(dog.stats().samples, s.samples);  // the thread is gone
  dog.stop();
  EXPECT_EQ(s.current, 0);  // sampled outside any run
}

TEST_F(Watchdog, DestructorStopsARunningWatchdog) {
  auto dog = std::make_unique<LeakWatchdog>(threshold_options(1000));
  ASSERT_TRUE(eventually([&] { return dog->stats().samples >= 1; }));
  dog.reset();  // joins (a leaked thread would make TSan and the deadlock detector complain)
  SUCCEED();
}

TEST(WatchdogOptionsTest, InvalidOptionsThrow) {
  auto make = [](auto change) {
    WatchdogOptions o;
    o.threshold = 10;
    change(o);
    return [o] { LeakWatchdog dog(o); };
  };
  EXPECT_THROW(make([](WatchdogOptions& o) { o.threshold = -1; })(), std::invalid_argument);
  EXPECT_THROW(make([](WatchdogOptions& o) { o.threshold = 0; })(), std::invalid_argument);
  EXPECT_THROW(make([](WatchdogOptions& o) { o.growth_per_second = -1; })(),
               std::invalid_argument);
  EXPECT_THROW(make([](WatchdogOptions& o) { o.growth_per_second = NAN; })(),
               std::invalid_argument);
  EXPECT_THROW(make([](WatchdogOptions& o) { o.interval = 0ms; })(), std::invalid_argument);
  EXPECT_THROW(make([](WatchdogOptions& o) { o.hysteresis = 0; })(), std::invalid_argument);
  EXPECT_THROW(make([](WatchdogOptions& o) { o.growth_samples = 0; })(), std::invalid_argument);
  EXPECT_THROW(make([](WatchdogOptions& o) { o.top_sites = 0; })(), std::invalid_argument);
  EXPECT_NO_THROW(make([](WatchdogOptions&) {})());
}

// ---- the environment ---------------------------------------------------------------------------

namespace {

const char* const kVars[] = {"GOCXX_LEAK_THRESHOLD", "GOCXX_LEAK_GROWTH",
                             "GOCXX_LEAK_GROWTH_SAMPLES", "GOCXX_LEAK_INTERVAL_MS",
                             "GOCXX_LEAK_REPORT"};

class WatchdogEnv : public Watchdog {
 protected:
  void SetUp() override {
    Watchdog::SetUp();
    for (const char* v : kVars) ::unsetenv(v);
  }
  void TearDown() override {
    gocxx::debug::stop_leak_watchdog();
    for (const char* v : kVars) ::unsetenv(v);
    Watchdog::TearDown();
  }
};

// The message the env check writes to stderr, and whether it started a watchdog.
std::pair<std::string, bool> start_from_env() {
  ::testing::internal::CaptureStderr();
  bool started = gocxx::diag::start_watchdog_from_env_now();
  return {::testing::internal::GetCapturedStderr(), started};
}

}  // namespace

TEST_F(WatchdogEnv, ParsesTheVariables) {
  EXPECT_FALSE(gocxx::debug::watchdog_options_from_env().has_value());
  ::setenv("GOCXX_LEAK_THRESHOLD", "5000", 1);
  ::setenv("GOCXX_LEAK_GROWTH", "250.5", 1);
  ::setenv("GOCXX_LEAK_GROWTH_SAMPLES", "7", 1);
  ::setenv("GOCXX_LEAK_INTERVAL_MS", "100", 1);
  ::setenv("GOCXX_LEAK_REPORT", "/tmp/leaks.txt", 1);
  auto o = gocxx::debug::watchdog_options_from_env();
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->threshold, 5000);
  EXPECT_EQ(o->growth_per_second, 250.5);
  EXPECT_EQ(o->growth_samples, 7);
  EXPECT_EQ(o->interval, 100ms);
  EXPECT_EQ(o->report_path, "/tmp/leaks.txt");
}

TEST_F(WatchdogEnv, BadValuesAreReportedAndStartNothing) {
  struct Case {
    const char* var;
    const char* value;
  };
  for (Case c : {Case{"GOCXX_LEAK_THRESHOLD", "lots"}, Case{"GOCXX_LEAK_THRESHOLD", "0"},
                 Case{"GOCXX_LEAK_THRESHOLD", "12x"}, Case{"GOCXX_LEAK_GROWTH", "-3"},
                 Case{"GOCXX_LEAK_GROWTH", "inf"}}) {
    ::setenv(c.var, c.value, 1);
    std::string expected = std::string("invalid ") + c.var + "=" + c.value;
    try {
      gocxx::debug::watchdog_options_from_env();
      ADD_FAILURE() << c.var << "=" << c.value << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
    auto [message, started] = start_from_env();
    EXPECT_FALSE(started);
    EXPECT_NE(message.find(expected), std::string::npos) << message;
    EXPECT_NE(message.find("leak watchdog not started"), std::string::npos) << message;
    EXPECT_FALSE(gocxx::debug::leak_watchdog_stats().running);
    ::unsetenv(c.var);
  }
  // A report file without a trigger is a mistake too.
  ::setenv("GOCXX_LEAK_REPORT", path_.c_str(), 1);
  auto [message, started] = start_from_env();
  EXPECT_FALSE(started);
  EXPECT_NE(message.find("GOCXX_LEAK_REPORT is set, but neither"), std::string::npos) << message;
  ::setenv("GOCXX_LEAK_THRESHOLD", "5", 1);
  ::setenv("GOCXX_LEAK_INTERVAL_MS", "0", 1);
  std::tie(message, started) = start_from_env();
  EXPECT_FALSE(started);
  EXPECT_NE(message.find("invalid GOCXX_LEAK_INTERVAL_MS=0"), std::string::npos) << message;
}

TEST_F(WatchdogEnv, EnvironmentStartsTheProcessWatchdogWhichReportsToTheFile) {
  ::setenv("GOCXX_LEAK_THRESHOLD", "50", 1);
  ::setenv("GOCXX_LEAK_INTERVAL_MS", "2", 1);
  ::setenv("GOCXX_LEAK_REPORT", path_.c_str(), 1);
  auto [message, started] = start_from_env();
  ASSERT_TRUE(started) << message;
  EXPECT_EQ(message, "");
  EXPECT_TRUE(gocxx::debug::leak_watchdog_stats().running);
  run_with(2, [&] {
    Chan<int> gate;
    std::atomic<int> passed{0};
    wdtest::spawn_waiters(gate, passed, 60);
    ASSERT_TRUE(eventually([] { return gocxx::debug::leak_watchdog_stats().reports == 1; }));
    EXPECT_EQ(gocxx::debug::leak_watchdog_stats().last_trigger, WatchdogTrigger::threshold);
    gate.close();
    join_goroutines();
  });
  gocxx::debug::stop_leak_watchdog();
  EXPECT_FALSE(gocxx::debug::leak_watchdog_stats().running);
  std::string text = read_file(path_);
  EXPECT_EQ(count_of(text, "==== gocxx leak watchdog report 1 at "), 1) << text;
  EXPECT_NE(text.find("wdtest::spawn_waiters at "), std::string::npos) << text;
}
