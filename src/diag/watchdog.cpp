// The leak watchdog (gocxx/watchdog.hpp): a plain thread that samples num_goroutine() and
// writes one leak-analysis report per episode.
//
// Episodes. The threshold trigger holds from the first sample above the threshold until a
// sample at or below threshold * hysteresis. The growth trigger holds from the first window of
// `growth_samples` intervals that each grew at the given rate until `growth_samples`
// consecutive intervals that did not. An episode lasts while either holds; a report is written
// when one begins, so a leak that stays (or keeps growing) is reported once, and again only
// after it has gone away and come back.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <unistd.h>

#include "diag/trace.hpp"
#include "diag/watchdog.hpp"
#include "gocxx/debug.hpp"
#include "gocxx/report.hpp"
#include "gocxx/runtime.hpp"
#include "gocxx/watchdog.hpp"
#include "runtime/futex.hpp"
#include "runtime/goroutine.hpp"
#include "runtime/scheduler.hpp"

namespace gocxx::debug {

struct LeakWatchdog::State {
  WatchdogOptions options;
  std::atomic<std::uint32_t> stop_word{0};
  mutable std::mutex lock;
  WatchdogStats stats;  // guarded by lock
};

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<std::uint64_t> g_reports_total{0};  // by every watchdog (the metrics' counter)

void validate(const WatchdogOptions& o) {
  auto fail = [](const std::string& what) {
    throw std::invalid_argument("gocxx::debug::LeakWatchdog: " + what);
  };
  if (o.threshold < 0) fail("threshold must be >= 0, got " + std::to_string(o.threshold));
  if (!(o.growth_per_second >= 0) || !std::isfinite(o.growth_per_second)) {
    fail("growth_per_second must be a finite number >= 0");
  }
  if (o.threshold == 0 && o.growth_per_second == 0) {
    fail("enable a trigger: threshold > 0 or growth_per_second > 0");
  }
  if (!(o.hysteresis > 0 && o.hysteresis <= 1)) fail("hysteresis must be in (0, 1]");
  if (o.growth_samples < 1) fail("growth_samples must be >= 1");
  if (o.interval.count() <= 0) fail("interval must be > 0");
  if (o.top_sites < 1) fail("top_sites must be >= 1");
}

// ---- the report ------------------------------------------------------------------------------

std::string site_of(const Goroutine& g) {
  if (g.created_by.function.empty()) return "(main goroutine)";
  return g.created_by.function + " at " + (g.created_by.file.empty() ? "?" : g.created_by.file) +
         ":" + std::to_string(g.created_by.line);
}

struct Site {
  std::string name;
  int count = 0;
  int growth = 0;
  std::map<std::string, int> states;  // Goroutine::status() -> goroutines
  Clock::time_point oldest_wait{};    // earliest wait_since among the waiting ones
};

std::map<std::string, Site> group_by_site(const std::vector<Goroutine>& records) {
  std::map<std::string, Site> sites;
  for (const Goroutine& g : records) {
    Site& s = sites[site_of(g)];
    ++s.count;
    ++s.states[g.status()];
    if (g.state == GoroutineState::waiting && g.wait_since.time_since_epoch().count() != 0 &&
        (s.oldest_wait.time_since_epoch().count() == 0 || g.wait_since < s.oldest_wait)) {
      s.oldest_wait = g.wait_since;
    }
  }
  for (auto& [name, s] : sites) s.name = name;
  return sites;
}

std::string utc_now() {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  char out[80];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms.count()));
  return out;
}

void write_site_table(std::ostream& out, const std::vector<const Site*>& sites,
                      Clock::time_point now) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "  %7s %8s  ", "count", "growth");
  out << buf << "created by\n";
  for (const Site* s : sites) {
    std::snprintf(buf, sizeof buf, "  %7d %+8d  ", s->count, s->growth);
    out << buf << s->name << "\n                     ";
    std::vector<std::pair<std::string, int>> states(s->states.begin(), s->states.end());
    std::stable_sort(states.begin(), states.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    for (std::size_t i = 0; i < states.size(); ++i) {
      out << (i ? ", " : "") << states[i].second << " " << states[i].first;
    }
    if (s->oldest_wait.time_since_epoch().count() != 0) {
      double secs = std::chrono::duration<double>(now - s->oldest_wait).count();
      std::snprintf(buf, sizeof buf, "; oldest wait %.1fs", std::max(secs, 0.0));
      out << buf;
    }
    out << "\n";
  }
}

// Writes text to the report file (appending) or to stderr.
void emit(const std::string& path, const std::string& text) {
  if (!path.empty()) {
    if (std::FILE* f = std::fopen(path.c_str(), "a")) {
      bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
      ok = std::fclose(f) == 0 && ok;
      if (ok) return;
    }
    std::fprintf(stderr, "gocxx: leak watchdog: cannot write to %s (%s); report follows\n",
                 path.c_str(), std::strerror(errno));
  }
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

// Writes text to a new file; throws std::runtime_error naming the path.
void write_file(const std::string& path, const std::string& text) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  bool ok = f && std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (f) ok = std::fclose(f) == 0 && ok;
  if (!ok) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
}

// ---- the sampling thread ---------------------------------------------------------------------

class Monitor {
 public:
  Monitor(LeakWatchdog::State& state, std::map<std::string, Site> baseline)
      : s_(state), o_(state.options), previous_(std::move(baseline)) {}

  void run() {
    auto next = Clock::now();
    while (s_.stop_word.load(std::memory_order_acquire) == 0) {
      sample();
      next += o_.interval;
      auto now = Clock::now();
      if (next < now) next = now;  // fell behind (a slow report): do not sample in a burst
      while (s_.stop_word.load(std::memory_order_acquire) == 0 && (now = Clock::now()) < next) {
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(next - now).count();
        detail::futex_wait(s_.stop_word, 0, ns);
      }
    }
  }

 private:
  void sample() {
    int n = gocxx::num_goroutine();
    std::int64_t t = detail::nanotime();
    window_.push_back({n, t});
    while (window_.size() > static_cast<std::size_t>(o_.growth_samples) + 1) window_.pop_front();

    std::string reason;
    WatchdogTrigger trigger = WatchdogTrigger::none;
    if (o_.threshold > 0) {
      if (n > o_.threshold) {
        if (!threshold_on_) {
          trigger = WatchdogTrigger::threshold;
          reason = "threshold: " + std::to_string(n) + " goroutines > " +
                   std::to_string(o_.threshold);
        }
        threshold_on_ = true;
      } else if (n <= o_.threshold * o_.hysteresis) {
        threshold_on_ = false;
      }
    }
    if (o_.growth_per_second > 0 && window_.size() >= 2) {
      if (growing_window()) {
        if (!growth_on_ && trigger == WatchdogTrigger::none) {
          trigger = WatchdogTrigger::growth;
          reason = growth_reason();
        }
        growth_on_ = true;
        quiet_ = 0;
      } else if (growth_on_) {
        if (grew(window_.size() - 2)) {
          quiet_ = 0;
        } else if (++quiet_ >= o_.growth_samples) {
          growth_on_ = false;
        }
      }
    }
    bool episode = threshold_on_ || growth_on_;
    bool report = episode && !in_episode_;
    in_episode_ = episode;
    {
      std::lock_guard lk(s_.lock);
      ++s_.stats.samples;
      s_.stats.current = n;
      s_.stats.peak = std::max(s_.stats.peak, n);
      s_.stats.in_episode = episode;
      if (report) {
        s_.stats.last_trigger = trigger;
        s_.stats.last_trigger_reason = reason;
      }
    }
    if (report) {
      write_report(n, reason);
      g_reports_total.fetch_add(1, std::memory_order_relaxed);
      std::lock_guard lk(s_.lock);
      ++s_.stats.reports;
    }
  }

  // Interval i (window_[i] -> window_[i+1]) grew at least at the configured rate.
  bool grew(std::size_t i) const {
    auto [c0, t0] = window_[i];
    auto [c1, t1] = window_[i + 1];
    if (t1 <= t0 || c1 <= c0) return false;
    return (c1 - c0) / ((t1 - t0) / 1e9) >= o_.growth_per_second;
  }

  bool growing_window() const {
    if (window_.size() < static_cast<std::size_t>(o_.growth_samples) + 1) return false;
    for (std::size_t i = 0; i + 1 < window_.size(); ++i) {
      if (!grew(i)) return false;
    }
    return true;
  }

  std::string growth_reason() const {
    auto [c0, t0] = window_.front();
    auto [c1, t1] = window_.back();
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "growth: %d -> %d goroutines in %d intervals (%.0f/s; limit %g/s in each)",
                  c0, c1, o_.growth_samples, (c1 - c0) / ((t1 - t0) / 1e9),
                  o_.growth_per_second);
    return buf;
  }

  void write_report(int n, const std::string& reason) {
    // The flight recorder's window first: it ends where the episode began, before this
    // report's own work.
    std::string window;
    try {
      window = diag::write_episode_window(o_.report_path, g_reports_total.load() + 1);
      std::lock_guard lk(s_.lock);
      s_.stats.last_trace_path = window;
    } catch (const std::exception& e) {
      window = std::string("not written: ") + e.what();
    }
    std::vector<Goroutine> all = goroutines();
    std::vector<Goroutine> live;
    std::size_t abandoned = 0;
    for (Goroutine& g : all) {
      if (g.abandoned) {
        ++abandoned;
      } else {
        live.push_back(std::move(g));
      }
    }
    std::map<std::string, Site> sites = group_by_site(live);
    for (auto& [name, site] : sites) {
      auto before = previous_.find(name);
      site.growth = site.count - (before == previous_.end() ? 0 : before->second.count);
    }
    std::vector<const Site*> by_count, by_growth;
    for (const auto& [name, site] : sites) {
      by_count.push_back(&site);
      if (site.growth > 0) by_growth.push_back(&site);
    }
    std::stable_sort(by_count.begin(), by_count.end(),
                     [](const Site* a, const Site* b) { return a->count > b->count; });
    std::stable_sort(by_growth.begin(), by_growth.end(),
                     [](const Site* a, const Site* b) { return a->growth > b->growth; });
    auto top = static_cast<std::size_t>(o_.top_sites);
    if (by_count.size() > top) by_count.resize(top);
    if (by_growth.size() > top) by_growth.resize(top);

    ++reports_;
    int peak;
    {
      std::lock_guard lk(s_.lock);
      peak = s_.stats.peak;
    }
    std::ostringstream out;
    out << "==== gocxx leak watchdog report " << reports_ << " at " << utc_now() << " (pid "
        << ::getpid() << ") ====\n";
    out << "trigger: " << reason << "\n";
    if (!window.empty()) out << "flight recorder window: " << window << "\n";
    out << "goroutines: " << n << " (peak " << peak << "); threshold ";
    if (o_.threshold > 0) out << o_.threshold; else out << "off";
    out << "; growth limit ";
    if (o_.growth_per_second > 0) {
      out << o_.growth_per_second << "/s over " << o_.growth_samples << " samples";
    } else {
      out << "off";
    }
    out << "; sampled every " << o_.interval.count() << " ms\n";
    if (abandoned) out << "abandoned by earlier runs (not counted): " << abandoned << "\n";
    auto now = Clock::now();
    out << "\ntop creation sites by count:\n";
    write_site_table(out, by_count, now);
    out << "\ntop creation sites by growth since "
        << (reports_ == 1 ? "the watchdog started" : "the previous report") << ":\n";
    if (by_growth.empty()) {
      out << "  (none grew)\n";
    } else {
      write_site_table(out, by_growth, now);
    }
    out << "\n";
    write_goroutines(out, 1, live);
    out << "==== end of gocxx leak watchdog report " << reports_ << " ====\n";
    emit(o_.report_path, out.str());
    if (!window.empty() && window.rfind("not written", 0) != 0) write_episode_dir(window, out.str(), live);
    previous_ = std::move(sites);
  }

  // The episode's directory (where the flight recorder put trace.json) gets the rest of the
  // seed's leak analysis: this report, the full dump, and report.md / report.html, which
  // analyse both. Failures are reported and the watchdog goes on.
  void write_episode_dir(const std::string& trace_path, const std::string& watchdog_report,
                         const std::vector<Goroutine>& live) {
    std::string dir = std::filesystem::path(trace_path).parent_path().string();
    try {
      std::ostringstream dump;
      write_goroutines(dump, 2, live);
      write_file(dir + "/watchdog.txt", watchdog_report);
      write_file(dir + "/goroutines.txt", dump.str());
      report::Document doc("gocxx leak episode " + std::to_string(reports_) + " (pid " +
                           std::to_string(::getpid()) + ")");
      doc.paragraph("The leak watchdog's trigger, then the goroutine dump's analysis (goroutines.txt) "
                    "and the flight recorder's window (trace.json). watchdog.txt has the "
                    "watchdog's own report.");
      doc.code(watchdog_report.substr(0, watchdog_report.find("\n\n")));
      report::add_leak_analysis(doc, report::analyze_dump(dump.str()), o_.top_sites);
      report::add_trace_analysis(doc, report::analyze_trace(trace_path), o_.top_sites);
      doc.write(dir);
    } catch (const std::exception& e) {
      emit(o_.report_path, std::string("gocxx leak watchdog: episode report in ") + dir +
                               " not complete: " + e.what() + "\n");
    }
  }

  LeakWatchdog::State& s_;
  const WatchdogOptions& o_;
  std::map<std::string, Site> previous_;  // site counts at the previous report (or the start)
  std::deque<std::pair<int, std::int64_t>> window_;  // (count, ns), the last growth_samples+1
  bool threshold_on_ = false;
  bool growth_on_ = false;
  bool in_episode_ = false;
  int quiet_ = 0;  // consecutive intervals without growth while growth_on_
  std::uint64_t reports_ = 0;
};

std::map<std::string, Site> live_sites() {
  std::vector<Goroutine> all = goroutines();
  std::erase_if(all, [](const Goroutine& g) { return g.abandoned; });
  return group_by_site(all);
}

}  // namespace

// ---- LeakWatchdog ----------------------------------------------------------------------------

LeakWatchdog::LeakWatchdog(WatchdogOptions options) : state_(std::make_shared<State>()) {
  validate(options);
  state_->options = std::move(options);
  state_->stats.running = true;
  // Growth "since the watchdog started" counts from the goroutines alive now.
  thread_ = detail::start_internal_thread([state = state_, baseline = live_sites()]() mutable {
    Monitor(*state, std::move(baseline)).run();
  });
}

LeakWatchdog::~LeakWatchdog() { stop(); }

void LeakWatchdog::stop() {
  state_->stop_word.store(1, std::memory_order_release);
  detail::futex_wake(state_->stop_word, 1);
  if (thread_.joinable()) thread_.join();
  std::lock_guard lk(state_->lock);
  state_->stats.running = false;
}

WatchdogStats LeakWatchdog::stats() const {
  std::lock_guard lk(state_->lock);
  return state_->stats;
}

const WatchdogOptions& LeakWatchdog::options() const { return state_->options; }

// ---- the process-wide watchdog ---------------------------------------------------------------

namespace {

std::mutex g_global_lock;
LeakWatchdog* g_global = nullptr;  // guarded by g_global_lock

void replace_global(LeakWatchdog* next) {
  LeakWatchdog* old;
  {
    std::lock_guard lk(g_global_lock);
    old = std::exchange(g_global, next);
  }
  delete old;  // joins its thread, outside the lock
}

}  // namespace

void start_leak_watchdog(const WatchdogOptions& options) {
  auto* next = new LeakWatchdog(options);
  // Stopped before static destruction, which could pull what it samples from under it.
  static const bool registered = std::atexit([] { stop_leak_watchdog(); }) == 0;
  (void)registered;
  replace_global(next);
}

void stop_leak_watchdog() { replace_global(nullptr); }

WatchdogStats leak_watchdog_stats() {
  std::lock_guard lk(g_global_lock);
  return g_global ? g_global->stats() : WatchdogStats{};
}

// ---- the environment -------------------------------------------------------------------------

namespace {

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

[[noreturn]] void bad_env(const char* name, const char* value, const char* want) {
  throw std::invalid_argument(std::string("invalid ") + name + "=" + value + ": want " + want);
}

long env_int(const char* name, long min, long max) {
  const char* v = env(name);
  char* end = nullptr;
  errno = 0;
  long n = std::strtol(v, &end, 10);
  if (end == v || *end != '\0' || errno == ERANGE || n < min || n > max) {
    bad_env(name, v, ("a whole number from " + std::to_string(min) + " to " +
                      std::to_string(max)).c_str());
  }
  return n;
}

}  // namespace

std::optional<WatchdogOptions> watchdog_options_from_env() {
  const char* threshold = env("GOCXX_LEAK_THRESHOLD");
  const char* growth = env("GOCXX_LEAK_GROWTH");
  if (!threshold && !growth) {
    for (const char* other :
         {"GOCXX_LEAK_REPORT", "GOCXX_LEAK_INTERVAL_MS", "GOCXX_LEAK_GROWTH_SAMPLES"}) {
      if (env(other)) {
        throw std::invalid_argument(std::string(other) +
                                    " is set, but neither GOCXX_LEAK_THRESHOLD nor "
                                    "GOCXX_LEAK_GROWTH is");
      }
    }
    return std::nullopt;
  }
  WatchdogOptions o;
  if (threshold) o.threshold = static_cast<int>(env_int("GOCXX_LEAK_THRESHOLD", 1, 1 << 30));
  if (growth) {
    char* end = nullptr;
    double rate = std::strtod(growth, &end);
    if (end == growth || *end != '\0' || !std::isfinite(rate) || rate <= 0) {
      bad_env("GOCXX_LEAK_GROWTH", growth, "goroutines per second, a number > 0");
    }
    o.growth_per_second = rate;
  }
  if (env("GOCXX_LEAK_GROWTH_SAMPLES")) {
    o.growth_samples = static_cast<int>(env_int("GOCXX_LEAK_GROWTH_SAMPLES", 1, 1000));
  }
  if (env("GOCXX_LEAK_INTERVAL_MS")) {
    o.interval = std::chrono::milliseconds(env_int("GOCXX_LEAK_INTERVAL_MS", 1, 3600 * 1000));
  }
  if (const char* path = env("GOCXX_LEAK_REPORT")) o.report_path = path;
  return o;
}

}  // namespace gocxx::debug

namespace gocxx::diag {

std::uint64_t watchdog_reports_total() {
  return debug::g_reports_total.load(std::memory_order_relaxed);
}

bool start_watchdog_from_env_now() {
  try {
    std::optional<debug::WatchdogOptions> options = debug::watchdog_options_from_env();
    if (!options) return false;
    debug::start_leak_watchdog(*options);
    return true;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "gocxx: %s; leak watchdog not started\n", e.what());
    return false;
  }
}

void start_watchdog_from_env() {
  static std::once_flag once;
  std::call_once(once, [] { start_watchdog_from_env_now(); });
}

}  // namespace gocxx::diag
