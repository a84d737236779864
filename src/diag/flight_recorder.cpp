// The flight recorder (gocxx/trace.hpp): the trace's recorder as a ring (trace_record.cpp) that
// keeps running, and windows cut from it on demand. Every trigger ends in
// write_flight_recorder: the API; SIGUSR2 (its handler only wakes a thread, as SIGQUIT's does)
// and the leak watchdog (write_episode_window) through write_window_into, a file in a
// directory; the HTTP endpoint into its response. GOCXX_FLIGHT_RECORDER turns it on for a run.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <ostream>
#include <stdexcept>
#include <string>

#include "diag/trace.hpp"
#include "diag/trace_internal.hpp"
#include "gocxx/trace.hpp"
#include "runtime/futex.hpp"
#include "runtime/scheduler.hpp"

namespace gocxx::diag {

namespace {

using trace::FlightRecorderOptions;

struct Flight {  // guarded by trace_control_lock
  bool on = false;
  FlightRecorderOptions options;
  std::uint64_t windows = 0;
  std::string last_path;
  bool sigusr2 = false;  // our handler is installed
};

Flight& flight() {
  static auto* f = new Flight;
  return *f;
}

std::atomic<bool> g_flight_on{false};

void validate(const FlightRecorderOptions& o) {
  auto fail = [](const std::string& what) {
    throw std::invalid_argument("gocxx::trace::start_flight_recorder: " + what);
  };
  using namespace std::chrono;
  if (o.min_age < milliseconds(1) || o.min_age > hours(24)) {
    fail("min_age must be from 1ms to 24h, got " + std::to_string(o.min_age.count()) + "ns");
  }
  if (o.max_bytes < (std::size_t{1} << 20)) {
    fail("max_bytes must be at least 1 MiB (1048576), got " + std::to_string(o.max_bytes));
  }
  auto memory = static_cast<std::size_t>(::sysconf(_SC_PHYS_PAGES)) *
                static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  if (o.max_bytes > memory) {
    fail("max_bytes " + std::to_string(o.max_bytes) + " exceeds the machine's memory (" +
         std::to_string(memory) + " bytes)");
  }
}

constexpr const char* kWriter = "gocxx::trace::write_flight_recorder";

void require_running() {
  if (!flight().on) {
    throw std::logic_error(std::string(kWriter) + ": the flight recorder is not running");
  }
}

// The flight recorder's window up to now (trace_control_lock held, the recorder running).
Window flight_window() {
  // Names of the goroutines alive before the cut: with those whose records are in the window,
  // every goroutine in it (see trace_json.cpp).
  std::unordered_map<std::uint64_t, Known> known;
  known_goroutines(known);
  Window w = recorder_window(0, false);
  w.known = std::move(known);
  w.recorder = "flight recorder";
  return w;
}

trace::FlightWindow written(const Window& w) {
  ++flight().windows;
  return {w.start_ns, w.end_ns, w.events.size()};
}

// ---- SIGUSR2 ------------------------------------------------------------------------------------

std::atomic<std::uint32_t> g_sigusr2{0};  // signals received
std::atomic<std::uint64_t> g_signal_windows{0};

void on_sigusr2(int) {
  int saved = errno;
  g_sigusr2.fetch_add(1, std::memory_order_release);
  detail::futex_wake(g_sigusr2, 1);  // a raw syscall: async-signal-safe
  errno = saved;
}

void write_on_signal() {
  std::string dir;
  {
    std::lock_guard ctl(trace_control_lock());
    dir = flight().on ? flight().options.dir : "";
  }
  if (dir.empty()) return;  // stopped meanwhile
  try {
    std::string name = "gocxx-flight-" + std::to_string(::getpid()) + "-" +
                       std::to_string(g_signal_windows.fetch_add(1) + 1) + ".json";
    std::string path = write_window_into(dir, name);
    std::fprintf(stderr, "gocxx: SIGUSR2: flight recorder window written to %s\n", path.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gocxx: SIGUSR2: %s\n", e.what());
  }
}

void start_signal_thread() {
  static std::once_flag once;
  std::call_once(once, [] {
    detail::start_internal_thread([] {
      std::uint32_t seen = 0;
      for (;;) {
        std::uint32_t now;
        while ((now = g_sigusr2.load(std::memory_order_acquire)) == seen) {
          detail::futex_wait(g_sigusr2, seen);
        }
        seen = now;  // signals that arrive while a window is written ask for one more
        write_on_signal();
      }
    }).detach();
  });
}

// Installs the handler unless the program handles (or ignores) SIGUSR2 itself.
bool install_sigusr2() {
  struct sigaction current {};
  if (sigaction(SIGUSR2, nullptr, &current) != 0 || (current.sa_flags & SA_SIGINFO) ||
      current.sa_handler != SIG_DFL) {
    return false;
  }
  start_signal_thread();
  struct sigaction action {};
  sigemptyset(&action.sa_mask);
  action.sa_handler = on_sigusr2;
  action.sa_flags = SA_RESTART;
  return sigaction(SIGUSR2, &action, nullptr) == 0;
}

void restore_sigusr2() {
  struct sigaction current {};
  if (sigaction(SIGUSR2, nullptr, &current) != 0 || current.sa_handler != on_sigusr2) return;
  struct sigaction action {};
  sigemptyset(&action.sa_mask);
  action.sa_handler = SIG_DFL;
  sigaction(SIGUSR2, &action, nullptr);
}

// ---- the environment ----------------------------------------------------------------------------

// The whole number in environment variable `name` (unset: fallback), from min to max.
long long env_number(const char* name, long long fallback, long long min, long long max) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  errno = 0;
  long long n = std::strtoll(v, &end, 10);
  if (*end != '\0' || errno == ERANGE || n < min || n > max) {
    throw std::invalid_argument("invalid " + std::string(name) + "=" + v +
                                ": want a whole number from " + std::to_string(min) + " to " +
                                std::to_string(max));
  }
  return n;
}

}  // namespace

bool flight_recorder_on_locked() { return flight().on; }

void flight_recorder_stop_locked() {
  Flight& f = flight();
  if (!f.on) return;
  if (f.sigusr2) restore_sigusr2();
  f = Flight{};
  g_flight_on.store(false, std::memory_order_relaxed);
  if (!trace::enabled()) recorder_stop();  // else a trace cut from the ring keeps it running
}

std::string write_window_into(const std::string& dir, const std::string& name) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw std::runtime_error("gocxx::trace: cannot create directory " + dir + ": " +
                             ec.message());
  }
  std::string path = dir + "/" + name;
  trace::write_flight_recorder(path);
  return path;
}

std::string write_episode_window(const std::string& report_path, std::uint64_t episode) {
  std::string dir;
  {
    std::lock_guard ctl(trace_control_lock());
    if (!flight().on) return "";
    dir = flight().options.dir;
  }
  if (dir.empty() && !report_path.empty()) {
    dir = std::filesystem::path(report_path).parent_path().string();
    if (dir.empty()) dir = ".";
  }
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    dir = tmp && *tmp ? tmp : "/tmp";
  }
  return write_window_into(dir + "/gocxx-leak-" + std::to_string(::getpid()) + "-" +
                               std::to_string(episode),
                           "trace.json");
}

void flight_run_begin() {
  const char* dir = std::getenv("GOCXX_FLIGHT_RECORDER");
  if (!dir || !*dir || trace::flight_recorder_enabled()) return;
  try {
    FlightRecorderOptions o;
    o.dir = dir;
    o.max_bytes = static_cast<std::size_t>(
                      env_number("GOCXX_FLIGHT_RECORDER_MAX_MB", o.max_bytes >> 20, 1, 1 << 20))
                  << 20;
    o.min_age = std::chrono::milliseconds(env_number(
        "GOCXX_FLIGHT_RECORDER_MIN_AGE_MS",
        std::chrono::duration_cast<std::chrono::milliseconds>(o.min_age).count(), 1,
        24 * 3600 * 1000));
    trace::start_flight_recorder(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gocxx: GOCXX_FLIGHT_RECORDER=%s: %s; running without a flight recorder\n",
                 dir, e.what());
  }
}

}  // namespace gocxx::diag

namespace gocxx::trace {

using namespace gocxx::diag;

void start_flight_recorder(const FlightRecorderOptions& options) {
  validate(options);
  std::lock_guard ctl(trace_control_lock());
  Flight& f = flight();
  if (f.on) {
    throw std::logic_error("gocxx::trace::start_flight_recorder: the flight recorder is already "
                           "running");
  }
  if (recorder_on()) {
    throw std::logic_error("gocxx::trace::start_flight_recorder: a trace is active (started by "
                           "gocxx::trace::start or GOCXX_TRACE); stop it first");
  }
  if (!options.dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.dir, ec);
    if (ec) {
      throw std::runtime_error("gocxx::trace::start_flight_recorder: cannot create directory " +
                               options.dir + ": " + ec.message());
    }
  }
  recorder_start({.max_bytes = options.max_bytes,
                  .ring = true,
                  .min_age_ns = std::chrono::nanoseconds(options.min_age).count(),
                  .live_windows = true});
  f.on = true;
  f.options = options;
  f.sigusr2 = !options.dir.empty() && install_sigusr2();
  g_flight_on.store(true, std::memory_order_relaxed);
}

void stop_flight_recorder() {
  std::lock_guard ctl(trace_control_lock());
  flight_recorder_stop_locked();
}

bool flight_recorder_enabled() { return g_flight_on.load(std::memory_order_relaxed); }

FlightWindow write_flight_recorder(const std::string& path) {
  std::lock_guard ctl(trace_control_lock());
  require_running();
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (!file) {
    throw std::runtime_error(std::string(kWriter) + ": cannot open " + path + ": " +
                             std::strerror(errno));
  }
  Window w = flight_window();
  write_window_to_file(w, file, path, kWriter);
  flight().last_path = path;
  return written(w);
}

FlightWindow write_flight_recorder(std::ostream& out) {
  std::lock_guard ctl(trace_control_lock());
  require_running();
  Window w = flight_window();
  bool ok = write_trace_json(w, [&out](std::string_view data) {
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    return out.good();
  });
  if (!ok) throw std::runtime_error(std::string(kWriter) + ": writing to the stream failed");
  return written(w);
}

FlightRecorderStats flight_recorder_stats() {
  std::lock_guard ctl(trace_control_lock());
  const Flight& f = flight();
  if (!f.on) return {};
  return {.enabled = true,
          .options = f.options,
          .bytes = recorder_bytes(),
          .windows_written = f.windows,
          .last_path = f.last_path};
}

}  // namespace gocxx::trace
