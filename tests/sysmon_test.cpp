// sysmon (src/runtime/sysmon.hpp): a goroutine that holds its P without a scheduling point is
// counted (metric), marked in dumps and recorded in traces. Nothing here is timed: each test
// waits, with a generous hang guard, until sysmon has reported what it must.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "gocxx/debug.hpp"
#include "gocxx/gocxx.hpp"
#include "gocxx/metrics.hpp"
#include "gocxx/trace.hpp"
#include "runtime/stats.hpp"

using namespace std::chrono_literals;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

namespace {

std::uint64_t long_runs() {
  gocxx::detail::SchedStats ss;
  EXPECT_TRUE(gocxx::detail::sched_stats(ss));
  return ss.long_runs;
}

// A goroutine that computes without a scheduling point until told to stop.
struct Spinner {
  std::atomic<bool> stop{false};
  std::atomic<gocxx::GoroutineId> id{0};
  gocxx::sync::WaitGroup done;

  void start() {
    done.add(1);
    gocxx::go([this] {
      id = gocxx::goroutine_id();
      while (!stop.load(std::memory_order_relaxed)) {
      }
      done.done();
    });
  }
  void finish() {
    stop = true;
    done.wait();
  }
};

// Waits (parking, so the spinner keeps the other P) until sysmon has reported `before` + 1
// long runs; false after the hang guard.
bool wait_for_report(std::uint64_t before) {
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  while (long_runs() <= before) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    gocxx::time::sleep(1ms);
  }
  return true;
}

}  // namespace

TEST(Sysmon, ALongRunIsCountedAndShownInDumpsAndMetrics) {
  gocxx::run(
      [] {
        const std::uint64_t before = long_runs();
        Spinner spinner;
        spinner.start();
        ASSERT_TRUE(wait_for_report(before));

        bool marked = false;
        for (const auto& g : gocxx::debug::goroutines()) {
          if (g.id != spinner.id.load()) continue;
          EXPECT_EQ(g.state, gocxx::debug::GoroutineState::running);
          EXPECT_GE(std::chrono::steady_clock::now() - g.running_since, 10ms);
          marked = true;
        }
        EXPECT_TRUE(marked);
        std::ostringstream dump;
        gocxx::debug::write_goroutines(dump, 2);
        EXPECT_THAT(dump.str(),
                    ContainsRegex("goroutine " + std::to_string(spinner.id.load()) +
                                  " \\[running\\]:\n\tgoroutine running on other thread for [0-9]+ ms "
                                  "without a scheduling point; stack unavailable\n"
                                  "created by [^\n]+ in goroutine 1\n"));

        gocxx::metrics::Registry registry;
        gocxx::metrics::register_runtime_metrics(registry);
        std::ostringstream text;
        gocxx::metrics::write_text(text, registry);
        EXPECT_THAT(text.str(), ContainsRegex("\ngocxx_sched_long_running_total [1-9]"));

        spinner.finish();
      },
      {.procs = 2});
}

TEST(Sysmon, ALongRunIsRecordedInTheTrace) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("sysmon-trace-" + std::to_string(::getpid()) + ".json")).string();
  gocxx::run(
      [&] {
        gocxx::trace::start(path);
        const std::uint64_t before = long_runs();
        Spinner spinner;
        spinner.start();
        ASSERT_TRUE(wait_for_report(before));
        spinner.finish();
        gocxx::trace::stop();
        std::ifstream in(path);
        std::stringstream json;
        json << in.rdbuf();
        // Named with its creator (Spinner::start, or the test body it is inlined into).
        const std::string id = std::to_string(spinner.id.load());
        EXPECT_THAT(json.str(), ContainsRegex("\"name\":\"long run G" + id + " [^\"]+\",\"args\":\\{\"goid\":" + id +
                                              ",\"running_ms\":[0-9]+\\}"));
      },
      {.procs = 2});
  std::filesystem::remove(path);
}

TEST(Sysmon, GoroutinesThatParkAreNeverMarked) {
  // Every goroutine here parks within microseconds; none may carry a mark in a dump.
  gocxx::run(
      [] {
        gocxx::Chan<int> ch;
        gocxx::sync::WaitGroup wg;
        wg.add(1);
        gocxx::go([&] {
          for (int i = 0; i < 1000; ++i) ch.send(i);
          wg.done();
        });
        for (int i = 0; i < 1000; ++i) {
          EXPECT_EQ(*ch.recv(), i);
          if (i % 100 == 0) {
            for (const auto& g : gocxx::debug::goroutines()) {
              if (g.state != gocxx::debug::GoroutineState::running) {
                EXPECT_EQ(g.running_since, std::chrono::steady_clock::time_point{}) << g.id;
              }
            }
          }
        }
        wg.wait();
      },
      {.procs = 2});
}
