// The flight recorder (gocxx/trace.hpp): a bounded ring that keeps the latest window under a
// busy workload, windows cut while many threads record, and every trigger (the API, SIGUSR2,
// the HTTP endpoint, the leak watchdog) writing valid Chrome Trace JSON (trace_check.hpp).
// Times are compared only with generous slack; nothing asserts a duration.
#include <gocxx/http.hpp>
#include <gocxx/trace.hpp>
#include <gocxx/watchdog.hpp>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>

#include "test_util.hpp"
#include "trace_check.hpp"

using namespace std::chrono_literals;
using gocxx::Chan;
using gocxx::test::check_trace;
using gocxx::test::eventually;
using gocxx::test::load_and_check;
using gocxx::test::run_with;
using gocxx::test::Trace;
using gocxx::trace::FlightRecorderOptions;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace frtest {

// Creation sites that the windows must (or must not) name.
[[gnu::noinline]] void start_busy_echo(Chan<int> ping, Chan<int> pong) {
  gocxx::go([ping, pong]() mutable {
    for (int v : ping) pong.send(v);
    pong.close();
  });
}

[[gnu::noinline]] void spawn_short(Chan<int> done) {
  gocxx::go([done]() mutable { done.send(1); });
}

// A goroutine that runs and exits now, created by a function of this name.
[[gnu::noinline]] void mark() {
  Chan<int> done;
  gocxx::go([done]() mutable { done.send(1); });
  done.recv();
}

}  // namespace frtest

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A fresh directory for one test's files.
std::string temp_dir(const std::string& name) {
  const char* tmp = std::getenv("TMPDIR");
  fs::path dir = fs::path(tmp && *tmp ? tmp : "/tmp") /
                 ("gocxx_flight_test_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// Channel ping-pong pairs and a spawner of short-lived goroutines, across the run's Ps, until
// stop(), which waits until each has finished its work.
class Busy {
 public:
  explicit Busy(int pairs) {
    for (int i = 0; i < pairs; ++i) {
      Chan<int> ping, pong;
      frtest::start_busy_echo(ping, pong);
      wg_.add(1);
      gocxx::go([this, ping, pong]() mutable {
        while (!stop_.load(std::memory_order_relaxed)) {
          ping.send(1);
          pong.recv();
        }
        ping.close();
        while (pong.recv()) {  // until the echo is done
        }
        wg_.done();
      });
    }
    wg_.add(1);
    gocxx::go([this] {
      Chan<int> done;
      while (!stop_.load(std::memory_order_relaxed)) {
        frtest::spawn_short(done);
        done.recv();
      }
      wg_.done();
    });
  }
  void stop() {
    stop_.store(true);
    wg_.wait();
  }

 private:
  std::atomic<bool> stop_{false};
  gocxx::sync::WaitGroup wg_;
};

// The least allowed: a window of a busy program is quick to write and check.
constexpr std::size_t kMaxBytes = 1 << 20;

Trace window_now() {
  std::ostringstream out;
  gocxx::trace::write_flight_recorder(out);
  return check_trace(out.str(), "a flight recorder window");
}

// ---- the ring ---------------------------------------------------------------------------------

// Ten seconds of a busy workload with a 1 MiB ring: the memory stays within max_bytes, a
// window cut midway (while every P records) and one at the end hold the latest events only.
TEST(FlightRecorder, KeepsTheLatestWindowInBoundedMemoryUnderABusyWorkload) {
  run_with(4, [] {
    std::int64_t begin = now_ns();
    gocxx::trace::start_flight_recorder({.min_age = 1s, .max_bytes = kMaxBytes});
    frtest::mark();
    Busy busy(3);
    std::size_t most = 0;
    bool checked_midway = false;
    while (now_ns() - begin < 10'000'000'000) {
      gocxx::time::sleep(100ms);
      most = std::max(most, gocxx::trace::flight_recorder_stats().bytes);
      if (!checked_midway && now_ns() - begin > 5'000'000'000) {
        checked_midway = true;
        Trace t = window_now();
        EXPECT_FALSE(t.with("X").empty());
        EXPECT_GT(t.overwritten, 0u);
        EXPECT_FALSE(t.mentions("frtest::mark"));
        // The busy goroutines were created at the start: named from their start/stop records.
        EXPECT_TRUE(t.mentions("frtest::start_busy_echo"))
            << "window: " << t.events.size() << " events over " << (t.end_ns - t.start_ns) / 1e6
            << " ms, " << t.with("X").size() << " slices, dropped " << t.dropped;
      }
    }
    EXPECT_GT(most, 0u);
    EXPECT_LE(most, kMaxBytes) << "the recorder's memory exceeded max_bytes";

    // The echo goroutines, created before the window, exit in it: named all the same.
    busy.stop();
    gocxx::test::join_goroutines();
    Trace t = window_now();
    EXPECT_EQ(t.recorder, "flight recorder");
    EXPECT_GT(t.overwritten, 0u);
    EXPECT_GE(t.start_ns, begin + 5'000'000'000) << "the window reaches back to the start";
    EXPECT_FALSE(t.mentions("frtest::mark")) << "events from the beginning are still there";
    bool echo_exit = false;
    for (const auto* x : t.with("X")) {
      echo_exit |= Trace::str(*x, "name").find("frtest::start_busy_echo") != std::string::npos &&
                   Trace::str(x->at("args"), "end") == "exit";
    }
    EXPECT_TRUE(echo_exit);
    EXPECT_LE(gocxx::trace::flight_recorder_stats().bytes, kMaxBytes);
    gocxx::trace::stop_flight_recorder();
    EXPECT_FALSE(gocxx::trace::flight_recorder_enabled());
    EXPECT_EQ(gocxx::trace::flight_recorder_stats().bytes, 0u);
  });
}

// Windows cut over and over while goroutines on every P and plain threads record, and a tiny
// min_age recycles chunks as fast as they fill: each is complete and valid (and TSan sees no
// race between the recorders and the copy).
TEST(FlightRecorder, WindowsCutWhileManyThreadsRecordAreValid) {
  run_with(4, [] {
    gocxx::trace::start_flight_recorder({.min_age = 1ms, .max_bytes = kMaxBytes});
    Busy busy(3);
    std::atomic<bool> stop{false};
    Chan<int> sink(64);
    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&stop, sink]() mutable {
        while (!stop.load(std::memory_order_relaxed)) sink.send(1);
      });
    }
    gocxx::go([sink]() mutable {
      while (sink.recv()) {
      }
    });
    constexpr int kWindows = 6;
    for (int i = 0; i < kWindows; ++i) {
      if (i % 3 == 2) {  // checking one takes longer than cutting it
        // A goroutine runs just before the cut. A window starts after the newest recycled event
        // and the plain threads recycle chunks fast: when every P happens to be descheduled for
        // that stretch (7 threads on 2 CPUs), it holds only the plain threads' events.
        Chan<int> ran;
        gocxx::go([ran]() mutable { ran.send(1); });
        ran.recv();
        Trace t = window_now();
        EXPECT_FALSE(t.with("X").empty());
        EXPECT_EQ(t.recorder, "flight recorder");
      } else {
        std::ostringstream out;
        EXPECT_GT(gocxx::trace::write_flight_recorder(out).events, 0u);
      }
    }
    stop.store(true);
    gocxx::blocking([&threads] {  // the receiver may be queued on this P
      for (auto& t : threads) t.join();
    });
    sink.close();
    busy.stop();
    EXPECT_EQ(gocxx::trace::flight_recorder_stats().windows_written,
              static_cast<std::uint64_t>(kWindows));
    gocxx::trace::stop_flight_recorder();
  });
}

// ---- triggers ---------------------------------------------------------------------------------

TEST(FlightRecorder, ApiWritesTheWindowToAFile) {
  std::string dir = temp_dir("api");
  run_with(2, [&] {
    gocxx::trace::start_flight_recorder({.max_bytes = kMaxBytes});
    Busy busy(1);
    gocxx::time::sleep(20ms);
    // Stopped before the mark: a busy ring of 1 MiB turns over in about 10 ms, so a thread
    // descheduled between mark() and the write (a loaded machine) would lose the mark's events.
    busy.stop();
    frtest::mark();
    std::string path = dir + "/window.json";
    std::int64_t before = now_ns();
    gocxx::trace::FlightWindow w = gocxx::trace::write_flight_recorder(path);
    EXPECT_GT(w.events, 0u);
    EXPECT_GE(w.end_ns, before);
    EXPECT_LE(w.start_ns, w.end_ns);
    Trace t = load_and_check(path);
    EXPECT_EQ(t.start_ns, w.start_ns);
    EXPECT_EQ(t.end_ns, w.end_ns);
    EXPECT_TRUE(t.mentions("frtest::mark"));
    EXPECT_EQ(gocxx::trace::flight_recorder_stats().last_path, path);
  });  // the end of the run stops it
  EXPECT_FALSE(gocxx::trace::flight_recorder_enabled());
  fs::remove_all(dir);
}

TEST(FlightRecorder, Sigusr2WritesAWindowIntoItsDirectory) {
  std::string dir = temp_dir("sigusr2");
  run_with(2, [&] {
    gocxx::trace::start_flight_recorder({.max_bytes = kMaxBytes, .dir = dir});
    struct sigaction current {};
    sigaction(SIGUSR2, nullptr, &current);
    EXPECT_NE(current.sa_handler, SIG_DFL) << "installed";
    Busy busy(1);
    gocxx::time::sleep(20ms);
    // To this thread: TSan runs a handler only when the receiving thread next calls into it,
    // and the runtime's idle threads wait in raw futex calls.
    ASSERT_EQ(::raise(SIGUSR2), 0);
    EXPECT_TRUE(
        eventually([] { return gocxx::trace::flight_recorder_stats().windows_written > 0; }));
    std::string path = gocxx::trace::flight_recorder_stats().last_path;
    EXPECT_THAT(path, HasSubstr(dir + "/gocxx-flight-" + std::to_string(::getpid()) + "-"));
    Trace t = load_and_check(path);
    EXPECT_EQ(t.recorder, "flight recorder");
    EXPECT_FALSE(t.with("X").empty());
    busy.stop();
    gocxx::trace::stop_flight_recorder();
    sigaction(SIGUSR2, nullptr, &current);
    EXPECT_EQ(current.sa_handler, SIG_DFL) << "given back";
  });
  fs::remove_all(dir);
}

TEST(FlightRecorder, Sigusr2HandledByTheProgramIsLeftAlone) {
  std::string dir = temp_dir("sigusr2_own");
  ::signal(SIGUSR2, SIG_IGN);
  run_with(1, [&] {
    gocxx::trace::start_flight_recorder({.dir = dir});
    struct sigaction current {};
    sigaction(SIGUSR2, nullptr, &current);
    EXPECT_EQ(current.sa_handler, SIG_IGN);
    gocxx::trace::stop_flight_recorder();
    sigaction(SIGUSR2, nullptr, &current);
    EXPECT_EQ(current.sa_handler, SIG_IGN);
  });
  ::signal(SIGUSR2, SIG_DFL);
  fs::remove_all(dir);
}

struct Fetched {
  int status = 0;
  std::string content_type;
  std::string body;
};

Fetched fetch(const std::string& url) {
  auto [resp, err] = gocxx::http::get(url);
  EXPECT_FALSE(err) << err;
  if (err) return {};
  auto [body, berr] = resp.body.read_all();
  EXPECT_FALSE(berr) << berr;
  return {resp.status_code, resp.header.get("Content-Type"), body};
}

TEST(FlightRecorder, HttpEndpointServesTheWindow) {
  run_with(2, [] {
    gocxx::http::ServeMux mux;
    gocxx::debug::register_handlers(mux);
    auto [ln, err] = gocxx::net::listen("tcp", "127.0.0.1:0");
    ASSERT_FALSE(err) << err;
    std::string base = "http://" + ln.addr().string();
    gocxx::http::Server srv;
    srv.handler = mux;
    Chan<gocxx::error> done(1);
    gocxx::go([&, ln = ln]() mutable { done.send(srv.serve(std::move(ln))); });

    Fetched off = fetch(base + "/debug/gocxx/flightrecorder");
    EXPECT_EQ(off.status, 503);
    EXPECT_THAT(off.body, HasSubstr("GOCXX_FLIGHT_RECORDER"));

    gocxx::trace::start_flight_recorder({.max_bytes = kMaxBytes});
    frtest::mark();
    Fetched on = fetch(base + "/debug/gocxx/flightrecorder");
    EXPECT_EQ(on.status, 200);
    EXPECT_EQ(on.content_type, "application/json");
    Trace t = check_trace(on.body, "GET /debug/gocxx/flightrecorder");
    EXPECT_EQ(t.recorder, "flight recorder");
    EXPECT_TRUE(t.mentions("frtest::mark"));

    // Go's trace endpoint works meanwhile: its trace is cut from the ring.
    Fetched traced = fetch(base + "/debug/pprof/trace?seconds=1");
    EXPECT_EQ(traced.status, 200);
    Trace tt = check_trace(traced.body, "GET /debug/pprof/trace");
    EXPECT_EQ(tt.recorder, "trace");
    EXPECT_TRUE(gocxx::trace::flight_recorder_enabled());

    gocxx::trace::stop_flight_recorder();
    (void)srv.close();
    EXPECT_EQ(*done.recv(), gocxx::http::err_server_closed);
  });
}

[[gnu::noinline]] void park_many(Chan<int> gate, int n) {
  for (int i = 0; i < n; ++i) {
    gocxx::go([gate]() mutable { gate.recv(); });
  }
}

TEST(FlightRecorder, LeakWatchdogWritesTheWindowOncePerEpisode) {
  std::string dir = temp_dir("watchdog");
  std::string report = dir + "/leaks.txt";
  run_with(2, [&] {
    // No dir: the window goes next to the report.
    gocxx::trace::start_flight_recorder({.max_bytes = kMaxBytes});
    gocxx::debug::LeakWatchdog dog({.threshold = 50, .interval = 5ms, .report_path = report});
    Chan<int> gate;
    park_many(gate, 100);
    ASSERT_TRUE(eventually([&] { return dog.stats().reports == 1; }));
    std::uint64_t samples = dog.stats().samples;
    EXPECT_TRUE(eventually([&] { return dog.stats().samples > samples + 5; }));
    gocxx::debug::WatchdogStats s = dog.stats();
    EXPECT_EQ(s.reports, 1u) << "one report, one window per episode";
    ASSERT_FALSE(s.last_trace_path.empty());
    EXPECT_THAT(s.last_trace_path, HasSubstr(dir + "/gocxx-leak-" + std::to_string(::getpid())));
    EXPECT_THAT(s.last_trace_path, ::testing::EndsWith("/trace.json"));
    std::ifstream in(report);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_THAT(text.str(), HasSubstr("flight recorder window: " + s.last_trace_path + "\n"));
    Trace t = load_and_check(s.last_trace_path);
    EXPECT_TRUE(t.mentions("park_many")) << "the leaking goroutines' creation is in the window";
    // The episode's directory has the rest of the leak analysis: the report analyses the dump
    // and the window, and names the leaking site and its wait reason.
    fs::path episode = fs::path(s.last_trace_path).parent_path();
    for (const char* f : {"report.md", "report.html", "goroutines.txt", "watchdog.txt"}) {
      EXPECT_TRUE(fs::exists(episode / f)) << f;
    }
    std::ifstream md(episode / "report.md");
    std::stringstream analysis;
    analysis << md.rdbuf();
    EXPECT_THAT(analysis.str(), HasSubstr("park_many"));
    EXPECT_THAT(analysis.str(), HasSubstr("chan receive"));
    EXPECT_THAT(analysis.str(), HasSubstr("threshold"));
    int episodes = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
      episodes += entry.path().filename().string().rfind("gocxx-leak-", 0) == 0;
    }
    EXPECT_EQ(episodes, 1);
    dog.stop();
    gate.close();
    gocxx::test::join_goroutines();
  });
  fs::remove_all(dir);
}

// ---- options, states, the environment -------------------------------------------------------

template <class E, class F>
std::string thrown(F f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "<nothing thrown>";
}

TEST(FlightRecorder, BadOptionsAndStatesFailClearly) {
  using gocxx::trace::start_flight_recorder;
  EXPECT_THAT(thrown<std::invalid_argument>([] { start_flight_recorder({.min_age = 0s}); }),
              HasSubstr("min_age must be from 1ms to 24h"));
  EXPECT_THAT(thrown<std::invalid_argument>([] { start_flight_recorder({.max_bytes = 0}); }),
              HasSubstr("max_bytes must be at least 1 MiB (1048576), got 0"));
  EXPECT_THAT(thrown<std::invalid_argument>(
                  [] { start_flight_recorder({.max_bytes = std::size_t{1} << 62}); }),
              HasSubstr("exceeds the machine's memory"));
  EXPECT_THAT(thrown<std::runtime_error>([] { start_flight_recorder({.dir = "/dev/null/x"}); }),
              HasSubstr("cannot create directory /dev/null/x"));
  EXPECT_FALSE(gocxx::trace::flight_recorder_enabled());
  EXPECT_THAT(thrown<std::logic_error>([] { gocxx::trace::write_flight_recorder("/tmp/x"); }),
              HasSubstr("the flight recorder is not running"));

  std::string dir = temp_dir("states");
  run_with(1, [&] {
    start_flight_recorder();
    EXPECT_THAT(thrown<std::logic_error>([] { start_flight_recorder(); }),
                HasSubstr("already running"));
    EXPECT_THAT(thrown<std::runtime_error>(
                    [] { gocxx::trace::write_flight_recorder("/dev/null/x.json"); }),
                HasSubstr("cannot open /dev/null/x.json: Not a directory"));
    gocxx::trace::stop_flight_recorder();
    gocxx::trace::stop_flight_recorder();  // idempotent

    gocxx::trace::start(dir + "/t.json");
    EXPECT_THAT(thrown<std::logic_error>([] { start_flight_recorder(); }),
                HasSubstr("a trace is active"));
    gocxx::trace::stop();
  });
  fs::remove_all(dir);
}

// A trace started under the flight recorder is cut from its ring, and outlives it.
TEST(FlightRecorder, TraceStartedUnderItCoversItsOwnSpan) {
  std::string dir = temp_dir("overlay");
  run_with(2, [&] {
    gocxx::trace::start_flight_recorder({.max_bytes = kMaxBytes});
    frtest::mark();
    std::int64_t begin = now_ns();
    gocxx::trace::start(dir + "/a.json");
    Busy busy(1);
    gocxx::time::sleep(10ms);
    gocxx::trace::stop();
    Trace a = load_and_check(dir + "/a.json");
    EXPECT_EQ(a.recorder, "trace");
    EXPECT_GE(a.start_ns, begin);
    EXPECT_FALSE(a.mentions("frtest::mark")) << "before the trace started";
    EXPECT_TRUE(gocxx::trace::flight_recorder_enabled());

    gocxx::trace::start(dir + "/b.json");
    gocxx::trace::stop_flight_recorder();  // the trace keeps the ring running
    EXPECT_TRUE(gocxx::trace::enabled());
    busy.stop();
    frtest::mark();
    gocxx::trace::stop();
    Trace b = load_and_check(dir + "/b.json");
    EXPECT_TRUE(b.mentions("frtest::mark"));
    gocxx::trace::start_flight_recorder();  // the recorder is free again
    gocxx::trace::stop_flight_recorder();
  });
  fs::remove_all(dir);
}

TEST(FlightRecorder, EnvironmentTurnsItOnForTheRun) {
  std::string dir = temp_dir("env");
  ::setenv("GOCXX_FLIGHT_RECORDER", dir.c_str(), 1);
  ::setenv("GOCXX_FLIGHT_RECORDER_MAX_MB", "3", 1);
  ::setenv("GOCXX_FLIGHT_RECORDER_MIN_AGE_MS", "2500", 1);
  run_with(2, [&] {
    gocxx::trace::FlightRecorderStats s = gocxx::trace::flight_recorder_stats();
    EXPECT_TRUE(s.enabled);
    EXPECT_EQ(s.options.dir, dir);
    EXPECT_EQ(s.options.max_bytes, std::size_t{3} << 20);
    EXPECT_EQ(s.options.min_age, 2500ms);
    Trace t = window_now();
    EXPECT_EQ(t.recorder, "flight recorder");
  });
  EXPECT_FALSE(gocxx::trace::flight_recorder_enabled());

  ::setenv("GOCXX_FLIGHT_RECORDER_MAX_MB", "lots", 1);
  ::testing::internal::CaptureStderr();
  run_with(1, [] { EXPECT_FALSE(gocxx::trace::flight_recorder_enabled()); });
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("GOCXX_FLIGHT_RECORDER=" + dir));
  EXPECT_THAT(err, HasSubstr("invalid GOCXX_FLIGHT_RECORDER_MAX_MB=lots"));
  EXPECT_THAT(err, HasSubstr("running without a flight recorder"));
  ::unsetenv("GOCXX_FLIGHT_RECORDER");
  ::unsetenv("GOCXX_FLIGHT_RECORDER_MAX_MB");
  ::unsetenv("GOCXX_FLIGHT_RECORDER_MIN_AGE_MS");
  fs::remove_all(dir);
}

}  // namespace
