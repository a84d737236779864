// gocxx::debug leak watchdog: a plain thread that samples num_goroutine() and, when the count
// crosses a threshold or grows steadily, writes one leak-analysis report per episode: the top
// creation sites by count and by growth, their wait reasons and oldest wait, then the grouped
// goroutine dump (write_goroutines level 1): the rule "if goroutines > 5000, analyse" of the
// article on goroutine leaks this project started from, automated.
//
// Opt in by API (LeakWatchdog, or the process-wide start_leak_watchdog) or by environment,
// read when gocxx::run starts:
//   GOCXX_LEAK_THRESHOLD=5000        report when more than 5000 goroutines are alive
//   GOCXX_LEAK_GROWTH=100            report when the count grows by >= 100 goroutines/s ...
//   GOCXX_LEAK_GROWTH_SAMPLES=5      ... in each of 5 consecutive sampling intervals (default 5)
//   GOCXX_LEAK_INTERVAL_MS=1000      sampling interval (default 1000)
//   GOCXX_LEAK_REPORT=/path/file     append reports there (default: standard error)
// A bad value is reported on stderr, naming the variable, and the watchdog is not started.
// See docs/diagnostics.md, "Leak watchdog".
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace gocxx::debug {

struct WatchdogOptions {
  // Report when more than `threshold` goroutines are alive; 0: off. The episode ends when the
  // count falls to threshold * hysteresis or below; the next crossing reports again.
  int threshold = 0;
  double hysteresis = 0.9;
  // Report when the count grew by at least growth_per_second (per second of the interval) in
  // each of `growth_samples` consecutive intervals; 0: off. That episode ends after
  // `growth_samples` consecutive intervals without such growth.
  double growth_per_second = 0;
  int growth_samples = 5;
  // How often to sample (at least once a second by default; shorter for tests).
  std::chrono::milliseconds interval{1000};
  // Append reports to this file; empty: standard error.
  std::string report_path;
  // Creation sites listed in each table of a report.
  int top_sites = 10;
};

// What started the latest episode.
enum class WatchdogTrigger { none, threshold, growth };

struct WatchdogStats {
  std::uint64_t samples = 0;   // num_goroutine() readings taken
  std::uint64_t reports = 0;   // reports written (one per episode)
  int current = 0;             // goroutines at the latest sample
  int peak = 0;                // most goroutines seen at a sample
  bool in_episode = false;     // a trigger holds and has been reported
  WatchdogTrigger last_trigger = WatchdogTrigger::none;
  std::string last_trigger_reason;  // "threshold: 5001 goroutines > 5000", "growth: ..."
  // The flight recorder's window written for the latest episode (gocxx/trace.hpp), if it ran:
  // <dir>/gocxx-leak-<pid>-<n>/trace.json; the report names it too.
  std::string last_trace_path;
  bool running = false;
};

// One watchdog thread; stopped and joined by stop() or the destructor. Any number may run.
class LeakWatchdog {
 public:
  // Throws std::invalid_argument if an option is out of range or no trigger is enabled.
  explicit LeakWatchdog(WatchdogOptions options);
  ~LeakWatchdog();
  LeakWatchdog(const LeakWatchdog&) = delete;
  LeakWatchdog& operator=(const LeakWatchdog&) = delete;

  void stop();  // wakes and joins the thread; idempotent
  WatchdogStats stats() const;
  const WatchdogOptions& options() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
  std::thread thread_;
};

// The process-wide watchdog (the one the environment starts). start replaces a running one;
// stop stops it; stats are those of the running one (running == false if none).
void start_leak_watchdog(const WatchdogOptions& options);
void stop_leak_watchdog();
WatchdogStats leak_watchdog_stats();

// The options the GOCXX_LEAK_* variables ask for; nullopt if neither GOCXX_LEAK_THRESHOLD nor
// GOCXX_LEAK_GROWTH is set. Throws std::invalid_argument naming the variable on a bad value.
std::optional<WatchdogOptions> watchdog_options_from_env();

}  // namespace gocxx::debug
