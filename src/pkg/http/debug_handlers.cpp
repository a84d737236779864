// gocxx::debug::register_handlers: Go's net/http/pprof endpoints (the ones whose data gocxx
// has), /debug/gocxx/leaks, /debug/gocxx/flightrecorder, and /metrics. Sensitive: they show
// every goroutine's stack and the process's metrics; register them on a loopback or otherwise
// protected server only.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gocxx/debug.hpp"
#include "gocxx/runtime.hpp"
#include "gocxx/http.hpp"
#include "gocxx/leakcheck.hpp"
#include "gocxx/metrics.hpp"
#include "gocxx/sync.hpp"
#include "gocxx/trace.hpp"
#include "gocxx/watchdog.hpp"

namespace gocxx::debug {

namespace {

constexpr int kMaxTraceSeconds = 60;

void plain_text(http::ResponseWriter& w) {
  w.header().set("Content-Type", "text/plain; charset=utf-8");
  w.header().set("X-Content-Type-Options", "nosniff");
}

// Go's pprof handlers read debug=N as an integer; anything else is 0.
int debug_level(http::Request& r) {
  std::string v = r.form_value("debug");
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  return (!v.empty() && *end == '\0' && n >= 0 && n <= 2) ? static_cast<int>(n) : 0;
}

void goroutine_profile(http::ResponseWriter& w, http::Request& r) {
  std::ostringstream out;
  int level = debug_level(r);
  if (level == 0) {
    write_goroutine_profile(out);
    w.header().set("Content-Type", "application/octet-stream");
    w.header().set("Content-Disposition", "attachment; filename=\"goroutine\"");
  } else {
    write_goroutines(out, level);
    plain_text(w);
  }
  (void)w.write(out.str());
}

void cmdline(http::ResponseWriter& w, http::Request&) {
  // Go's: os.Args joined by NUL bytes (/proc/self/cmdline ends with one more, which Go has not).
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string args((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!args.empty() && args.back() == '\0') args.pop_back();
  plain_text(w);
  (void)w.write(args);
}

// One trace at a time, as Go's (a second request fails while one runs).
gocxx::sync::Mutex g_trace_mu;

void trace_handler(http::ResponseWriter& w, http::Request& r) {
  std::string s = r.form_value("seconds");
  long seconds = s.empty() ? 1 : std::strtol(s.c_str(), nullptr, 10);
  if (seconds <= 0 || seconds > kMaxTraceSeconds) {
    http::error_reply(w, "Bad Request: seconds must be 1 to " + std::to_string(kMaxTraceSeconds),
                      http::status_bad_request);
    return;
  }
  if (!g_trace_mu.try_lock()) {
    http::error_reply(w, "Could not enable tracing: tracing is already enabled",
                      http::status_internal_server_error);
    return;
  }
  std::lock_guard lk(g_trace_mu, std::adopt_lock);
  if (trace::enabled()) {
    http::error_reply(w, "Could not enable tracing: tracing is already enabled",
                      http::status_internal_server_error);
    return;
  }
  char path[] = "/tmp/gocxx-trace-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) {
    http::error_reply(w, "Could not create the trace file", http::status_internal_server_error);
    return;
  }
  ::close(fd);
  trace::start(path);
  // The trace covers the next N seconds, or less if the client goes away.
  gocxx::select(gocxx::recv_case(time::after(std::chrono::seconds(seconds)), [] {}),
                gocxx::recv_case(r.context().done(), [] {}));
  trace::stop();
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ::unlink(path);
  // Chrome Trace Event JSON (ui.perfetto.dev), not Go's binary trace format.
  w.header().set("Content-Type", "application/json");
  w.header().set("Content-Disposition", "attachment; filename=\"trace.json\"");
  (void)w.write(data);
}

// The flight recorder's window (gocxx/trace.hpp), one request at a time: each copies the ring
// and writes up to a few hundred MB of JSON.
gocxx::sync::Mutex g_flight_mu;

void flight_recorder(http::ResponseWriter& w, http::Request&) {
  if (!trace::flight_recorder_enabled()) {
    http::error_reply(w,
                      "flight recorder is not running (start it with "
                      "GOCXX_FLIGHT_RECORDER=<dir> or gocxx::trace::start_flight_recorder)",
                      http::status_service_unavailable);
    return;
  }
  if (!g_flight_mu.try_lock()) {
    http::error_reply(w, "a flight recorder window is being written; try again",
                      http::status_service_unavailable);
    return;
  }
  std::lock_guard lk(g_flight_mu, std::adopt_lock);
  std::ostringstream out;
  try {
    gocxx::blocking([&out] { return trace::write_flight_recorder(out); });  // CPU-bound
  } catch (const std::logic_error& e) {  // stopped meanwhile
    http::error_reply(w, e.what(), http::status_service_unavailable);
    return;
  }
  w.header().set("Content-Type", "application/json");
  w.header().set("Content-Disposition", "attachment; filename=\"flight.json\"");
  (void)w.write(out.str());
}

void leaks(http::ResponseWriter& w, http::Request&) {
  std::string out = "goroutines: " + std::to_string(gocxx::num_goroutine()) + "\n";
  WatchdogStats s = leak_watchdog_stats();
  out += "watchdog: " + std::string(s.running ? "running" : "not running") +
         ", reports " + std::to_string(s.reports) + ", peak " + std::to_string(s.peak);
  if (!s.last_trigger_reason.empty()) out += ", last trigger: " + s.last_trigger_reason;
  out += "\n\n";
  // The leak check's view of the live process: every goroutine but this handler's and the
  // HTTP server's own (its accept loops and connections), which a service expects to see.
  leakcheck::Options options;
  options.ignore_any_function("gocxx::http::*");
  std::vector<leakcheck::Leak> found = leakcheck::find(options);
  out += found.empty() ? "no goroutines besides the HTTP server's\n" : leakcheck::describe(found);
  plain_text(w);
  (void)w.write(out);
}

// The default registry holds the runtime's metrics from its first use.
void metrics_handler(http::ResponseWriter& w, http::Request&) {
  std::ostringstream out;
  try {
    metrics::write_text(out);
  } catch (const std::exception& e) {  // a collector broke its promise (metrics.hpp)
    http::error_reply(w, std::string("metrics: ") + e.what(), http::status_internal_server_error);
    return;
  }
  w.header().set("Content-Type", std::string(metrics::kTextContentType));
  (void)w.write(out.str());
}

void index(http::ResponseWriter& w, http::Request& r) {
  if (r.url.path != "/debug/pprof/") {
    http::not_found(w, r);
    return;
  }
  std::string count = std::to_string(gocxx::num_goroutine());
  std::string page =
      "<html>\n<head>\n<title>/debug/pprof/</title>\n</head>\n<body>\n/debug/pprof/<br>\n"
      "<p>Set debug=1 as a query parameter to export in legacy text format</p>\n<br>\n"
      "Types of profiles available:\n<table>\n<thead><td>Count</td><td>Profile</td></thead>\n"
      "<tr><td>0</td><td><a href='cmdline?debug=1'>cmdline</a></td></tr>\n"
      "<tr><td>" + count + "</td><td><a href='goroutine?debug=1'>goroutine</a></td></tr>\n"
      "<tr><td>0</td><td><a href='trace?debug=1'>trace</a></td></tr>\n"
      "</table>\n<a href=\"goroutine?debug=2\">full goroutine stack dump</a>\n<br>\n"
      "<p>\nProfile Descriptions:\n<ul>\n"
      "<li><div class=profile-name>cmdline: </div> The command line invocation of the current program</li>\n"
      "<li><div class=profile-name>goroutine: </div> Stack traces of all current goroutines</li>\n"
      "<li><div class=profile-name>trace: </div> A trace of execution of the current program "
      "(Chrome Trace Event JSON for ui.perfetto.dev). You can specify the duration in the "
      "seconds GET parameter.</li>\n</ul>\n</p>\n</body>\n</html>\n";
  w.header().set("Content-Type", "text/html; charset=utf-8");
  (void)w.write(page);
}

}  // namespace

void register_handlers(http::ServeMux& mux) {
  mux.handle_func("/debug/pprof/", index);
  mux.handle_func("/debug/pprof/goroutine", goroutine_profile);
  mux.handle_func("/debug/pprof/cmdline", cmdline);
  mux.handle_func("/debug/pprof/trace", trace_handler);
  mux.handle_func("/debug/gocxx/leaks", leaks);
  mux.handle_func("/debug/gocxx/flightrecorder", flight_recorder);
  mux.handle_func("/metrics", metrics_handler);
}

}  // namespace gocxx::debug
